"""Customers (homeowner households), their properties, leads through the sales pipeline, follow-ups and
referral rewards."""

import builtins
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.accounts.models import staff_member_field
from renocrm.search import Finds, LastFour, grams_index, last_four_index
from renocrm.tenancy.models import TenantModel

from .validators import validate_mobile


class Customer(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=11, validators=[validate_mobile])
    other_contacts = models.TextField(_("other contacts"), blank=True, help_text=_("WeChat, spouse's phone …"))
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the person was erased on request or by the lost-lead retention rule: the row stays for the
    # firm's figures, with nothing left that identifies anyone.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        constraints = [models.UniqueConstraint(fields=["tenant", "mobile"], name="customer_unique_mobile")]
        indexes = [
            models.Index(fields=["tenant", "name"], name="customer_tenant_name"),
            # The header search and every list that finds customers (``leads.selectors.customer_match``).
            grams_index("name", "customer_name_grams"),
            grams_index("mobile", "customer_mobile_grams"),
            last_four_index("mobile", "customer_mobile_last_four"),
        ]

    def __str__(self):
        return self.name


class Property(TenantModel):
    class Condition(models.TextChoices):
        NEW = "new", _("New (bare shell)")
        OLD = "old", _("Old (renovation)")

    class Kind(models.TextChoices):
        APARTMENT = "apartment", _("Apartment")
        VILLA = "villa", _("Villa")
        TOWNHOUSE = "townhouse", _("Townhouse")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="properties")
    # The address in its parts; ``address`` is the one line composed from them (``compose_address``), which
    # masking, the reveal log and erasure work on. db_default: bulk loaders that name only ``address`` work.
    province = models.CharField(_("province"), max_length=20, blank=True, default="", db_default="")
    city = models.CharField(_("city"), max_length=20, blank=True, default="", db_default="")
    district = models.CharField(_("district / county"), max_length=20, blank=True, default="", db_default="")
    street = models.CharField(_("street and number"), max_length=300, blank=True, default="", db_default="")
    compound = models.CharField(_("residential compound"), max_length=100, blank=True, default="", db_default="")
    building_unit_room = models.CharField(
        _("building-unit-room"), max_length=50, blank=True, default="", db_default="", help_text=_("e.g. 3-1-602")
    )
    address = models.CharField(_("address"), max_length=600)
    area = models.DecimalField(
        _("area (m²)"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    layout = models.CharField(_("layout"), max_length=50, blank=True, help_text=_("e.g. 3 bedrooms 2 living rooms"))
    condition = models.CharField(_("new or old"), max_length=10, choices=Condition.choices, default=Condition.NEW)
    kind = models.CharField(_("property type"), max_length=20, choices=Kind.choices, default=Kind.APARTMENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("property")
        verbose_name_plural = _("properties")
        constraints = [models.CheckConstraint(condition=Q(area__gt=0), name="property_area_positive")]
        # Finding a home by its compound (the worksite's name) within the firm.
        indexes = [
            models.Index(fields=["tenant", "compound"], name="property_tenant_compound"),
            grams_index("address", "property_address_grams"),
        ]

    def __str__(self):
        return self.address

    def compose_address(self) -> str:
        """The one-line address of the parts: the region first and a space before the street, compound and
        room, so the masked form (its start, up to the first space) shows the city and no more."""
        region = "".join(dict.fromkeys(part for part in (self.province, self.city, self.district) if part))
        parts = (region, self.street, self.compound, self.building_unit_room)
        return " ".join(part for part in parts if part)

    @property
    def place(self) -> str:
        """Where the home is, as staff name it: "翠湖花园 3-1-602" (the street when there is no compound; an
        address kept only whole, as before the parts existed, as it is)."""
        base = self.compound or self.street
        if not base:
            return self.address
        return f"{base} {self.building_unit_room}".strip()

    def identifying_texts(self) -> list[str]:
        """What finds this home in free text, for erasure: the whole address, the compound with the room
        (with and without a space), the street, the room when it is long enough not to be any number."""
        texts = [self.address, self.street]
        if self.compound and self.building_unit_room:
            texts += [f"{self.compound} {self.building_unit_room}", f"{self.compound}{self.building_unit_room}"]
        if len(self.building_unit_room) >= 5:
            texts.append(self.building_unit_room)
        return [text for text in texts if text]


Customer._meta.get_field("name").register_lookup(Finds)
Customer._meta.get_field("mobile").register_lookup(Finds)
Customer._meta.get_field("mobile").register_lookup(LastFour)
Property._meta.get_field("address").register_lookup(Finds)


def property_label(property: Property | None, customer: Customer, *, max_length: int = 200) -> str:
    """A project's or worksite's name: "翠湖花园 3-1-602 · 王芳"; the customer's name alone without a property."""
    place = property.place if property is not None else ""
    if not place:
        return customer.name[:max_length]
    room_left = max(max_length - len(customer.name) - 3, 0)
    return f"{place[:room_left].rstrip()} · {customer.name}"[:max_length]


class Lead(TenantModel):
    class Channel(models.TextChoices):
        ONLINE = "online", _("Online inquiry")
        SHOWROOM = "showroom", _("Showroom visit")
        REFERRAL = "referral", _("Referral by a customer")
        PARTNER = "partner", _("Partner")
        PHONE = "phone", _("Phone")
        EVENT = "event", pgettext_lazy("lead channel", "Event")
        AFTERCARE = "aftercare", _("Existing customer (aftercare)")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        MEASURED = "measured", _("Measured")
        PROPOSAL = "proposal", _("Proposal")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.MEASURED, Status.PROPOSAL)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="leads")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, null=True, blank=True, related_name="leads")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    referrer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_leads",
        verbose_name=_("referrer"),
    )
    # Needs profile (需求).
    household = models.CharField(_("household members"), max_length=200, blank=True)
    living_habits = models.TextField(_("living habits"), blank=True)
    style_preferences = models.CharField(_("style preferences"), max_length=200, blank=True)
    budget_min = models.DecimalField(_("budget from"), max_digits=14, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(_("budget up to"), max_digits=14, decimal_places=2, null=True, blank=True)
    core_needs = models.TextField(_("core needs"), blank=True)
    assigned_to = staff_member_field(_("customer manager"))
    designer = staff_member_field(_("designer"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    lost_reason = models.TextField(_("reason lost"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        indexes = [
            models.Index(fields=["tenant", "status", "-id"], name="lead_tenant_status"),
            models.Index(fields=["tenant", "channel", "-id"], name="lead_tenant_channel"),
            models.Index(fields=["tenant", "assigned_to", "next_follow_up_on"], name="lead_tenant_follow_up"),
            models.Index(fields=["tenant", "customer"], name="lead_tenant_customer"),
            # The dashboards' "leads this period" figures.
            models.Index(fields=["tenant", "created_at"], name="lead_tenant_created"),
            # The retention sweep's lost leads still to anonymise, oldest first.
            models.Index(
                fields=["tenant", "updated_at"],
                condition=Q(status="lost", anonymised_at__isnull=True),
                name="lead_lost_to_anonymise",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True)
                | Q(budget_max__isnull=True)
                | Q(budget_min__lte=models.F("budget_max")),
                name="lead_budget_ordered",
            ),
            models.CheckConstraint(
                condition=Q(channel="referral", referrer__isnull=False)
                | (~Q(channel="referral") & Q(referrer__isnull=True)),
                name="lead_referrer_only_for_referrals",
            ),
        ]

    def __str__(self):
        return f"{self.customer} · {self.get_channel_display()}"

    @builtins.property  # the "property" field shadows the builtin in this class body
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class LeadStatusChange(TenantModel):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Lead.Status.choices)
    to_status = models.CharField(max_length=20, choices=Lead.Status.choices)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["lead", "at", "id"]
        # The funnel asks, per lead, whether it ever reached a status; the status leads so the same index
        # also serves reading all of a firm's changes to one status.
        indexes = [models.Index(fields=["tenant", "to_status", "lead"], name="status_change_tenant_to")]


class FollowUp(TenantModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        MESSAGE = "message", _("Message")
        OTHER = "other", _("Other")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("when"))
    outcome = models.TextField(_("outcome"))
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_contact_on = models.DateField(_("next contact"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "lead", "-at"], name="follow_up_tenant_lead")]


class ReferralReward(TenantModel):
    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Cash reward")
        GIFT = "gift", _("Gift")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("reward", "Pending")
        FULFILLED = "fulfilled", _("Fulfilled")

    referrer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="referral_rewards")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.AMOUNT)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    gift = models.CharField(_("gift"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "lead"], name="referral_reward_once_per_lead")]


class LeadSettings(TenantModel):
    """A firm's rules for leads."""

    referral_reward_kind = models.CharField(
        max_length=10, choices=ReferralReward.Kind.choices, default=ReferralReward.Kind.AMOUNT
    )
    referral_reward_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("500.00"))
    referral_reward_gift = models.CharField(max_length=200, blank=True)
    # A partner posting the same mobile again within this many days gets the open lead back.
    partner_duplicate_window_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="lead_settings_one_per_firm")]
