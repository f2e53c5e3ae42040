"""Writes for the firm's complaint settings: the hours of each level's clocks and the owners of levels 2
and 3."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.models import ComplaintSettings
from renocrm.accounts.staff import require_staff_role


def complaint_settings_get() -> ComplaintSettings:
    """The firm's complaint settings, created with the default hours the first time they are needed."""
    settings, _created = ComplaintSettings.objects.get_or_create()
    return settings


@transaction.atomic
def complaint_settings_update(*, department_head=None, general_manager=None, **hours: int) -> ComplaintSettings:
    """Set the hours of each level (``level<n>_respond_hours`` / ``level<n>_resolve_hours``) and the owners
    of levels 2 and 3. New hours apply to clocks started from now on."""
    settings = ComplaintSettings.objects.select_for_update().get(pk=complaint_settings_get().pk)
    errors = {}
    for level in (1, 2, 3):
        for kind in ("respond", "resolve"):
            name = f"level{level}_{kind}_hours"
            if name not in hours:
                continue
            value = hours.pop(name)
            if value is None or not 1 <= int(value) <= 24 * 60:
                errors[name] = _("Enter between 1 and 1440 hours.")
            else:
                setattr(settings, name, int(value))
    if hours:
        raise TypeError(f"unknown settings: {', '.join(hours)}")
    for level in (1, 2, 3):
        respond, resolve = settings.hours(level)
        checked = f"level{level}_respond_hours" not in errors and f"level{level}_resolve_hours" not in errors
        if checked and respond > resolve:
            errors[f"level{level}_respond_hours"] = _("The time to respond cannot be longer than the time to resolve.")
    for field, user in (("department_head", department_head), ("general_manager", general_manager)):
        try:
            require_staff_role(user, field=field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    settings.department_head, settings.general_manager = department_head, general_manager
    settings.full_clean()
    settings.save()
    return settings
