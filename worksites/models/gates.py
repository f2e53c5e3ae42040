"""The gates construction passes in the order the trade holds (隐蔽工程、闭水、预验收、竣工验收), the firm's
settings for them, and the overrides a firm admin records when a gate is lifted for a reason."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.outbox.templates import MessageTemplate
from renocrm.tenancy.models import TenantModel


class Gate(models.TextChoices):
    CONCEALED_WORKS = "concealed_works", _("Concealed works accepted before they are covered")
    WATERPROOFING = "waterproofing", _("Closed-water test passed before tiling over it")
    PRE_INSPECTION = "pre_inspection", _("QC pre-inspection passed before the final acceptance")
    HANDOVER = "handover", _("Every phase finished and every inspection passed before handover")


DEFAULT_INSPECTION_NOTICE = _(
    "{firm}: {kind} at {project} on {date}{time}. Please check {checks}. Details and sign-off: {url}"
)
# The notice before an inspection: the firm's own text (``ConstructionSettings.inspection_notice``) or this.
INSPECTION_NOTICE = MessageTemplate(
    default=DEFAULT_INSPECTION_NOTICE,
    placeholders={
        "firm": _("firm name"),
        "project": _("project"),
        "kind": _("inspection"),
        "date": _("date"),
        "time": _("time (when set)"),
        "checks": _("what to check"),
        "url": _("portal link"),
    },
    field="inspection_notice",
)


class ConstructionSettings(TenantModel):
    closed_water_hours = models.PositiveSmallIntegerField(
        _("closed-water test: minimum hours"), default=48, validators=[MinValueValidator(24), MaxValueValidator(168)]
    )
    pre_inspection_days_before = models.PositiveSmallIntegerField(
        _("QC pre-inspection: days before planned completion"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    inspection_notice_days = models.PositiveSmallIntegerField(
        _("inspection notice: days before (0: none)"), default=1, validators=[MaxValueValidator(14)]
    )
    inspection_notice = models.TextField(_("inspection notice text"), blank=True)
    # The crew who take part in an inspection get a reminder this many days before it.
    inspection_staff_reminder_days = models.PositiveSmallIntegerField(
        _("inspection reminder to staff: days before (0: none)"), default=1, validators=[MaxValueValidator(14)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="construction_settings_one_per_firm")]


class GateOverride(TenantModel):
    """A gate lifted on one worksite by a firm admin, with the reason; shown on the worksite and counted on
    the general manager's dashboard."""

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="gate_overrides")
    gate = models.CharField(_("gate"), max_length=30, choices=Gate.choices)
    reason = models.TextField(_("reason"))
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("lifted by")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("gate override")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "worksite", "gate"], name="gate_override_once"),
            models.CheckConstraint(condition=~Q(reason=""), name="gate_override_has_reason"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="gate_override_tenant_at")]

    def __str__(self):
        return str(self.get_gate_display())
