"""Inspections with the sign-offs each type needs, site patrols, site problems with their proposed
solutions, and material arrivals accepted before use."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.accounts.models import staff_member_field
from renocrm.tenancy.models import TenantModel
from renocrm.uploads import upload_to


class SignoffRole(models.TextChoices):
    HOMEOWNER = "homeowner", _("Homeowner")
    QC_INSPECTOR = "qc_inspector", _("QC inspector")
    SITE_MANAGER = "site_manager", _("Site manager")
    DESIGNER = "designer", _("Designer")


class Inspection(TenantModel):
    class Kind(models.TextChoices):
        CONCEALED_WORKS = "concealed_works", _("Concealed-works inspection")
        WATERPROOFING_TEST = "waterproofing_test", _("Waterproofing closed-water test")
        MID_TERM = "mid_term", _("Mid-term inspection")
        QC_PRE_INSPECTION = "qc_pre_inspection", _("QC pre-inspection")
        FINAL_ACCEPTANCE = "final_acceptance", _("Final acceptance")

    class Result(models.TextChoices):
        PENDING = "pending", _("Awaiting sign-off")
        PASSED = "passed", _("Passed")
        FAILED = "failed", pgettext_lazy("check result", "Failed")

    # Who must sign before an inspection may pass.
    REQUIRED_SIGNOFFS = {
        Kind.CONCEALED_WORKS: (SignoffRole.HOMEOWNER, SignoffRole.QC_INSPECTOR, SignoffRole.SITE_MANAGER),
        Kind.WATERPROOFING_TEST: (SignoffRole.HOMEOWNER, SignoffRole.QC_INSPECTOR, SignoffRole.SITE_MANAGER),
        # 客户、工长、设计师、质检员对工程进行中期验收.
        Kind.MID_TERM: (
            SignoffRole.HOMEOWNER,
            SignoffRole.QC_INSPECTOR,
            SignoffRole.SITE_MANAGER,
            SignoffRole.DESIGNER,
        ),
        Kind.QC_PRE_INSPECTION: (SignoffRole.QC_INSPECTOR, SignoffRole.SITE_MANAGER),
        Kind.FINAL_ACCEPTANCE: (
            SignoffRole.HOMEOWNER,
            SignoffRole.QC_INSPECTOR,
            SignoffRole.SITE_MANAGER,
            SignoffRole.DESIGNER,
        ),
    }

    # What the homeowner is asked to look at, in the notice before the inspection and on the portal.
    HOMEOWNER_CHECKS = {
        Kind.CONCEALED_WORKS: _(
            "the runs of pipes and wires against the drawings, the positions of sockets and switches, and the "
            "water pipes' pressure test — before they are covered"
        ),
        Kind.WATERPROOFING_TEST: _(
            "the water level after standing, and the ceilings and walls below and next door for any damp"
        ),
        Kind.MID_TERM: _(
            "the tiling (level, joints, no hollow tiles), the carpentry against the drawings and the work so far"
        ),
        Kind.QC_PRE_INSPECTION: _("nothing yet: our QC inspector checks the whole works before inviting you"),
        Kind.FINAL_ACCEPTANCE: _(
            "every room: walls and ceilings, floors and tiles, doors and windows, taps and drains, every socket "
            "and switch, the cabinets; bring the contract and the drawings"
        ),
    }

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="inspections")
    phase = models.ForeignKey(
        "worksites.Phase", on_delete=models.PROTECT, null=True, blank=True, related_name="inspections"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    scheduled_on = models.DateField(_("date"), null=True, blank=True)
    scheduled_time = models.TimeField(_("time"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.PENDING)
    findings = models.TextField(_("findings"), blank=True)
    # Required before a concealed-works inspection can pass: the as-laid circuit diagram.
    circuit_diagram = models.FileField(_("circuit diagram"), upload_to=upload_to, max_length=300, blank=True)
    # A closed-water test passes only after the water stood at least the firm's minimum hours.
    water_hours = models.PositiveSmallIntegerField(_("hours the water stood"), null=True, blank=True)
    # Set when the system scheduled it (the QC pre-inspection before planned completion), so a re-planned
    # schedule moves it with the completion date.
    auto_scheduled = models.BooleanField(default=False, db_default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        indexes = [
            models.Index(fields=["tenant", "worksite", "-id"], name="inspection_tenant_site"),
            # The agenda's days and the reminders' window.
            models.Index(fields=["tenant", "scheduled_on"], name="inspection_tenant_scheduled"),
        ]
        constraints = [
            # A failed inspection is redone by a new one; two open at once would split the signatures.
            models.UniqueConstraint(
                fields=["tenant", "worksite", "kind"],
                condition=Q(result="pending"),
                name="inspection_one_pending_per_kind",
            ),
        ]

    def __str__(self):
        return str(self.get_kind_display())

    @property
    def required_roles(self):
        return self.REQUIRED_SIGNOFFS[self.kind]

    @property
    def homeowner_checks(self) -> str:
        return str(self.HOMEOWNER_CHECKS[self.kind])


class MaterialArrival(TenantModel):
    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting acceptance")
        ACCEPTED = "accepted", pgettext_lazy("material arrival status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("material arrival status", "Rejected")

    REQUIRED_SIGNOFFS = (SignoffRole.HOMEOWNER, SignoffRole.QC_INSPECTOR)

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="material_arrivals")
    material = models.CharField(_("material"), max_length=200)
    brand_model = models.CharField(_("brand / model"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20)
    arrived_on = models.DateField(_("arrived on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AWAITING)
    notes = models.TextField(_("notes"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("material arrival")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="material_arrival_quantity_positive")]
        indexes = [models.Index(fields=["tenant", "worksite", "-id"], name="material_tenant_site")]

    def __str__(self):
        return self.material


class Signoff(TenantModel):
    """One party's signature on an inspection or a material arrival: staff sign in the app, the homeowner
    through the portal link (kept, with the address it came from)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, null=True, blank=True, related_name="signoffs")
    material_arrival = models.ForeignKey(
        MaterialArrival, on_delete=models.CASCADE, null=True, blank=True, related_name="signoffs"
    )
    role = models.CharField(_("signs as"), max_length=20, choices=SignoffRole.choices)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    signed_name = models.CharField(_("name"), max_length=100)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    portal_link = models.ForeignKey(
        "worksites.PortalLink", on_delete=models.PROTECT, null=True, blank=True, related_name="signoffs"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    note = models.CharField(_("remark"), max_length=300, blank=True)
    # Staff never sign for the homeowner: they record a signature given on paper, with a photo of the signed
    # page, and the sign-off says so.
    on_paper = models.BooleanField(_("signed on paper"), default=False, db_default=False)
    paper_photo = models.FileField(
        _("photo of the signed page"), upload_to=upload_to, max_length=300, blank=True, db_default=""
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(inspection__isnull=False, material_arrival__isnull=True)
                | Q(inspection__isnull=True, material_arrival__isnull=False),
                name="signoff_one_subject",
            ),
            models.UniqueConstraint(
                fields=["tenant", "inspection", "role"],
                condition=Q(inspection__isnull=False),
                name="signoff_once_per_inspection_role",
            ),
            models.UniqueConstraint(
                fields=["tenant", "material_arrival", "role"],
                condition=Q(material_arrival__isnull=False),
                name="signoff_once_per_arrival_role",
            ),
            models.CheckConstraint(condition=Q(on_paper=False) | ~Q(paper_photo=""), name="signoff_paper_has_photo"),
        ]


