"""The Reports area: each report turns one period into a list of tables (``exports.Table``) from the
lifecycle apps' selectors, so the page, the CSV and the XLSX show the same figures. Aggregation happens in
the selectors (in the database); here figures are only arranged into rows.

Also the weekly callback report e-mailed to each firm's managers on Monday morning, firm time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callbacks import selectors as callback_selectors
from callbacks.models import Callback, SurveyDefect, SurveyStaff
from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from contracts.models import TradeCategory
from leads import selectors as lead_selectors
from renocrm.accounts.staff import firm_admins
from renocrm.calendar import add_months
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.periods import CUSTOM, HALF, MONTH, WEEK, Period, period_of
from renocrm.privacy.masking import mask_mobile, mask_text, may_see_contacts, shown
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

from .exports import DATE, INTEGER, MONEY, NUMBER, PERCENT, XLSX_TYPE, Column, ContactCell, Table, to_xlsx


@dataclass(frozen=True)
class Viewer:
    """Who a report is built for: a staff request (contact details full or masked by their role), or
    nobody in particular (an e-mail: always masked)."""

    request: object | None = None

    @property
    def sees_contacts(self) -> bool:
        return self.request is not None and may_see_contacts(self.request)

    def mobile(self, value: str) -> str:
        return shown(self.request, "mobile", value) if self.request is not None else mask_mobile(value)

    def text(self, value: str) -> str:
        """Free text a homeowner wrote may hold a phone number."""
        return value if self.sees_contacts else mask_text(value)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _table(title, columns: dict[str, Column], rows: list[dict], **options) -> Table:
    """A table of selector rows: each column shows the rows' value under its key."""
    return Table(title, list(columns.values()), [[row[key] for key in columns] for row in rows], **options)


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, require_current_tenant().zone).date() if moment else None


# 1. Callbacks -----------------------------------------------------------------------------------------------


def callback_tables(period: Period, viewer: Viewer) -> list[Table]:
    start, end = period.start, period.end
    stats = callback_selectors.callback_stats(start, end)
    distribution = callback_selectors.satisfaction_distribution(start, end)
    nps = callback_selectors.nps(start, end)
    defects = callback_selectors.defects_by_trade(start, end)
    suggestions = callback_selectors.survey_suggestions(start, end)
    attention = callback_selectors.callbacks_needing_attention(start, end)

    summary = Table(
        _("Summary"),
        [Column(gettext_lazy("Figure")), Column(gettext_lazy("Value"), NUMBER)],
        [
            [_("Planned callbacks"), stats["planned"]],
            [_("Done"), stats["done"]],
            [_("Unreachable"), stats["unreachable"]],
            [_("Overdue"), stats["overdue"]],
            [_("Cancelled"), stats["cancelled"]],
            [_("Completion rate (%)"), stats["completion_rate"]],
            [_("Surveys answered"), distribution["total"]],
            [_("Satisfied (%)"), distribution["satisfied_share"]],
            [_("Net promoter score"), nps["score"]],
        ],
    )
    satisfaction = Table(
        _("Satisfaction"),
        [Column(gettext_lazy("Overall satisfaction")), Column(gettext_lazy("Answers"), INTEGER), Column("%", PERCENT)],
        [[level["label"], level["count"], level["share"]] for level in distribution["levels"]],
        total=[_("Total"), distribution["total"], 100.0 if distribution["total"] else None],
    )
    promoters = Table(
        _("Net promoter score"),
        [Column(gettext_lazy("Answer")), Column(gettext_lazy("Answers"), INTEGER), Column("%", PERCENT)],
        [
            [_("Promoters (9–10)"), nps["promoters"], _share(nps["promoters"], nps["answers"])],
            [_("Passives (7–8)"), nps["passives"], _share(nps["passives"], nps["answers"])],
            [_("Detractors (0–6)"), nps["detractors"], _share(nps["detractors"], nps["answers"])],
        ],
        total=[_("Total"), nps["answers"], 100.0 if nps["answers"] else None],
    )
    kinds = list(SurveyDefect.Kind)
    defect_table = Table(
        _("Defects per trade"),
        [Column(gettext_lazy("Trade"))]
        + [Column(kind.label, INTEGER) for kind in kinds]
        + [Column(gettext_lazy("Total"), INTEGER)],
        [[trade["label"], *(trade["kinds"].get(kind.value, 0) for kind in kinds), trade["count"]] for trade in defects],
        total=[_("Total"), *(sum(t["kinds"].get(kind.value, 0) for t in defects) for kind in kinds)]
        + [sum(t["count"] for t in defects)],
        empty=_("No defects reported in this period."),
    )
    suggestion_table = Table(
        _("Top suggestions"),
        [
            Column(gettext_lazy("Suggestion")),
            Column(gettext_lazy("Times given"), INTEGER),
            Column(gettext_lazy("Latest"), DATE),
        ],
        [[viewer.text(row["text"]), row["count"], _local_date(row["latest"])] for row in suggestions],
        empty=_("No suggestions in this period."),
    )
    status_label = {Callback.Status.UNREACHABLE: _("Unreachable")}
    attention_table = Table(
        _("Overdue and unreachable callbacks"),
        [
            Column(gettext_lazy("Status")),
            Column(gettext_lazy("Due on"), DATE),
            Column(gettext_lazy("Callback")),
            Column(gettext_lazy("Customer")),
            Column(gettext_lazy("Mobile")),
            Column(gettext_lazy("Agent")),
            Column(gettext_lazy("Attempts"), INTEGER),
        ],
        [
            [
                status_label.get(callback.status, _("Overdue")),
                callback.due_on,
                callback.name,
                callback.customer.name,
                ContactCell(callback.customer, "mobile", viewer.mobile(callback.customer.mobile)),
                str(callback.assigned_to) if callback.assigned_to else "",
                callback.attempts,
            ]
            for callback in attention
        ],
        empty=_("No callback of this period is overdue or unreachable."),
    )
    return [summary, satisfaction, promoters, defect_table, suggestion_table, attention_table]


