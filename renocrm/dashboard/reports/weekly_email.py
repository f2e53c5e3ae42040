"""The weekly callback report e-mailed to each firm's managers on Monday morning, firm time."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callbacks import selectors as callback_selectors
from callbacks.models import Callback
from renocrm.accounts.staff import firm_admins
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.periods import CUSTOM, WEEK, Period, period_of
from renocrm.privacy.masking import mask_mobile
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

from ..exports import XLSX_TYPE, to_xlsx
from .callback_report import callback_tables
from .tables import Viewer

WEEKLY_REPORT_HOUR = 8  # firm time, on Monday
# The weekly report sweeper's name in renocrm.sweeps (its failures and backoff).
WEEKLY_REPORT_SWEEP = "weekly-callback-report"
WEEKLY_LIST_SIZE = 10


def last_week(now: datetime) -> Period | None:
    """Last week (Monday to Sunday) when ``now`` is Monday from 08:00 in the firm's time zone, else None."""
    local = timezone.localtime(now, require_current_tenant().zone)
    if local.weekday() != 0 or local.hour < WEEKLY_REPORT_HOUR:
        return None
    return period_of(WEEK, local.date()).previous()


def weekly_report_url(week: Period, *, base_url: str | None = None) -> str:
    base_url = base_url or settings.SITE_URL  # no request to take the site's address from
    query = urlencode(Period(CUSTOM, week.start, week.end).as_query())
    return f"{base_url}{reverse('dashboard:report', args=['callbacks'])}?{query}"


def weekly_report_text(week: Period, *, url: str) -> tuple[str, str]:
    """(subject, body) of the weekly callback report, in the active language; mobiles always masked."""
    firm = require_current_tenant()
    stats = callback_selectors.callback_stats(week.start, week.end)
    distribution = callback_selectors.satisfaction_distribution(week.start, week.end)
    nps = callback_selectors.nps(week.start, week.end)
    attention = callback_selectors.callbacks_needing_attention(week.start, week.end, limit=WEEKLY_LIST_SIZE + 1)
    dates = {"start": week.start.isoformat(), "end": week.end.isoformat()}
    subject = _("Callback report %(start)s – %(end)s") % dates + f" · {firm.name}"

    def figure(value):
        return "—" if value is None else value

    lines = [
        _("Callbacks due from %(start)s to %(end)s:") % dates,
        "",
        f"{_('Planned callbacks')}: {stats['planned']}",
        f"{_('Done')}: {stats['done']}",
        f"{_('Unreachable')}: {stats['unreachable']}",
        f"{_('Overdue')}: {stats['overdue']}",
        f"{_('Completion rate (%)')}: {figure(stats['completion_rate'])}",
        f"{_('Surveys answered')}: {distribution['total']}",
        f"{_('Satisfied (%)')}: {figure(distribution['satisfied_share'])}",
        f"{_('Net promoter score')}: {figure(nps['score'])}",
    ]
    if attention:
        lines += ["", _("Overdue and unreachable callbacks") + ":"]
        for callback in attention[:WEEKLY_LIST_SIZE]:
            state = _("Unreachable") if callback.status == Callback.Status.UNREACHABLE else _("Overdue")
            lines.append(
                f"- {callback.due_on.isoformat()} {callback.customer.name} "
                f"{mask_mobile(callback.customer.mobile)} · {callback.name} · {state}"
            )
        if len(attention) > WEEKLY_LIST_SIZE:
            lines.append(_("… and more in the full report."))
    lines += ["", _("The full report, with CSV and Excel downloads:"), url]
    return subject, "\n".join(lines)


def weekly_callback_report_send(*, now: datetime | None = None, base_url: str | None = None) -> int:
    """E-mail last week's callback report to the firm's admins on Monday from 08:00 firm time. Run hourly:
    the idempotency key ``weekly-callback-report:<week start>:<user id>`` sends once per week and
    recipient however often it runs. Returns how many e-mails were queued now."""
    firm = require_current_tenant()
    week = last_week(now or timezone.now())
    if week is None:
        return 0
    recipients = list(firm_admins().filter(~Q(email="")))
    keys = {user.pk: f"weekly-callback-report:{week.start.isoformat()}:{user.pk}" for user in recipients}
    already = set(
        Notification.objects.filter(idempotency_key__in=keys.values()).values_list("idempotency_key", flat=True)
    )
    waiting = [user for user in recipients if keys[user.pk] not in already]
    if not waiting:
        return 0
    with translation.override(firm.language):
        subject, body = weekly_report_text(week, url=weekly_report_url(week, base_url=base_url))
        # The Excel file of the same report, built for nobody in particular: contact details masked.
        workbook = to_xlsx(callback_tables(week, Viewer()))
        filename = f"{_('Callback report')}_{week.start.isoformat()}.xlsx"
    # Each recipient in its own savepoint: one whose e-mail cannot be queued is recorded and retried later
    # (renocrm.sweeps) while the others get theirs.
    sweep = Sweep(WEEKLY_REPORT_SWEEP)
    queued = 0
    for user in waiting:
        queued += (
            sweep.run(
                f"{week.start.isoformat()}:{user.pk}",
                notification_send,
                channel=Notification.Channel.EMAIL,
                recipient=user.email,
                subject=subject[:200],
                body=body,
                idempotency_key=keys[user.pk],
                attachment=(filename, workbook, XLSX_TYPE),
            )
            is not None
        )
    return queued
