"""Warranty coverages started at handover, the warranty card (保修单) issued once the final payment is in,
repair requests (报修) with their SLAs, warranty-expiry reminders, and member care (greetings and
value-added offers)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from contracts.models import TradeCategory
from renocrm.accounts.models import staff_member_field
from renocrm.tenancy.models import TenantModel
from renocrm.uploads import upload_to


class Area(models.TextChoices):
    WHOLE_HOME = "whole_home", _("Whole home")
    KITCHEN = "kitchen", _("Kitchen")
    BATHROOM = "bathroom", _("Bathroom")
    BALCONY = "balcony", _("Balcony")
    LIVING_ROOM = "living_room", _("Living room")
    BEDROOM = "bedroom", _("Bedroom")
    OTHER = "other", _("Other area")


def default_reminder_days():
    return [30, 7]


class AftercareSettings(TenantModel):
    """A firm's repair SLAs, warranty-reminder lead times and member-care switches."""

    repair_response_hours = models.PositiveSmallIntegerField(
        _("respond to a repair within (hours)"), default=24, validators=[MinValueValidator(1)]
    )
    repair_on_site_hours = models.PositiveSmallIntegerField(
        _("be on site within (hours)"), default=72, validators=[MinValueValidator(1)]
    )
    warranty_reminder_days = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("remind before a warranty ends (days)"),
        default=default_reminder_days,
        size=5,
    )
    birthday_greetings = models.BooleanField(_("birthday greetings"), default=True)
    holiday_greetings = models.BooleanField(_("holiday greetings"), default=True)
    free_inspection_offer_days = models.PositiveSmallIntegerField(
        _("offer a free inspection this many days before a warranty ends (0 = never)"), default=60
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="aftercare_settings_one_per_firm")]


class CoverageRule(TenantModel):
    """One line of the firm's warranty policy. A rule with neither trade nor keywords covers every handed-over
    project; otherwise it applies when a line of the signed quotation is of its trade or names one of its
    keywords, in its area (a line naming no area counts for any area)."""

    name = models.CharField(_("name"), max_length=100)
    area = models.CharField(_("area"), max_length=20, choices=Area.choices, default=Area.WHOLE_HOME)
    trade = models.CharField(_("trade"), max_length=30, choices=TradeCategory.choices, blank=True)
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Comma-separated words in quotation lines.")
    )
    months = models.PositiveSmallIntegerField(_("duration (months)"), validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("coverage rule")
        # Also what stops two first requests from seeding the default policy twice.
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "position"],
                name="coverage_rule_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            )
        ]

    def __str__(self):
        return self.name


class Coverage(TenantModel):
    """One warranty of one project: what, where, from the handover date to its end."""

    project = models.ForeignKey("contracts.Project", on_delete=models.PROTECT, related_name="coverages")
    rule = models.ForeignKey(CoverageRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    area = models.CharField(_("area"), max_length=20, choices=Area.choices, default=Area.WHOLE_HOME)
    trade = models.CharField(_("trade"), max_length=30, choices=TradeCategory.choices, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("warranty coverage")
        ordering = ["project", "ends_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "project", "rule"], condition=Q(rule__isnull=False), name="coverage_once_per_rule"
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="coverage_dates_ordered"),
        ]
        indexes = [
            models.Index(fields=["tenant", "ends_on"], name="coverage_tenant_ends"),
            models.Index(fields=["tenant", "project"], name="coverage_tenant_project"),
        ]

    def __str__(self):
        return self.name


class WarrantyCard(TenantModel):
    """The warranty card (保修单) of a project, issued once both the handover and the final payment are done,
    whichever comes second. It shows the project's coverages, address and the firm's service phone as they
    are when it is read, so a reprint after an extended warranty includes it."""

    project = models.ForeignKey("contracts.Project", on_delete=models.PROTECT, related_name="warranty_cards")
    customer = models.ForeignKey("leads.Customer", on_delete=models.PROTECT, related_name="+")
    # The final payment that completed it (or was already in when the project was handed over).
    instalment = models.ForeignKey("contracts.Instalment", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("warranty card number"), max_length=30)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    issued_on = models.DateField(_("issued on"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("warranty card")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "project"], name="warranty_card_once_per_project"),
            models.UniqueConstraint(fields=["tenant", "number"], name="warranty_card_unique_number"),
            models.UniqueConstraint(fields=["tenant", "year", "sequence"], name="warranty_card_unique_sequence"),
        ]

    def __str__(self):
        return self.number


class WarrantyReminder(TenantModel):
    """That a coverage's expiry reminder for one lead time was handled: the row is the exactly-once guard.
    When several lead times fall due at once (a late start, a beat outage), only the nearest is sent and
    the others are recorded as skipped."""

    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_on = models.DateField()
    skipped = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "coverage", "days_before"], name="warranty_reminder_once_per_lead_time"
            )
        ]


