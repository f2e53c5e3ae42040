"""The reminder to the crew before each inspection (the day before by default; ``ConstructionSettings.
inspection_staff_reminder_days``, 0: none): the QC inspector, the project manager and — for the inspections
the designer signs — the designer. The homeowner's own notice is ``notices.py``. An hourly sweep from 09:00
firm time; each inspection is reminded once per person and date (a rescheduled inspection again)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from renocrm.outbox.models import Notification, StaffNotice
from renocrm.outbox.services import notifications_send_many, notify_staff_many
from renocrm.outbox.staff_notices import notice_readers
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from worksites.models import Inspection, Worksite
from worksites.selectors.inspections import inspection_staff
from worksites.services.gates import construction_settings_get

# The sweeper's name in renocrm.sweeps (its failures and backoff).
INSPECTION_REMINDER_SWEEP = "inspection-staff-reminders"
REMIND_FROM_HOUR = 9


def reminder_key(inspection: Inspection, user_id: int) -> str:
    return f"inspection-reminder:{inspection.pk}:{inspection.scheduled_on.isoformat()}:{user_id}"


def reachable(user) -> bool:
    """Whether a text or an e-mail can reach ``user`` (``staff_message``)."""
    return user.is_active and bool(user.phone or user.email)


def _owed(candidates: list[Inspection]) -> set[int]:
    """The inspections with a reminder still owed to one of their crew: the notice in the app to each active
    member of the firm (someone with neither phone nor e-mail included), the text or e-mail to each it can
    reach. Three queries, whatever the number."""
    crews = {inspection.pk: inspection_staff(inspection) for inspection in candidates}
    readers = notice_readers({user.pk for crew in crews.values() for user in crew if user.is_active})
    texts, notices = {}, {}
    for inspection in candidates:
        crew = crews[inspection.pk]
        texts[inspection.pk] = {reminder_key(inspection, user.pk) for user in crew if reachable(user)}
        notices[inspection.pk] = {reminder_key(inspection, user.pk) for user in crew if user.pk in readers}
    sent = set(
        Notification.objects.filter(idempotency_key__in=set().union(*texts.values())).values_list(
            "idempotency_key", flat=True
        )
    )
    noticed = set(
        StaffNotice.objects.filter(idempotency_key__in=set().union(*notices.values())).values_list(
            "idempotency_key", flat=True
        )
    )
    return {pk for pk in crews if texts[pk] - sent or notices[pk] - noticed}


def inspection_reminders_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Remind the crew of each pending inspection of a worksite under way dated within the firm's reminder
    days (today included while its time is still ahead: a beat that was down catches up). One bounded batch
    of the inspections still owed a reminder, sent together; should that fail, one by one. Returns how many
    inspections were reminded now."""
    now = now or timezone.now()
    sweep = sweep or Sweep(INSPECTION_REMINDER_SWEEP)
    days = construction_settings_get().inspection_staff_reminder_days
    local = timezone.localtime(now, require_current_tenant().zone)
    if not days or local.hour < REMIND_FROM_HOUR:
        return 0
    today = local.date()
    pending = (
        Inspection.objects.filter(
            result=Inspection.Result.PENDING,
            scheduled_on__gte=today,
            scheduled_on__lte=today + timedelta(days=days),
            worksite__status__in=(Worksite.Status.NOT_STARTED, Worksite.Status.IN_PROGRESS),
        )
        # An inspection earlier today is over: no reminder after the fact.
        .exclude(scheduled_on=today, scheduled_time__lte=local.time())
    )
    pending = pending.filter(
        Q(worksite__qc_inspector__isnull=False)
        | Q(worksite__project_manager__isnull=False)
        | Q(worksite__designer__isnull=False)
    )
    if sweep.held:
        pending = pending.exclude(pk__in=[int(key) for key in sweep.held])
    crew = ("worksite__project", "worksite__qc_inspector", "worksite__project_manager", "worksite__designer")
    candidates = list(pending.select_related(*crew).order_by("scheduled_on", "id"))
    owing = _owed(candidates)
    owed = [inspection.pk for inspection in candidates if inspection.pk in owing][: sweep.batch_size]
    if not owed:
        return 0
    due = list(
        Inspection.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=owed)
        .select_related(*crew, "worksite__project__property")
        .order_by("scheduled_on", "id")
    )
    return sweep.run_together(due, _remind)


def _remind(inspections: list[Inspection]) -> int:
    firm = require_current_tenant()
    notices = []
    with translation.override(firm.language):
        for inspection in inspections:
            worksite = inspection.worksite
            link = reverse("worksites:site", args=[worksite.pk])
            project = worksite.project
            context = {
                "kind": str(inspection.get_kind_display()),
                "project": project.name,
                "day": inspection.scheduled_on.isoformat(),
                "time": f" {time_format(inspection.scheduled_time, 'H:i')}" if inspection.scheduled_time else "",
                "address": project.property.address if project.property_id else "—",
            }
            subject = _("%(kind)s on %(day)s%(time)s: %(project)s") % context
            body = _("%(kind)s at %(project)s (%(address)s) on %(day)s%(time)s.") % context
            for user in inspection_staff(inspection):
                notices.append(
                    {
                        "user": user,
                        "subject": subject,
                        "body": f"{body} {django_settings.SITE_URL}{link}",
                        "idempotency_key": reminder_key(inspection, user.pk),
                        "link": link,
                    }
                )
    notifications_send_many(notify_staff_many(notices))
    return len(inspections)
