"""Design agreements, quotations with versions, contracts with their payment schedule, change orders."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts.models import staff_member_field
from renocrm.search import Finds, grams_index
from renocrm.tenancy.models import TenantModel
from renocrm.uploads import upload_to

MONEY = {"max_digits": 14, "decimal_places": 2}
CENT = Decimal("0.01")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class PackageType(models.TextChoices):
    HALF = "half", _("Half package")
    FULL = "full", _("Full package")
    WHOLE_HOUSE = "whole_house", _("Whole-house package")


class TradeCategory(models.TextChoices):
    DEMOLITION = "demolition", _("Demolition")
    PLUMBING_ELECTRICAL = "plumbing_electrical", _("Plumbing & electrical")
    MASONRY = "masonry", _("Masonry / tiling")
    WATERPROOFING = "waterproofing", _("Waterproofing")
    CARPENTRY = "carpentry", _("Carpentry")
    PAINTING = "painting", _("Painting")
    INSTALLATION = "installation", _("Installation")
    MAIN_MATERIALS = "main_materials", _("Main materials")
    OTHER = "other", _("Other")


class ContractSettings(TenantModel):
    """A firm's defaults for contracts: the payment schedule split, the change-order re-quote threshold and
    the size of change order that needs a firm admin's approval."""

    deposit_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("30"))
    midterm_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("60"))
    final_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"))
    final_due_days = models.PositiveSmallIntegerField(default=3)
    change_order_threshold_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    # A change order whose net change, up or down, is more than this share of the signed amount is approved
    # by a firm admin who did not write it.
    change_order_approval_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    # A new quotation version starts with these fees; the quoter may change them on the version.
    management_fee_percent = models.DecimalField(
        _("management fee %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=PERCENT,
    )
    tax_percent = models.DecimalField(
        _("tax %"), max_digits=5, decimal_places=2, default=Decimal("0"), db_default=Decimal("0"), validators=PERCENT
    )
    # Discounts (on lines and on the total) above this share of the quotation's subtotal are approved by a
    # manager who did not write the version before it can be sent.
    discount_approval_percent = models.DecimalField(
        _("discount needing approval above %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        db_default=Decimal("5"),
        validators=PERCENT,
    )
    # Reminders by SMS; 0 turns one off.
    measurement_reminder_days_before = models.PositiveSmallIntegerField(
        _("measurement reminder, days before"), default=1, db_default=1, validators=[MaxValueValidator(30)]
    )
    payment_reminder_days_before = models.PositiveSmallIntegerField(
        _("payment reminder, days before due"), default=3, db_default=3, validators=[MaxValueValidator(60)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="contract_settings_one_per_firm")]


class DesignAgreement(TenantModel):
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="design_agreements")
    fee = models.DecimalField(_("design / measurement fee"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    signed_on = models.DateField(_("signed on"))
    paid = models.BooleanField(_("paid"), default=False)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class MeasurementAppointment(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="measurement_appointments")
    scheduled_at = models.DateTimeField(_("scheduled at"))
    designer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class PriceItem(TenantModel):
    """A line of the firm's item library (材料/人工 price list) that quotations are priced from. A line copied
    into a quotation keeps its own price: changing or retiring the library item changes no quotation."""

    class Kind(models.TextChoices):
        LABOUR_MATERIAL = "labour_material", _("Labour and auxiliary materials")
        LABOUR = "labour", _("Labour")
        MATERIAL = "material", _("Auxiliary material")
        MAIN_MATERIAL = "main_material", _("Main material")

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("item"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.LABOUR_MATERIAL)
    trade = models.CharField(_("trade category"), max_length=30, choices=TradeCategory.choices)
    unit = models.CharField(_("unit"), max_length=20)
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    cost_price = models.DecimalField(
        _("cost price"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    description = models.TextField(_("description"), blank=True)
    # Main materials name what the customer gets.
    brand_model = models.CharField(_("brand / model"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trade", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="price_item_unique_code"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(cost_price__gte=0), name="price_item_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "is_active", "trade", "code"], name="price_item_tenant_active")]

    def __str__(self):
        return f"{self.code} {self.name}"


class PricePackage(TenantModel):
    """A firm's package (全包/半包/per-m² package) that fills a new quotation version with its lines, each
    a fixed quantity or a quantity per m² of the property's floor area; the quoter edits the lines after."""

    name = models.CharField(_("name"), max_length=100)
    package_type = models.CharField(_("package type"), max_length=20, choices=PackageType.choices)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="price_package_unique_name")]

    def __str__(self):
        return self.name


class PricePackageLine(TenantModel):
    class Basis(models.TextChoices):
        FIXED = "fixed", _("Fixed quantity")
        PER_AREA = "per_area", _("Per m² of floor area")

    package = models.ForeignKey(PricePackage, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    room = models.CharField(_("room / area"), max_length=50, blank=True)
    price_item = models.ForeignKey(PriceItem, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("quantity basis"), max_length=10, choices=Basis.choices, default=Basis.FIXED)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["package", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0), name="price_package_line_not_negative")]


class Quotation(TenantModel):
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="quotations")
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.title