# 2. Staff satisfaction ----------------------------------------------------------------------------------------

TREND_MONTHS = 6
STAFF_COLUMNS = {
    "name": Column(gettext_lazy("Staff member")),
    "answers": Column(gettext_lazy("Answers"), INTEGER),
    "satisfied": Column(gettext_lazy("Satisfied"), INTEGER),
    "satisfied_share": Column(gettext_lazy("Satisfied (%)"), PERCENT),
    "average_rating": Column(gettext_lazy("Average rating"), NUMBER),
    "nps": Column(gettext_lazy("Net promoter score"), NUMBER),
    "nps_answers": Column(gettext_lazy("NPS answers"), INTEGER),
}


def _trend_months(period: Period) -> tuple[date, date]:
    """At least the six months up to the period's end, and every month of a longer period."""
    last = period.end.replace(day=1)
    first = min(period.start.replace(day=1), add_months(last, -(TREND_MONTHS - 1)))
    return first, last


def staff_tables(period: Period, viewer: Viewer) -> list[Table]:
    first, last = _trend_months(period)
    tables = []
    for role, label in SurveyStaff.choices:
        rows = callback_selectors.satisfaction_by_staff(role, period.start, period.end)
        answers, satisfied = sum(r["answers"] for r in rows), sum(r["satisfied"] for r in rows)
        tables.append(
            _table(
                label,
                STAFF_COLUMNS,
                rows,
                total=[_("Total"), answers, satisfied, _share(satisfied, answers), None, None, None],
                empty=_("No survey answers in this period."),
            )
        )
        trend = callback_selectors.satisfaction_monthly(role, first=first, last=last)
        columns = [Column(gettext_lazy("Staff member"))]
        for month in trend["months"]:
            columns.append(Column(f"{month:%Y-%m} %", PERCENT))
            columns.append(Column(f"{month:%Y-%m} " + _("answers"), INTEGER))
        tables.append(
            Table(
                _("%(role)s: trend by month") % {"role": label},
                columns,
                [
                    [row["name"], *(v for p in row["points"] for v in (p["satisfied_share"], p["answers"]))]
                    for row in trend["rows"]
                ],
                empty=_("No survey answers in these months."),
            )
        )
    return tables


