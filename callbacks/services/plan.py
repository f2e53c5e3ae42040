"""Writes for the callback plan (回访计划): the firm's callback settings and its plan, and the callbacks
written when a step's anchor happens (a project handed over, a construction phase finished). One
transaction each."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callbacks.models import DEPARTMENT_HEADS, SURVEY_SMS, Callback, CallbackSettings, CallbackStep, Method
from renocrm.accounts.staff import require_staff_role
from renocrm.calendar import add_months, add_working_days
from renocrm.tenancy.defaults import firm_copy_get
from worksites.models import PhaseKind, Worksite

Step = CallbackStep
HANDOVER, MILESTONE = Step.Anchor.HANDOVER, Step.Anchor.PHASE_COMPLETED
# The plan a new firm starts with: (name, anchor, phase kind for a milestone, unit, offset). Two calls during
# construction ask about the designer, the crew and QC while the works are fresh: after the plumbing and
# electrical works, and after masonry and carpentry (carpentry closes that stage in the default schedule).
DEFAULT_PLAN = [
    (
        gettext_lazy("During construction: plumbing & electrical done"),
        MILESTONE,
        PhaseKind.PLUMBING_ELECTRICAL,
        Step.Unit.WORKING_DAYS,
        2,
    ),
    (
        gettext_lazy("During construction: masonry & carpentry done"),
        MILESTONE,
        PhaseKind.CARPENTRY,
        Step.Unit.WORKING_DAYS,
        2,
    ),
    (gettext_lazy("First callback"), HANDOVER, "", Step.Unit.WORKING_DAYS, 3),
    (gettext_lazy("1 month after handover"), HANDOVER, "", Step.Unit.MONTHS, 1),
    (gettext_lazy("3 months after handover"), HANDOVER, "", Step.Unit.MONTHS, 3),
    (gettext_lazy("6 months after handover"), HANDOVER, "", Step.Unit.MONTHS, 6),
    (gettext_lazy("12 months after handover"), HANDOVER, "", Step.Unit.MONTHS, 12),
]


# Settings and the plan ------------------------------------------------------------------------------------


def callback_settings_get() -> CallbackSettings:
    settings, _created = CallbackSettings.objects.get_or_create()
    return settings


def _bounded_int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError({field: _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}})
    return number


SETTINGS_FIELDS = {
    "assignment",
    "max_attempts",
    "retry_after_hours",
    "sms_template",
    "survey_link_days",
    "follow_up_threshold",
    "follow_up_days",
    *DEPARTMENT_HEADS.values(),
}


@transaction.atomic
def callback_settings_save(**fields) -> CallbackSettings:
    """Change the firm's callback settings; only the fields given change. A department head is any active
    member of the firm, or nobody (then the firm's first active admin follows that department's feedback up)."""
    settings = callback_settings_get()
    settings = CallbackSettings.objects.select_for_update().get(pk=settings.pk)
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise TypeError(f"Unknown callback settings: {', '.join(sorted(unknown))}")
    errors = {}
    for field in DEPARTMENT_HEADS.values():
        if field in fields:
            try:
                require_staff_role(fields[field], field=field)
            except ValidationError as error:
                errors.update(error.message_dict)
            else:
                setattr(settings, field, fields[field])
    if errors:
        raise ValidationError(errors)
    if "follow_up_threshold" in fields:
        settings.follow_up_threshold = _bounded_int(fields["follow_up_threshold"], "follow_up_threshold", 1, 4)
    if "follow_up_days" in fields:
        settings.follow_up_days = _bounded_int(fields["follow_up_days"], "follow_up_days", 1, 30)
    if "assignment" in fields:
        if fields["assignment"] not in CallbackSettings.Assignment.values:
            raise ValidationError({"assignment": _("Choose how callbacks are assigned.")})
        settings.assignment = fields["assignment"]
    if "max_attempts" in fields:
        settings.max_attempts = _bounded_int(fields["max_attempts"], "max_attempts", 1, 10)
    if "retry_after_hours" in fields:
        settings.retry_after_hours = _bounded_int(fields["retry_after_hours"], "retry_after_hours", 1, 720)
    if "survey_link_days" in fields:
        settings.survey_link_days = _bounded_int(fields["survey_link_days"], "survey_link_days", 1, 365)
    if "sms_template" in fields:
        settings.sms_template = SURVEY_SMS.check((fields["sms_template"] or "").strip())
    settings.save()
    return settings


def _default_plan() -> list[CallbackStep]:
    return [
        CallbackStep(
            name=str(name),
            anchor=anchor,
            phase_kind=phase_kind,
            offset=offset,
            unit=unit,
            method=Method.PHONE,
            position=n,
        )
        for n, (name, anchor, phase_kind, unit, offset) in enumerate(DEFAULT_PLAN, start=1)
    ]


def plan_steps() -> list[CallbackStep]:
    """The firm's plan in display order, active and inactive steps; seeded from the default (in the firm's
    language) on first use."""
    steps = list(CallbackStep.objects.all())
    if not steps:
        # The position key is deferred, so two first uses at once would only clash at commit — failing a
        # handover. The settings row makes the second wait and then read the first one's plan.
        CallbackSettings.objects.select_for_update().filter(pk=callback_settings_get().pk).first()
        steps = firm_copy_get(CallbackStep, default=_default_plan)
    return sorted(steps, key=lambda step: (step.position, step.pk))


def _clean_step(row: dict, number: int) -> dict:
    name = str(row.get("name") or "").strip()
    label = name or _("Step %(number)s") % {"number": number}
    errors = {}
    if not name:
        errors["name"] = _("Step %(number)s: give the step a name.") % {"number": number}
    elif len(name) > 100:
        errors["name"] = _("“%(step)s”: a name has at most 100 characters.") % {"step": label}
    anchor = row.get("anchor") or Step.Anchor.HANDOVER
    unit = row.get("unit") or ""
    method = row.get("method") or Method.PHONE
    phase_kind = str(row.get("phase_kind") or "").strip()
    if anchor not in Step.Anchor.values:
        errors["anchor"] = _("“%(step)s”: choose what the step counts from.") % {"step": label}
    if unit not in Step.Unit.values:
        errors["unit"] = _("“%(step)s”: choose days, working days or months.") % {"step": label}
    if method not in Method.values:
        errors["method"] = _("“%(step)s”: choose phone, SMS or a visit.") % {"step": label}
    try:
        offset = int(row.get("offset"))
    except (TypeError, ValueError):
        offset = None
    if offset is None or not 0 <= offset <= 120:
        errors["offset"] = _("“%(step)s”: enter a number from 0 to 120.") % {"step": label}
    if anchor == Step.Anchor.PHASE_COMPLETED:
        if not phase_kind:
            errors["phase_kind"] = _("“%(step)s”: choose the construction phase it follows.") % {"step": label}
        elif phase_kind not in PhaseKind.values:
            errors["phase_kind"] = _("“%(step)s”: choose one of the construction phases.") % {"step": label}
        if unit == Step.Unit.MONTHS:
            errors["unit"] = _("“%(step)s”: count a milestone callback in days or working days.") % {"step": label}
    else:
        phase_kind = ""
    if unit == Step.Unit.MONTHS and offset == 0 and "offset" not in errors:
        errors["offset"] = _("“%(step)s”: a step counted in months comes at least 1 month later.") % {"step": label}
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "anchor": anchor,
        "phase_kind": phase_kind,
        "offset": offset,
        "unit": unit,
        "method": method,
        "is_active": bool(row.get("is_active", True)),
    }


@transaction.atomic
def plan_save(*, rows: list[dict]) -> list[CallbackStep]:
    """Save the firm's plan as listed: steps with an id are updated, the others created, and steps left out
    are deactivated (never deleted: callbacks already planned keep their step). Callbacks already written
    keep their due dates; the plan shapes the next handovers and milestones."""
    plan_steps()
    existing = {step.pk: step for step in CallbackStep.objects.select_for_update()}
    cleaned, seen = [], set()
    for number, row in enumerate(rows, start=1):
        values = _clean_step(row, number)
        pk = row.get("id")
        if pk not in (None, ""):
            try:
                pk = int(pk)
            except (TypeError, ValueError):
                pk = None
            if pk not in existing or pk in seen:
                raise ValidationError(_("Step %(number)s is not a step of this plan.") % {"number": number})
            seen.add(pk)
        else:
            pk = None
        cleaned.append((pk, values))
    position = 0
    saved = []
    for pk, values in cleaned:
        position += 1
        step = existing[pk] if pk else CallbackStep()
        for name, value in values.items():
            setattr(step, name, value)
        step.position = position
        step.save()
        saved.append(step)
    # Left out: kept for the callbacks that name them, switched off, and listed after the plan.
    for step in sorted((s for pk, s in existing.items() if pk not in seen), key=lambda s: (s.position, s.pk)):
        position += 1
        step.is_active, step.position = False, position
        step.save(update_fields=["is_active", "position"])
    return plan_steps()


# Writing the callbacks when their anchor happens ---------------------------------------------------------------


def due_on(step: CallbackStep, anchor_day: date) -> date:
    """The day a step falls due, counted from the anchor day each time (never chained from another step)."""
    if step.unit == Step.Unit.MONTHS:
        return add_months(anchor_day, step.offset)
    if step.unit == Step.Unit.WORKING_DAYS:
        return add_working_days(anchor_day, step.offset)
    return anchor_day + timedelta(days=step.offset)


def _write_callbacks(*, worksite: Worksite, steps: list[CallbackStep], anchor_day: date) -> int:
    if not steps:
        return 0
    project = worksite.project
    rows = [
        Callback(
            project=project,
            worksite=worksite,
            customer_id=project.customer_id,
            step=step,
            name=step.name,
            due_on=due_on(step, anchor_day),
            method=step.method,
            status=Callback.Status.SCHEDULED,
        )
        for step in steps
    ]
    # The unique key (firm, project, step) makes a repeated event write nothing twice.
    Callback.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def on_project_handed_over(event) -> None:
    """``project.handed_over``, in the handover's own transaction: the callbacks of every active handover
    step, due from the final acceptance (the handover date where a firm admin lifted that gate). A handover
    that rolls back leaves none."""
    payload = event.payload
    worksite = Worksite.objects.select_related("project").get(pk=payload["worksite_id"])
    steps = [s for s in plan_steps() if s.is_active and s.anchor == Step.Anchor.HANDOVER]
    anchor_day = date.fromisoformat(payload.get("accepted_on") or payload["handed_over_on"])
    _write_callbacks(worksite=worksite, steps=steps, anchor_day=anchor_day)


def on_phase_completed(event) -> None:
    """``worksite.phase_completed``, in the same transaction: the callbacks of the active milestone steps
    that follow this kind of phase, due from the phase's actual end."""
    payload = event.payload
    steps = [
        s
        for s in plan_steps()
        if s.is_active and s.anchor == Step.Anchor.PHASE_COMPLETED and s.phase_kind == payload["kind"]
    ]
    if not steps:
        return
    worksite = Worksite.objects.select_related("project").get(pk=payload["worksite_id"])
    _write_callbacks(worksite=worksite, steps=steps, anchor_day=date.fromisoformat(payload["actual_end"]))
