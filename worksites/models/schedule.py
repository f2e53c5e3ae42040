"""Construction: the worksite a signed contract opens, its crew, its phase schedule from the firm's
template, stage acceptance and the technical handover (交底)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.accounts.models import staff_member_field
from renocrm.tenancy.models import TenantModel


class PhaseKind(models.TextChoices):
    TECHNICAL_HANDOVER = "technical_handover", _("Technical handover")
    DEMOLITION = "demolition", _("Demolition")
    PLUMBING_ELECTRICAL = "plumbing_electrical", _("Plumbing & electrical")
    CONCEALED_WORKS_INSPECTION = "concealed_works_inspection", _("Concealed-works inspection")
    WATERPROOFING_TEST = "waterproofing_test", _("Waterproofing closed-water test")
    MASONRY = "masonry", _("Masonry / tiling")
    CARPENTRY = "carpentry", _("Carpentry")
    MID_TERM_INSPECTION = "mid_term_inspection", _("Mid-term inspection")
    PAINTING = "painting", _("Painting")
    INSTALLATION = "installation", _("Installation")
    QC_PRE_INSPECTION = "qc_pre_inspection", _("QC pre-inspection")
    COMPLETION_ACCEPTANCE = "completion_acceptance", _("Completion acceptance")
    OTHER = "other", _("Other")


class PhaseTemplate(TenantModel):
    """One step of a firm's standard schedule. A new worksite's phases are copied from these rows, so a
    firm that edits its template changes the next worksites, not the ones already running."""

    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=40, choices=PhaseKind.choices)
    name = models.CharField(_("name"), max_length=100)
    duration_days = models.PositiveSmallIntegerField(
        _("duration (days)"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    requires_acceptance = models.BooleanField(_("homeowner signs off (stage acceptance)"), default=False)
    # The gates: a phase that covers concealed works or waterproofing may start only once their inspection
    # has passed (隐蔽工程验收合格后方可封闭; 闭水试验合格后方可铺贴).
    covers_concealed_works = models.BooleanField(_("covers the concealed works"), default=False, db_default=False)
    covers_waterproofing = models.BooleanField(_("covers the waterproofing"), default=False, db_default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "position"], name="phase_template_unique_position"),
            models.CheckConstraint(condition=Q(duration_days__gte=1), name="phase_template_duration_positive"),
        ]

    def __str__(self):
        return self.name


class Worksite(TenantModel):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        HANDED_OVER = "handed_over", _("Handed over")

    project = models.ForeignKey("contracts.Project", on_delete=models.PROTECT, related_name="worksites")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="worksites")
    designer = staff_member_field(_("designer"))
    project_manager = staff_member_field(_("project manager / foreman"))
    qc_inspector = staff_member_field(_("QC inspector"))
    customer_service = staff_member_field(_("customer service agent"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("worksite")
        constraints = [models.UniqueConstraint(fields=["tenant", "project"], name="worksite_one_per_project")]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="worksite_tenant_status")]

    def __str__(self):
        return str(self.project)


class Phase(TenantModel):
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("phase status", "Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        ACCEPTED = "accepted", pgettext_lazy("phase status", "Accepted")

    # Still to come or under way: what schedules, boards and the portal's "coming up" count.
    UNFINISHED = (Status.PLANNED, Status.IN_PROGRESS)

    worksite = models.ForeignKey(Worksite, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=40, choices=PhaseKind.choices)
    name = models.CharField(_("name"), max_length=100)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    requires_acceptance = models.BooleanField(_("homeowner signs off"), default=False)
    covers_concealed_works = models.BooleanField(_("covers the concealed works"), default=False, db_default=False)
    covers_waterproofing = models.BooleanField(_("covers the waterproofing"), default=False, db_default=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_name = models.CharField(_("accepted by"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["worksite", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "worksite", "position"], name="phase_unique_position"),
            models.CheckConstraint(
                condition=Q(planned_end__gte=models.F("planned_start")), name="phase_planned_ordered"
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=False, actual_end__gte=models.F("actual_start")),
                name="phase_actual_ordered",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "planned_end"], name="phase_tenant_status_end")]

    def __str__(self):
        return self.name


class TechnicalHandover(TenantModel):
    """The on-site briefing (交底) before work starts: who was there, the state of what exists, and what
    the homeowner was given."""

    worksite = models.ForeignKey(Worksite, on_delete=models.CASCADE, related_name="technical_handovers")
    held_on = models.DateField(_("date"))
    homeowner_present = models.BooleanField(_("homeowner"), default=True)
    designer_present = models.BooleanField(_("designer"), default=True)
    foreman_present = models.BooleanField(_("foreman"), default=True)
    site_manager_present = models.BooleanField(_("site manager"), default=True)
    other_attendees = models.CharField(_("other attendees"), max_length=300, blank=True)
    existing_facilities = models.TextField(
        _("check of existing facilities"), help_text=_("Walls, floors, doors and windows, pipes, wiring, meters …")
    )
    drawings_given = models.BooleanField(_("drawings given"), default=False)
    quotation_given = models.BooleanField(_("quotation given"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "worksite"], name="technical_handover_once")]