# 3. Complaints ----------------------------------------------------------------------------------------------


def _hours(duration: timedelta | None) -> float | None:
    return round(duration.total_seconds() / 3600, 1) if duration is not None else None


def _counted_table(title, label_column, rows, label) -> Table:
    return Table(
        title,
        [
            Column(label_column),
            Column(gettext_lazy("Complaints"), INTEGER),
            Column(gettext_lazy("Open"), INTEGER),
            Column(gettext_lazy("Escalated"), INTEGER),
        ],
        [[label(row), row["count"], row["open"], row["escalated"]] for row in rows],
        total=[_("Total"), *(sum(row[k] for row in rows) for k in ("count", "open", "escalated"))],
        empty=_("No complaints in this period."),
    )


def complaint_tables(period: Period, viewer: Viewer) -> list[Table]:
    start, end = period.start, period.end
    resolution = complaint_selectors.complaint_resolution_stats(start=start, end=end)
    categories = dict(Complaint.Category.choices)
    trades = dict(TradeCategory.choices)
    by_category = complaint_selectors.complaints_by_category(start=start, end=end)
    by_trade = complaint_selectors.complaints_by_trade(start=start, end=end)
    by_staff = complaint_selectors.complaints_by_responsible(start=start, end=end)
    by_level = complaint_selectors.complaints_by_level_reached(start=start, end=end)
    summary = Table(
        _("Summary"),
        [Column(gettext_lazy("Figure")), Column(gettext_lazy("Value"), NUMBER)],
        [
            [_("Opened"), resolution["opened"]],
            [_("Resolved"), resolution["resolved"]],
            [_("Still open"), resolution["open"]],
            [_("Mean time to resolve (hours)"), _hours(resolution["mean"])],
            [_("Longest time to resolve (hours)"), _hours(resolution["longest"])],
        ],
    )
    staff = Table(
        _("By responsible staff"),
        [
            Column(gettext_lazy("Responsible staff")),
            Column(gettext_lazy("Complaints"), INTEGER),
            Column(gettext_lazy("Open"), INTEGER),
            Column(gettext_lazy("Escalated"), INTEGER),
            Column(gettext_lazy("Highest level"), INTEGER),
        ],
        [
            [
                row["responsible__name"] or row["responsible__username"] or _("Nobody named"),
                row["count"],
                row["open"],
                row["escalated"],
                row["highest_level"],
            ]
            for row in by_staff
        ],
        total=[_("Total"), *(sum(row[k] for row in by_staff) for k in ("count", "open", "escalated")), None],
        empty=_("No complaints in this period."),
    )
    levels = Table(
        _("Highest level reached"),
        [Column(gettext_lazy("Level")), Column(gettext_lazy("Complaints"), INTEGER)],
        [[complaint_selectors.LEVEL_LABELS[level], count] for level, count in by_level.items()],
        total=[_("Total"), sum(by_level.values())],
    )
    return [
        summary,
        _counted_table(
            _("By category"), gettext_lazy("Category"), by_category, lambda r: categories.get(r["category"], "")
        ),
        _counted_table(
            _("By trade"),
            gettext_lazy("Trade"),
            by_trade,
            lambda r: trades.get(r["trade"], r["trade"]) if r["trade"] else _("No trade named"),
        ),
        staff,
        levels,
    ]


# 4. Leads and referrals -----------------------------------------------------------------------------------------


def lead_tables(period: Period, viewer: Viewer) -> list[Table]:
    funnel = lead_selectors.lead_funnel(start=period.start, end=period.end)
    referrals = lead_selectors.referral_performance(start=period.start, end=period.end)
    return lead_tables_from(funnel, referrals)