class QuotationVersion(TenantModel):
    """One priced proposal. Editable while a draft; frozen once sent (a database trigger refuses changes
    to a sent version's items). The customer accepts exactly one version of a quotation."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        SUPERSEDED = "superseded", _("Superseded")

    class AcceptedVia(models.TextChoices):
        STAFF = "staff", _("Recorded by staff")
        HOMEOWNER_LINK = "homeowner_link", _("Homeowner's signed link")

    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who last changed its lines, fees or discount: like the author, they may not approve its discount.
    priced_by = staff_member_field(_("priced by"))
    # Fees and the discount on the total; the amounts below them are computed by the service (the one
    # rounding rule is in contracts.services.pricing) and frozen with the version once it is sent.
    management_fee_percent = models.DecimalField(
        _("management fee %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=PERCENT,
    )
    design_fee = models.DecimalField(
        _("design fee"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"), validators=NOT_NEGATIVE
    )
    transport_fee = models.DecimalField(
        _("transport / handling"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"), validators=NOT_NEGATIVE
    )
    other_fee = models.DecimalField(
        _("other fee"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"), validators=NOT_NEGATIVE
    )
    other_fee_label = models.CharField(_("other fee, what for"), max_length=100, blank=True, db_default="")
    tax_percent = models.DecimalField(
        _("tax %"), max_digits=5, decimal_places=2, default=Decimal("0"), db_default=Decimal("0"), validators=PERCENT
    )
    discount = models.DecimalField(
        _("discount on the total"),
        **MONEY,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
        validators=NOT_NEGATIVE,
    )
    discount_reason = models.CharField(_("discount reason"), max_length=300, blank=True, db_default="")
    # The sum of the lines after their own discounts; the fee and tax amounts; and what the lines cost the firm.
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"))
    line_discounts = models.DecimalField(
        _("line discounts"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00")
    )
    management_fee = models.DecimalField(
        _("management fee"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00")
    )
    tax = models.DecimalField(_("tax"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0.00"))
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"))
    # A discount above the firm's threshold is approved by a manager other than the version's author before
    # the version can be sent; any change to the lines or fees after that asks again.
    discount_approved_at = models.DateTimeField(null=True, blank=True)
    discount_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_via = models.CharField(max_length=20, choices=AcceptedVia.choices, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_name = models.CharField(_("signed by"), max_length=100, blank=True)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    # The homeowner's drawn signature as a PNG data URL.
    signature = models.TextField(blank=True)

    class Meta:
        ordering = ["quotation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "quotation", "number"], name="quotation_version_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "quotation"], condition=Q(status="accepted"), name="quotation_one_accepted_version"
            ),
        ]

    def __str__(self):
        return f"{self.quotation} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class QuotationItem(TenantModel):
    # What a comparison of two versions looks at, besides the room, trade category and item that match the lines.
    COMPARED_FIELDS = ("unit", "quantity", "unit_price", "brand_model", "discount", "amount")

    version = models.ForeignKey(QuotationVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    # Lines are grouped by room or area (客厅, 主卧, 厨房, 全屋 …) in the order rooms first appear.
    room = models.CharField(_("room / area"), max_length=50, blank=True, db_default="")
    category = models.CharField(_("trade category"), max_length=30, choices=TradeCategory.choices)
    # The library item the line was priced from, if any; the line keeps its own copy of everything.
    price_item = models.ForeignKey(PriceItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    code = models.CharField(_("code"), max_length=40, blank=True, db_default="")
    name = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    cost_price = models.DecimalField(
        _("cost price"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"), validators=NOT_NEGATIVE
    )
    brand_model = models.CharField(_("brand / model"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True, db_default="")
    # Amount off this line; ``amount`` is quantity × unit price to the cent, less the discount.
    discount = models.DecimalField(
        _("discount"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00"), validators=NOT_NEGATIVE
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(unit_price__gte=0) & Q(cost_price__gte=0) & Q(discount__gte=0),
                name="quotation_item_not_negative",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quotation_item_discount_within_line"),
        ]


class Project(TenantModel):
    """One renovation job for one customer and property, started by signing its contract; construction,
    handover and aftercare hang off it. A customer may have several over the years."""

    class Status(models.TextChoices):
        SIGNED = "signed", _("Signed")
        IN_CONSTRUCTION = "in_construction", _("In construction")
        HANDED_OVER = "handed_over", _("Handed over")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey("leads.Customer", on_delete=models.PROTECT, related_name="projects")
    property = models.ForeignKey(
        "leads.Property", on_delete=models.PROTECT, null=True, blank=True, related_name="projects"
    )
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SIGNED)
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status"], name="project_tenant_status"),
            # Worksites found by the compound and room they are named after.
            grams_index("name", "project_name_grams"),
        ]

    def __str__(self):
        return self.name


class Contract(TenantModel):
    PackageType = PackageType

    # One contract per project; a unique key with the tenant rather than a one-to-one field (see tenancy checks).
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=40)
    package_type = models.CharField(_("package type"), max_length=20, choices=PackageType.choices)
    quotation_version = models.ForeignKey(QuotationVersion, on_delete=models.PROTECT, related_name="contracts")
    original_amount = models.DecimalField(_("signed amount"), **MONEY)
    amount = models.DecimalField(_("current amount"), **MONEY)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    terms = models.TextField(_("terms"), blank=True)
    signed_on = models.DateField(_("signed on"))
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="contract_unique_number"),
            models.UniqueConstraint(fields=["tenant", "project"], name="contract_one_per_project"),
            models.CheckConstraint(
                condition=Q(planned_end__gte=models.F("planned_start")), name="contract_dates_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-signed_on"], name="contract_tenant_signed"),
            grams_index("number", "contract_number_grams"),
        ]

    def __str__(self):
        return self.number


Project._meta.get_field("name").register_lookup(Finds)
Contract._meta.get_field("number").register_lookup(Finds)


class MainMaterialLine(TenantModel):
    """A line of the main-material purchase contract (主材代购合同)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="main_materials")
    name = models.CharField(_("item"), max_length=200)
    brand_model = models.CharField(_("brand / model"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    amount = models.DecimalField(_("amount"), **MONEY)


class Instalment(TenantModel):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        MIDTERM = "midterm", _("Mid-term payment")
        FINAL = "final", _("Final payment")
        OTHER = "other", _("Other")

    class Trigger(models.TextChoices):
        ON_SIGNING = "on_signing", _("On signing")
        MID_INSPECTION = "mid_inspection", _("When the mid-term inspection passes")
        ACCEPTANCE = "acceptance", _("Days after completion acceptance")
        PHASE_ACCEPTANCE = "phase_acceptance", _("When a phase is accepted")
        FIXED_DATE = "fixed_date", _("On a fixed date")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="instalments")
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    trigger = models.CharField(_("falls due"), max_length=20, choices=Trigger.choices)
    due_days_after_trigger = models.PositiveSmallIntegerField(default=0)
    # With the phase-acceptance trigger: which phase must be accepted, one of the kinds construction registers
    # (contracts.phases); checked when the schedule is set.
    trigger_phase = models.CharField(_("phase"), max_length=40, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_amount = models.DecimalField(**MONEY, null=True, blank=True)
    # Who recorded the payment as received (finance or a firm admin); empty when a partner's key did.
    recorded_by = staff_member_field(_("recorded by"))

    class Meta:
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contract", "sequence"], name="instalment_unique_sequence"),
        ]
        indexes = [models.Index(fields=["tenant", "due_on"], name="instalment_tenant_due")]


class ChangeOrder(TenantModel):
    """Additions and removals (增减项) against the signed quotation."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="change_orders")
    number = models.PositiveIntegerField()
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    additions = models.DecimalField(**MONEY, default=Decimal("0.00"))
    removals = models.DecimalField(**MONEY, default=Decimal("0.00"))
    # Set when the change order needed a new quotation version: the version accepted for it.
    requote_version = models.ForeignKey(
        QuotationVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contract", "number"], name="change_order_unique_number"),
        ]

    @property
    def net(self) -> Decimal:
        return self.additions - self.removals


class ChangeOrderLine(TenantModel):
    class Kind(models.TextChoices):
        ADDITION = "addition", _("Addition")
        REMOVAL = "removal", _("Removal")

    change_order = models.ForeignKey(ChangeOrder, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    category = models.CharField(_("trade category"), max_length=30, choices=TradeCategory.choices)
    name = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    amount = models.DecimalField(_("amount"), **MONEY)


class SignedDocument(TenantModel):
    """The frozen copy of what the customer signed: a quotation version accepted, or a contract signed. What
    the PDF shows (``content``: the lines, amounts, names, times, address and signature, never a cost) is
    captured in the signing transaction; the PDF is made from it once, after commit (contracts.documents),
    and its SHA-256 is shown wherever the copy is offered. Neither changes afterwards; erasing the
    homeowner's data empties both and keeps the hash."""

    class Kind(models.TextChoices):
        QUOTATION = "quotation", _("Quotation")
        CONTRACT = "contract", _("Contract")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quotation_version = models.ForeignKey(
        QuotationVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="signed_documents"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="signed_documents"
    )
    content = models.JSONField(default=dict, blank=True)
    file = models.FileField(_("file"), upload_to=upload_to, max_length=300, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"))
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "quotation_version"],
                condition=Q(quotation_version__isnull=False),
                name="signed_document_one_per_version",
            ),
            models.UniqueConstraint(
                fields=["tenant", "contract"],
                condition=Q(contract__isnull=False),
                name="signed_document_one_per_contract",
            ),
            models.CheckConstraint(
                condition=Q(kind="quotation", quotation_version__isnull=False, contract__isnull=True)
                | Q(kind="contract", contract__isnull=False, quotation_version__isnull=True),
                name="signed_document_names_what_was_signed",
            ),
        ]

    @property
    def is_rendered(self) -> bool:
        return self.rendered_at is not None


class DocumentDelivery(TenantModel):
    """A quotation version sent to the customer: the homeowner's link by SMS or e-mail, queued in the outbox."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    quotation_version = models.ForeignKey(QuotationVersion, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Masked: the full address stays on the outbox message only.
    recipient = models.CharField(_("sent to"), max_length=254)
    notification = models.ForeignKey("outbox.Notification", on_delete=models.PROTECT, related_name="+")
    sent_by = staff_member_field(_("sent by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "notification"], name="document_delivery_one_per_message"),
        ]
