"""Writes for the construction gates: the firm's settings for them, and the override a firm admin records
when a gate is lifted on one worksite for a written reason. The checks themselves are reads, in
``worksites.selectors.gates``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from renocrm.accounts.roles import Role
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from worksites.models import ConstructionSettings, Gate, GateOverride, Worksite


def construction_settings_get() -> ConstructionSettings:
    found, _created = ConstructionSettings.objects.get_or_create()
    return found


@transaction.atomic
def construction_settings_update(*, closed_water_hours: int, pre_inspection_days_before: int) -> ConstructionSettings:
    errors = {}
    if not 24 <= closed_water_hours <= 168:
        errors["closed_water_hours"] = _("The water stands from 24 to 168 hours.")
    if not 1 <= pre_inspection_days_before <= 60:
        errors["pre_inspection_days_before"] = _("From 1 to 60 days before the planned completion.")
    if errors:
        raise ValidationError(errors)
    found = ConstructionSettings.objects.select_for_update().get(pk=construction_settings_get().pk)
    found.closed_water_hours, found.pre_inspection_days_before = closed_water_hours, pre_inspection_days_before
    found.save(update_fields=["closed_water_hours", "pre_inspection_days_before"])
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