class SitePatrol(TenantModel):
    class Role(models.TextChoices):
        DESIGNER = "designer", _("Designer")
        FOREMAN = "foreman", _("Foreman")
        QC_INSPECTOR = "qc_inspector", _("QC inspector")

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="patrols")
    patrolled_on = models.DateField(_("date"))
    role = models.CharField(_("patrolled as"), max_length=20, choices=Role.choices)
    patrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    findings = models.TextField(_("findings"))
    issues_found = models.BooleanField(_("issues found"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site patrol")
        indexes = [models.Index(fields=["tenant", "worksite", "-patrolled_on"], name="patrol_tenant_site_on")]


class SiteProblem(TenantModel):
    """Something found on site that needs the homeowner's decision: staff propose at least two solutions
    and the homeowner chooses one (in the portal or with staff)."""

    class Status(models.TextChoices):
        AWAITING_CHOICE = "awaiting_choice", _("Awaiting the homeowner's choice")
        CHOSEN = "chosen", _("Solution chosen")
        RESOLVED = "resolved", _("Resolved")

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="problems")
    phase = models.ForeignKey("worksites.Phase", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(_("problem"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_CHOICE)
    raised_by = staff_member_field(_("raised by"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    chosen_solution = models.ForeignKey(
        "worksites.ProblemSolution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chosen_at = models.DateTimeField(_("chosen at"), null=True, blank=True)
    chosen_name = models.CharField(_("chosen by"), max_length=100, blank=True)
    chosen_via = models.ForeignKey(
        "worksites.PortalLink", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("site problem")
        indexes = [models.Index(fields=["tenant", "worksite", "status"], name="problem_tenant_site_status")]

    def __str__(self):
        return self.title


class ProblemSolution(TenantModel):
    problem = models.ForeignKey(SiteProblem, on_delete=models.CASCADE, related_name="solutions")
    position = models.PositiveSmallIntegerField()
    description = models.TextField(_("solution"))
    cost_change = models.DecimalField(_("cost to the homeowner"), max_digits=12, decimal_places=2, default=Decimal("0"))
    extra_days = models.SmallIntegerField(_("extra days"), default=0)

    class Meta:
        ordering = ["problem", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "problem", "position"], name="problem_solution_unique_position")
        ]

    def __str__(self):
        return self.description[:60]


class SiteMedia(TenantModel):
    """A photo or short video of a site problem or an inspection, through the same pipeline as progress
    photos: the type read from the bytes, photos re-encoded without EXIF or location, the thumbnail made by a
    Celery task afterwards, served only through signed links. The homeowner sees them on the portal."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        VIDEO = "video", _("Video")

    problem = models.ForeignKey(SiteProblem, on_delete=models.CASCADE, null=True, blank=True, related_name="media")
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, null=True, blank=True, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=upload_to, max_length=300)
    thumbnail = models.FileField(_("thumbnail"), upload_to=upload_to, max_length=300, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site photo")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(problem__isnull=False, inspection__isnull=True)
                | Q(problem__isnull=True, inspection__isnull=False),
                name="site_media_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "problem", "position"], name="site_media_tenant_problem"),
            models.Index(fields=["tenant", "inspection", "position"], name="site_media_tenant_inspection"),
        ]
