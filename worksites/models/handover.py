"""Handover: the item-by-item acceptance from the firm's checklist, rectification items re-checked by
their deadline, the documents the homeowner receives, and completion."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.tenancy.models import TenantModel
from renocrm.uploads import upload_to


class AcceptanceItemTemplate(TenantModel):
    """One line of a firm's acceptance checklist; a handover copies them, so edits reach the next one."""

    position = models.PositiveSmallIntegerField(_("order"))
    area = models.CharField(_("area"), max_length=50)
    item = models.CharField(_("check"), max_length=300)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "position"], name="acceptance_template_unique_position")
        ]

    def __str__(self):
        return self.item


class Handover(TenantModel):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Acceptance under way")
        COMPLETED = "completed", _("Handed over")

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="handovers")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    handed_over_on = models.DateField(_("handover date"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("handover")
        constraints = [models.UniqueConstraint(fields=["tenant", "worksite"], name="handover_one_per_worksite")]
        # The dashboards' handovers completed in a period.
        indexes = [models.Index(fields=["tenant", "status", "handed_over_on"], name="handover_tenant_status_on")]

    def __str__(self):
        return str(self.worksite)


class AcceptanceItem(TenantModel):
    class Result(models.TextChoices):
        PENDING = "pending", _("Not checked")
        PASSED = "passed", _("Passed")
        FAILED = "failed", pgettext_lazy("check result", "Failed")

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("order"))
    area = models.CharField(_("area"), max_length=50)
    item = models.CharField(_("check"), max_length=300)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.PENDING)
    note = models.TextField(_("note"), blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["handover", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "handover", "position"], name="acceptance_item_unique_position")
        ]

    def __str__(self):
        return self.item


class RectificationItem(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("rectification item status", "Open")
        FIXED = "fixed", _("Fixed, awaiting re-check")
        CLOSED = "closed", _("Re-checked and closed")

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="rectification_items")
    acceptance_item = models.ForeignKey(
        AcceptanceItem, on_delete=models.PROTECT, null=True, blank=True, related_name="rectification_items"
    )
    description = models.TextField(_("what to put right"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    fixed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)
    # Who reported it fixed: they never re-check their own work.
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    rechecked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recheck_note = models.TextField(_("re-check note"), blank=True)
    # Set by the overdue sweep, so each deadline is raised once.
    overdue_raised_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rectification item")
        indexes = [models.Index(fields=["tenant", "status", "deadline"], name="rectification_tenant_due")]

    def __str__(self):
        return self.description[:60]


class HandoverDocument(TenantModel):
    class Kind(models.TextChoices):
        AS_BUILT_DRAWINGS = "as_built_drawings", _("As-built drawings")
        CONCEALED_WORKS_RECORDS = "concealed_works_records", _("Concealed-works records")
        EQUIPMENT_MANUALS = "equipment_manuals", _("Equipment manuals")
        WARRANTY_CARD = "warranty_card", _("Warranty card")
        MATERIAL_CERTIFICATES = "material_certificates", _("Material certificates")
        OTHER = "other", _("Other")

    # What a handover must include; "other" is never missing. The firm's own warranty card is not among them:
    # aftercare issues it once the final payment is recorded (验收后三日内交纳尾款，到客服部开保修单); a
    # supplier's card may still be uploaded here.
    REQUIRED_KINDS = (
        Kind.AS_BUILT_DRAWINGS,
        Kind.CONCEALED_WORKS_RECORDS,
        Kind.EQUIPMENT_MANUALS,
        Kind.MATERIAL_CERTIFICATES,
    )

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    file = models.FileField(_("file"), upload_to=upload_to, max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("handover document")
        ordering = ["handover", "kind", "id"]
        constraints = [models.CheckConstraint(condition=~Q(file=""), name="handover_document_has_file")]

    def __str__(self):
        return self.title or str(self.get_kind_display())