class RepairRequest(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("repair status", "Open")
        RESPONDED = "responded", _("Responded")
        ON_SITE = "on_site", _("On site")
        RESOLVED = "resolved", pgettext_lazy("repair status", "Resolved")
        CONFIRMED = "confirmed", _("Confirmed by homeowner")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        STAFF = "staff", _("Staff")
        PORTAL = "portal", _("Homeowner portal")
        API = "api", _("Partner API")
        CALLBACK = "callback", _("Callback")

    class Category(models.TextChoices):
        """What kind of problem it is, as the homeowner or staff see it (the callback survey's defects)."""

        LEAK = "leak", _("Leak")
        CRACK = "crack", _("Cracks")
        UNEVEN = "uneven", _("Uneven walls / floors")
        SEAL = "seal", _("Door / window seal")
        OTHER = "other", _("Other defect")

    OPEN_STATUSES = (Status.OPEN, Status.RESPONDED, Status.ON_SITE)

    project = models.ForeignKey("contracts.Project", on_delete=models.PROTECT, related_name="repair_requests")
    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    trade = models.CharField(_("trade"), max_length=30, choices=TradeCategory.choices, blank=True)
    category = models.CharField(_("kind of problem"), max_length=20, choices=Category.choices, blank=True)
    description = models.TextField(_("description"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.STAFF)
    reported_at = models.DateTimeField(_("reported at"))
    # Decided when the request is opened, from the project's coverages on the reporting day, and again when
    # staff set the trade. The reason is kept as data (``aftercare.selectors.coverage_decide``) and put into
    # words in the reader's language.
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, null=True, blank=True, related_name="repairs")
    is_covered = models.BooleanField(_("under warranty"), default=False)
    coverage_reason = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    assigned_to = staff_member_field(_("assigned to"))
    respond_by = models.DateTimeField(_("respond by"))
    on_site_by = models.DateTimeField(_("on site by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    on_site_at = models.DateTimeField(_("on site at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    charge = models.DecimalField(_("charge"), max_digits=14, decimal_places=2, null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    homeowner_satisfied = models.BooleanField(_("homeowner satisfied"), null=True, blank=True)
    homeowner_comment = models.TextField(_("homeowner's comment"), blank=True)
    # Each SLA breach is raised once.
    response_breach_raised_at = models.DateTimeField(null=True, blank=True)
    on_site_breach_raised_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("repair request")
        indexes = [
            models.Index(fields=["tenant", "status", "-id"], name="repair_tenant_status"),
            models.Index(fields=["tenant", "project", "-id"], name="repair_tenant_project"),
            models.Index(fields=["tenant", "respond_by"], name="repair_tenant_respond_by"),
            models.Index(fields=["tenant", "on_site_by"], name="repair_tenant_on_site_by"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_area_display()}"

    @property
    def is_chargeable(self) -> bool:
        return not self.is_covered

    @property
    def coverage_explanation(self) -> str:
        return coverage_explanation(self.coverage_reason, is_covered=self.is_covered, coverage=self.coverage)


def _trade_only(coverage: str, trade: str) -> str:
    if trade == TradeCategory.WATERPROOFING:
        return gettext("%(coverage)s applies only to a waterproofing trade or a leak") % {"coverage": coverage}
    label = TradeCategory(trade).label if trade in TradeCategory.values else trade
    return gettext("%(coverage)s applies only to the trade %(trade)s") % {"coverage": coverage, "trade": label}


def _miss(miss: dict) -> str:
    name = miss.get("coverage", "")
    if "ended" in miss:
        return gettext("%(coverage)s ended %(day)s") % {"coverage": name, "day": miss["ended"]}
    if "starts" in miss:
        return gettext("%(coverage)s starts %(day)s") % {"coverage": name, "day": miss["starts"]}
    return _trade_only(name, miss.get("trade", ""))


def coverage_explanation(reason: dict, *, is_covered: bool, coverage: Coverage | None = None) -> str:
    """A repair's warranty decision in the reader's language: "Covered by Bathroom waterproofing until
    2031-05-03", or "Not covered: General works ended 2028-05-03; …" with why each of the area's
    coverages did not apply. Repairs decided before reasons were kept get the short form."""
    reason = reason or {}
    if is_covered:
        if "coverage" not in reason and coverage is None:
            return gettext("Covered by a warranty")
        name = reason.get("coverage") or coverage.name
        until = reason.get("ends_on") or coverage.ends_on.isoformat()
        return gettext("Covered by %(coverage)s until %(day)s") % {"coverage": name, "day": until}
    misses = reason.get("misses")
    if misses is None:
        return gettext("Not covered by a warranty on the day it was reported")
    if not misses:
        return gettext("Not covered: the project has no warranty for this area")
    reasons = pgettext("between reasons", "; ").join(_miss(miss) for miss in misses)
    return gettext("Not covered: %(reasons)s") % {"reasons": reasons}


class RepairPhoto(TenantModel):
    repair = models.ForeignKey(RepairRequest, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=upload_to, max_length=300)
    uploaded_at = models.DateTimeField(auto_now_add=True)


class RepairVisit(TenantModel):
    """One entry of a repair's visit log: a call back to the homeowner or a visit on site."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit on site")
        NOTE = "note", _("Note")

    repair = models.ForeignKey(RepairRequest, on_delete=models.CASCADE, related_name="visits")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("when"))
    note = models.TextField(_("note"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["repair", "at", "id"]


class CareOptOut(TenantModel):
    """A customer who asked for no greetings or offers."""

    customer = models.ForeignKey("leads.Customer", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "customer"], name="care_opt_out_once")]


class CareMessage(TenantModel):
    """A greeting or offer sent to a customer; the occasion (e.g. ``birthday:2027``) makes it once only."""

    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday greeting")
        HOLIDAY = "holiday", _("Holiday greeting")
        OFFER = "offer", _("Value-added service offer")

    customer = models.ForeignKey("leads.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occasion = models.CharField(max_length=80)
    body = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer", "occasion"], name="care_message_once_per_occasion")
        ]