FUNNEL_STAGES = ("created", "contacted", "measured", "proposal", "won", "lost")
REFERRAL_COLUMNS = {
    "referrer_name": Column(gettext_lazy("Referrer")),
    "referred": Column(gettext_lazy("Referred"), INTEGER),
    "won": Column(gettext_lazy("Won"), INTEGER),
    "rewards_pending": Column(gettext_lazy("Rewards pending"), INTEGER),
    "rewards_fulfilled": Column(gettext_lazy("Rewards fulfilled"), INTEGER),
    "reward_amount": Column(gettext_lazy("Reward amount"), MONEY),
}


def lead_tables_from(funnel: list[dict], referrals: list[dict]) -> list[Table]:
    """The funnel per channel and the referrers' results, from the leads selectors' rows."""
    stage_labels = {
        "created": gettext_lazy("Leads"),
        "contacted": gettext_lazy("Contacted"),
        "measured": gettext_lazy("Measured"),
        "proposal": gettext_lazy("Proposal"),
        "won": gettext_lazy("Won"),
        "lost": gettext_lazy("Lost"),
    }
    totals = {stage: sum(row[stage] for row in funnel) for stage in FUNNEL_STAGES}
    funnel_table = Table(
        _("Lead funnel by channel"),
        [Column(gettext_lazy("Channel"))]
        + [Column(stage_labels[stage], INTEGER) for stage in FUNNEL_STAGES]
        + [Column(gettext_lazy("Win rate (%)"), PERCENT)],
        [
            [
                row["label"],
                *(row[stage] for stage in FUNNEL_STAGES),
                round(100 * row["win_rate"], 1) if row["win_rate"] is not None else None,
            ]
            for row in funnel
        ],
        # The leads app's win rate is won / created, so the total's is the same over all channels.
        total=[_("Total"), *totals.values(), _share(totals["won"], totals["created"])],
        empty=_("No leads in this period."),
    )
    referral_table = _table(
        _("Referrals"),
        REFERRAL_COLUMNS,
        referrals,
        total=[
            _("Total"),
            *(sum(row[k] for row in referrals) for k in ("referred", "won", "rewards_pending", "rewards_fulfilled")),
            sum((row["reward_amount"] or 0 for row in referrals), start=0),
        ],
        empty=_("No referrals in this period."),
    )
    return [funnel_table, referral_table]


# The catalogue ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    description: str
    ascii_name: str  # the file name for clients that cannot take a non-ASCII one
    build: Callable[[Period, Viewer], list[Table]]
    default_period: str = MONTH


REPORTS = (
    Report(
        "callbacks",
        gettext_lazy("Callback report"),
        gettext_lazy("Planned, done, unreachable and overdue callbacks, satisfaction, NPS, defects and suggestions."),
        "callback-report",
        callback_tables,
    ),
    Report(
        "satisfaction",
        gettext_lazy("Staff satisfaction ranking"),
        gettext_lazy("Designers, project managers, QC inspectors and agents by satisfied customers, month by month."),
        "staff-satisfaction",
        staff_tables,
    ),
    Report(
        "complaints",
        gettext_lazy("Complaint concentration"),
        gettext_lazy("Complaints by category, trade, staff and level reached, and the time to resolve them."),
        "complaint-concentration",
        complaint_tables,
    ),
    Report(
        "leads",
        gettext_lazy("Lead funnel and referrals"),
        gettext_lazy("Conversion by channel and what referrals by existing customers bring."),
        "lead-funnel",
        lead_tables,
    ),
)
BY_KEY = {report.key: report for report in REPORTS}


def period_slug(period: Period) -> str:
    """The period in a file name: 2026-11, 2026-W47, 2026-H2, or 2026-01-05_2026-02-10."""
    if period.kind == MONTH:
        return f"{period.start:%Y-%m}"
    if period.kind == WEEK:
        year, week, _weekday = period.start.isocalendar()
        return f"{year}-W{week:02d}"
    if period.kind == HALF:
        return f"{period.start.year}-H{1 if period.start.month <= 6 else 2}"
    return f"{period.start.isoformat()}_{period.end.isoformat()}"


# The weekly e-mail ------------------------------------------------------------------------------------------

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
