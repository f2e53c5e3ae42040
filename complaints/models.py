"""Complaints (投诉) in three levels — front line, department head, general manager — each with its own
SLA clock; the beat sweeper moves a complaint whose clock ran out one level up, once per breach."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.models import TradeCategory
from renocrm.accounts.models import staff_member_field
from renocrm.tenancy.models import TenantModel

HOURS = [MinValueValidator(1), MaxValueValidator(24 * 60)]


class ComplaintSettings(TenantModel):
    """Who owns levels 2 and 3, and each level's clocks (hours to respond, hours to resolve)."""

    level1_respond_hours = models.PositiveSmallIntegerField(
        _("level 1: respond within (hours)"), default=4, validators=HOURS
    )
    level1_resolve_hours = models.PositiveSmallIntegerField(
        _("level 1: resolve within (hours)"), default=48, validators=HOURS
    )
    level2_respond_hours = models.PositiveSmallIntegerField(
        _("level 2: respond within (hours)"), default=2, validators=HOURS
    )
    level2_resolve_hours = models.PositiveSmallIntegerField(
        _("level 2: resolve within (hours)"), default=24, validators=HOURS
    )
    level3_respond_hours = models.PositiveSmallIntegerField(
        _("level 3: respond within (hours)"), default=1, validators=HOURS
    )
    level3_resolve_hours = models.PositiveSmallIntegerField(
        _("level 3: resolve within (hours)"), default=24, validators=HOURS
    )
    department_head = staff_member_field(_("department head (level 2)"))
    general_manager = staff_member_field(_("general manager (level 3)"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="complaint_settings_one_per_firm")]

    def hours(self, level: int) -> tuple[int, int]:
        """(respond, resolve) hours of a level."""
        return getattr(self, f"level{level}_respond_hours"), getattr(self, f"level{level}_resolve_hours")


class Complaint(TenantModel):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        PORTAL = "portal", _("Homeowner portal")
        CALLBACK = "callback", _("Callback")
        API = "api", _("Partner API")
        VISIT = "visit", _("In person")
        ONLINE = "online", _("Online / social media")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        QUALITY = "quality", _("Quality")
        SCHEDULE = "schedule", _("Schedule")
        ATTITUDE = "attitude", _("Service attitude")
        MATERIALS = "materials", _("Materials")
        PRICE = "price", _("Price")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("complaint status", "Open")
        IN_PROGRESS = "in_progress", pgettext_lazy("complaint status", "In progress")
        RESOLVED = "resolved", pgettext_lazy("complaint status", "Resolved")
        CLOSED = "closed", _("Closed")

    class Verdict(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        NOT_SATISFIED = "not_satisfied", _("Not satisfied")

    class RootCause(models.TextChoices):
        WORKMANSHIP = "workmanship", _("Workmanship")
        MATERIAL_DEFECT = "material_defect", _("Material defect")
        DESIGN = "design", _("Design")
        COMMUNICATION = "communication", _("Communication")
        SCHEDULING = "scheduling", _("Scheduling")
        SUPPLIER = "supplier", _("Supplier")
        CUSTOMER_EXPECTATION = "customer_expectation", _("Customer expectation")
        OTHER = "other", _("Other")

    ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    customer = models.ForeignKey("leads.Customer", on_delete=models.PROTECT, related_name="complaints")
    project = models.ForeignKey(
        "contracts.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    trade = models.CharField(_("trade"), max_length=30, choices=TradeCategory.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    description = models.TextField(_("description"))
    responsible = staff_member_field(_("responsible staff"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    level = models.PositiveSmallIntegerField(
        _("level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    owner = staff_member_field(_("handled by"))
    # The clocks of the current level; a reopening starts a new cycle with fresh clocks.
    cycle = models.PositiveSmallIntegerField(default=1)
    level_started_at = models.DateTimeField()
    respond_by = models.DateTimeField(_("respond by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    root_cause = models.CharField(_("root cause"), max_length=30, choices=RootCause.choices, blank=True)
    reported_at = models.DateTimeField(_("result reported to the customer"), null=True, blank=True)
    verdict = models.CharField(_("customer's verdict"), max_length=20, choices=Verdict.choices, blank=True)
    verdict_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        indexes = [
            models.Index(fields=["tenant", "status", "level", "-id"], name="complaint_tenant_status_level"),
            models.Index(fields=["tenant", "category"], name="complaint_tenant_category"),
            models.Index(fields=["tenant", "respond_by"], name="complaint_tenant_respond_by"),
            models.Index(fields=["tenant", "resolve_by"], name="complaint_tenant_resolve_by"),
            models.Index(fields=["tenant", "project"], name="complaint_tenant_project"),
            # The dashboards' complaints opened in a period.
            models.Index(fields=["tenant", "opened_at"], name="complaint_tenant_opened"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="complaint_level_1_to_3"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_category_display()}"


class ComplaintEntry(TenantModel):
    """The handling log: notes, responses, escalations, resolution, report and verdict, in order."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        NOTE = "note", _("Note")
        RESPONDED = "responded", _("Responded")
        ESCALATED = "escalated", _("Escalated")
        REASSIGNED = "reassigned", _("Reassigned")
        RESOLVED = "resolved", pgettext_lazy("complaint log", "Resolved")
        REPORTED = "reported", _("Result reported to the customer")
        VERDICT = "verdict", _("Customer's verdict")
        REOPENED = "reopened", _("Reopened")
        CLOSED = "closed", _("Closed")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField()
    text = models.TextField(_("text"), blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["complaint", "at", "id"]
        indexes = [models.Index(fields=["tenant", "complaint", "at"], name="complaint_entry_tenant_at")]


class ComplaintEscalation(TenantModel):
    """One breach of one level's clock in one cycle: the row is the exactly-once guard. At level 3 there is
    no level above; the breach is still recorded once and the general manager told."""

    class Breach(models.TextChoices):
        RESPOND = "respond", _("No response in time")
        RESOLVE = "resolve", _("Not resolved in time")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="escalations")
    cycle = models.PositiveSmallIntegerField()
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    breach = models.CharField(max_length=10, choices=Breach.choices)
    deadline = models.DateTimeField()
    at = models.DateTimeField(auto_now_add=True)
    notified = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "complaint", "cycle", "from_level"], name="complaint_escalation_once_per_level"
            )
        ]
