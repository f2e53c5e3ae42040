"""The notice before each inspection (default the day before): the homeowner learns when it is and what to
check, with their portal link, where the inspection is also listed. An hourly sweep, from 09:00 firm time,
once per inspection and date (a rescheduled inspection is announced again for its new date)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import time_format

from renocrm.outbox.models import Notification
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from worksites.models import Inspection, Worksite
from worksites.models.gates import INSPECTION_NOTICE
from worksites.services.gates import construction_settings_get
from worksites.services.portal import homeowner_text_send

# The sweeper's name in renocrm.sweeps (its failures and backoff).
INSPECTION_NOTICE_SWEEP = "inspection-notices"
# Texts to homeowners go out from this hour, firm time.
NOTICE_FROM_HOUR = 9


def notice_key(inspection: Inspection) -> str:
    return f"inspection-notice:{inspection.pk}:{inspection.scheduled_on.isoformat()}"


def inspection_notices_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Text the homeowner about each pending inspection of a worksite under way that takes place within the
    firm's notice days (today included: a beat that was down catches up). Returns how many went now."""
    now = now or timezone.now()
    sweep = sweep or Sweep(INSPECTION_NOTICE_SWEEP)
    firm_settings = construction_settings_get()
    local = timezone.localtime(now, require_current_tenant().zone)
    if not firm_settings.inspection_notice_days or local.hour < NOTICE_FROM_HOUR:
        return 0
    today = local.date()
    due = list(
        Inspection.objects.filter(
            result=Inspection.Result.PENDING,
            scheduled_on__gte=today,
            scheduled_on__lte=today + timedelta(days=firm_settings.inspection_notice_days),
            worksite__status__in=(Worksite.Status.NOT_STARTED, Worksite.Status.IN_PROGRESS),
        )
        .exclude(worksite__project__customer__mobile="")
        .select_related("worksite__project__customer")
        .order_by("scheduled_on", "id")
    )
    keys = {inspection.pk: notice_key(inspection) for inspection in due}
    sent = set(Notification.objects.filter(idempotency_key__in=keys.values()).values_list("idempotency_key", flat=True))
    count = 0
    for inspection in due:
        if keys[inspection.pk] in sent:
            continue
        if sweep.full:
            break
        count += (
            sweep.run(inspection.pk, _notice_send, inspection, now=now, template=firm_settings.inspection_notice) or 0
        )
    return count


def _notice_send(inspection: Inspection, *, now: datetime, template: str) -> int:
    firm, worksite = require_current_tenant(), inspection.worksite
    with translation.override(firm.language):
        values = {
            "firm": firm.name,
            "project": worksite.project.name,
            "kind": str(inspection.get_kind_display()),
            "date": inspection.scheduled_on.isoformat(),
            "time": f" {time_format(inspection.scheduled_time, 'H:i')}" if inspection.scheduled_time else "",
            "checks": inspection.homeowner_checks,
        }

    def notice(url: str) -> str:
        with translation.override(firm.language):
            return INSPECTION_NOTICE.render(template, {**values, "url": url})

    return homeowner_text_send(
        worksite,
        key=notice_key(inspection),
        now=now,
        base_url=settings.SITE_URL,
        body=notice,
        sms_template="worksites.inspection_notice",
        sms_params={**values, "time": values["time"].strip()},
    )
