"""Writes for the construction gates: the firm's settings for them, and the override a firm admin records
when a gate is lifted on one worksite for a written reason. The checks themselves are reads, in
``worksites.selectors.gates``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renocrm.accounts.roles import Role
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from worksites.models import ConstructionSettings, Gate, GateOverride, Worksite
from worksites.models.gates import INSPECTION_NOTICE


def construction_settings_get() -> ConstructionSettings:
    found, _created = ConstructionSettings.objects.get_or_create()
    return found


# Each setting with the check it must pass and the message when it does not.
SETTING_RANGES = {
    "closed_water_hours": (24, 168, gettext_lazy("The water stands from 24 to 168 hours.")),
    "pre_inspection_days_before": (1, 60, gettext_lazy("From 1 to 60 days before the planned completion.")),
    "inspection_notice_days": (0, 14, gettext_lazy("From 0 (no notice) to 14 days before the inspection.")),
    "inspection_staff_reminder_days": (0, 14, gettext_lazy("From 0 (no reminder) to 14 days before the inspection.")),
}


@transaction.atomic
def construction_settings_update(**fields) -> ConstructionSettings:
    """Change any of the firm's construction settings (those not given keep their value): the numbers in
    their ranges, the inspection notice's text with only the placeholders it fills (empty: the default)."""
    unknown = set(fields) - {*SETTING_RANGES, "inspection_notice"}
    if unknown:
        raise TypeError(f"unknown construction settings: {', '.join(sorted(unknown))}")
    errors = {
        name: message
        for name, (low, high, message) in SETTING_RANGES.items()
        if name in fields and not low <= fields[name] <= high
    }
    if "inspection_notice" in fields:
        fields["inspection_notice"] = (fields["inspection_notice"] or "").strip()
        try:
            INSPECTION_NOTICE.check(fields["inspection_notice"])
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    found = ConstructionSettings.objects.select_for_update().get(pk=construction_settings_get().pk)
    for name, value in fields.items():
        setattr(found, name, value)
    found.save(update_fields=list(fields))
    return found


@transaction.atomic
def gate_override(*, worksite: Worksite, gate: str, reason: str, by) -> GateOverride:
    """Lift a gate on one worksite. Only a firm admin may, and only with a written reason; the override is
    kept (and audited), shown on the worksite and counted on the general manager's dashboard."""
    if gate not in Gate.values:
        raise ValidationError({"gate": _("Choose the gate to lift.")})
    try:
        require_staff_role(by, roles={Role.ADMIN}, field="gate")
    except ValidationError:
        raise ValidationError({"gate": _("Only a firm admin may lift a gate.")}) from None
    if by is None:
        raise ValidationError({"gate": _("Only a firm admin may lift a gate.")})
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Write why the gate is lifted (at least 10 characters).")})
    try:
        with transaction.atomic():
            override = GateOverride.objects.create(worksite=worksite, gate=gate, reason=reason, overridden_by=by)
    except IntegrityError:
        raise ValidationError({"gate": _("This gate is already lifted on this worksite.")}) from None
    event_emit(
        event_type="worksite.gate_overridden",
        payload={"worksite_id": worksite.pk, "project_id": worksite.project_id, "gate": gate, "reason": reason},
    )
    return override
