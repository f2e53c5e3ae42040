"""The home dashboard of each role, composed from the lifecycle apps' selectors.

A dashboard is a list of cards; a card holds figures (a label, a value and the link to the list that shows
exactly those rows), charts of figures, and a short list of the most pressing records. Every figure is counted
by the database (one aggregate query per selector), so a dashboard costs the same number of queries whatever
the firm's size — see ``tests/dashboard/test_queries.py`` for each role's budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from aftercare import selectors as aftercare
from callbacks import selectors as callbacks
from callbacks.selectors import ALL as ALL_AGENTS
from complaints import selectors as complaints
from contracts import selectors as contracts
from leads import selectors as leads
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.calendar import add_months
from renocrm.periods import Period
from worksites.models import Worksite
from worksites.selectors import dashboard as worksites

from .charts import DONUT, HBAR, LINE, VBAR, Datum, day_label

Figure = Datum
CHECKED = "on"  # a ticked checkbox of a list's filter form
SOON_DAYS = 7  # phases "due" within this many days
INSTALMENT_DAYS = 30
EXPIRING_DAYS = aftercare.EXPIRING_SOON_DAYS
PRESSING = 5  # records listed under a card


@dataclass(frozen=True)
class ChartSpec:
    kind: str
    title: str
    data: list[Figure]
    total_text: str = ""


@dataclass(frozen=True)
class Row:
    """A record listed under a card: what it is, where it opens, a line about it; ``clock`` for complaints."""

    label: str
    href: str
    meta: str = ""
    tone: str = ""
    clock: object = None
    record: object = None


@dataclass
class Card:
    key: str
    title: str
    stage: str  # the lifecycle stage, for the card's colour
    figures: list[Figure] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rows_title: str = ""
    more: tuple[str, str] | None = None  # (label, href) of the full list
    in_period: bool = False  # the figures follow the period picker
    body: str = ""  # a template drawing extra content (e.g. complaint clocks)
    drawn: list = field(default_factory=list)  # the charts' geometry, drawn by the view


@dataclass
class Dashboard:
    role: str
    period: Period
    today: date
    cards: list[Card]

    def figure(self, key: str) -> Figure:
        """A figure by key, wherever it is shown (tests and the template's data-testid use the keys)."""
        for card in self.cards:
            for figure in [*card.figures, *(datum for chart in card.charts for datum in chart.data)]:
                if figure.key == key:
                    return figure
        raise KeyError(key)

    def card(self, key: str) -> Card:
        return next(card for card in self.cards if card.key == key)


# Links and numbers --------------------------------------------------------------------------------------------


def url(name: str, *args, anchor: str = "", **query) -> str:
    """The URL of a list page with its filter parameters (empty ones left out)."""
    address = reverse(name, args=args)
    query = {key: value for key, value in query.items() if value not in (None, "", False)}
    return f"{address}{'?' + urlencode(query) if query else ''}{'#' + anchor if anchor else ''}"


def _signed_between(period: Period) -> dict:
    """The contract list's own date filter for the period."""
    return {"signed_from": period.start.isoformat(), "signed_to": period.end.isoformat()}


def money(amount) -> str:
    """An amount in whole yuan, as a dashboard tile has room for; the lists behind it show the fen."""
    return "¥" + number_format(round(amount or Decimal("0")), 0, force_grouping=True)


def percent(value) -> str:
    """A share 0–100 as "62.5 %", or a dash when there was nothing to divide."""
    return "—" if value is None else f"{number_format(value, 1)} %"


def _day(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _count(key, label, value, href=None, *, warn=False) -> Figure:
    return Figure(label=label, value=value, href=href, key=key, tone="warn" if warn and value else "")


def _repairs_late() -> int:
    return aftercare.repairs_overdue(now=timezone.now()).count()


# Shared cards --------------------------------------------------------------------------------------------------


def _worksites_by_phase_chart(*, mine, title: str, key: str) -> ChartSpec:
    rows = [row for row in worksites.worksites_by_phase(mine=mine) if row["count"]]
    data = [
        _count(
            f"{key}-{row['kind']}",
            row["label"],
            row["count"],
            url("worksites:list", phase=row["kind"], mine=mine and CHECKED),
        )
        for row in rows
    ]
    return ChartSpec(HBAR, title, data)


def _phase_rows(phases) -> list[Row]:
    return [
        Row(
            label=f"{phase.worksite.project} · {phase.name}",
            href=url("worksites:detail", phase.worksite_id),
            meta=(_("late since %(day)s") if phase.is_late else _("ends %(day)s")) % {"day": _day(phase.planned_end)},
            tone="warn" if phase.is_late else "",
            record=phase,
        )
        for phase in phases
    ]


def _rectification_rows(items) -> list[Row]:
    return [
        Row(
            label=f"{item.handover.worksite.project} · {item}",
            href=url("worksites:handover", item.handover.worksite_id),
            meta=(_("overdue since %(day)s") if item.is_late else _("deadline %(day)s")) % {"day": _day(item.deadline)},
            tone="warn" if item.is_late else "",
            record=item,
        )
        for item in items
    ]


def _site_tasks_card(*, user, today: date, key: str, title: str) -> Card:
    """Phases of my worksites late or due soon, and the rectification items I own: counts and the most pressing."""
    phases = worksites.phase_counts(today=today, within_days=SOON_DAYS, mine=user)
    items = worksites.rectification_counts(today=today, owner=user)
    board = url("worksites:board", mine="1")
    return Card(
        key=key,
        title=title,
        stage="worksites",
        figures=[
            _count("phases-late", _("Phases running late"), phases["late"], board, warn=True),
            _count("phases-due", _("Phases due within %(days)s days") % {"days": SOON_DAYS}, phases["due"], board),
            _count(
                "rectification-overdue",
                _("My rectification items overdue"),
                items["overdue"],
                url("worksites:rectification-items", overdue=CHECKED, mine=CHECKED),
                warn=True,
            ),
            _count(
                "rectification-outstanding",
                _("My rectification items outstanding"),
                items["outstanding"],
                url("worksites:rectification-items", mine=CHECKED),
            ),
        ],
        rows=_phase_rows(worksites.phases_pressing(today=today, within_days=SOON_DAYS, mine=user, limit=PRESSING))
        + _rectification_rows(worksites.rectification_pressing(today=today, owner=user, limit=PRESSING)),
        rows_title=_("Most pressing"),
    )


def _my_worksites_card(*, user, title: str) -> Card:
    statuses = worksites.worksite_status_counts(mine=user)
    return Card(
        key="my-worksites",
        title=title,
        stage="worksites",
        figures=[
            _count(
                "worksites-in-progress",
                _("In progress"),
                statuses[Worksite.Status.IN_PROGRESS],
                url("worksites:list", status=Worksite.Status.IN_PROGRESS, mine=CHECKED),
            ),
            _count(
                "worksites-not-started",
                _("Not started"),
                statuses[Worksite.Status.NOT_STARTED],
                url("worksites:list", status=Worksite.Status.NOT_STARTED, mine=CHECKED),
            ),
        ],
        charts=[_worksites_by_phase_chart(mine=user, title=_("By current phase"), key="phase")],
        more=(_("My worksites"), url("worksites:list", mine=CHECKED)),
    )


# Roles -------------------------------------------------------------------------------------------------------------


def _sales(*, user, period: Period, today: date) -> list[Card]:
    pipeline = leads.pipeline_counts()
    labels = dict(Lead.Status.choices)
    follow_ups = leads.follow_up_counts(user=user, on=today)
    funnel = leads.lead_funnel(start=period.start, end=period.end)
    created = sum(row["created"] for row in funnel)
    won = sum(row["won"] for row in funnel)
    active = [row for row in funnel if row["created"]]
    return [
        Card(
            key="pipeline",
            title=_("Pipeline"),
            stage="leads",
            charts=[
                ChartSpec(
                    HBAR,
                    _("Leads by status"),
                    [
                        _count(f"status-{status}", labels[status], pipeline[status], url("leads:list", status=status))
                        for status in Lead.Status.values
                    ],
                )
            ],
            more=(_("Pipeline board"), url("leads:board")),
        ),
        Card(
            key="follow-ups",
            title=_("My follow-ups"),
            stage="leads",
            figures=[
                _count(
                    "follow-ups-due",
                    _("Due today"),
                    follow_ups["due"],
                    url("leads:follow-ups", anchor="due-heading"),
                ),
                _count(
                    "follow-ups-overdue",
                    _("Overdue"),
                    follow_ups["overdue"],
                    url("leads:follow-ups", anchor="overdue-heading"),
                    warn=True,
                ),
            ],
            more=(_("Follow-ups"), url("leads:follow-ups")),
        ),
        Card(
            key="conversion",
            title=_("Conversion by channel"),
            stage="leads",
            in_period=True,
            figures=[
                _count("leads-created", _("Leads created"), created, url("leads:list")),
                _count("leads-won", _("Won"), won, url("leads:list", status=Lead.Status.WON)),
                Figure(
                    _("Win rate"),
                    _rate(won, created) or 0,
                    url("leads:list", status=Lead.Status.WON),
                    percent(_rate(won, created)),
                    key="win-rate",
                ),
            ],
            charts=[
                ChartSpec(
                    HBAR,
                    _("Leads created by channel"),
                    [
                        Figure(
                            row["label"],
                            row["created"],
                            url("leads:list", channel=row["channel"]),
                            _("%(created)s · %(won)s won · %(rate)s")
                            % {
                                "created": row["created"],
                                "won": row["won"],
                                "rate": percent(None if row["win_rate"] is None else 100 * row["win_rate"]),
                            },
                            key=f"channel-{row['channel']}",
                        )
                        for row in active
                    ],
                )
            ],
        ),
    ]


def _designer(*, user, period: Period, today: date) -> list[Card]:
    return [
        _my_worksites_card(user=user, title=_("My projects on site")),
        _site_tasks_card(user=user, today=today, key="site-tasks", title=_("My site tasks")),
    ]


def _project_manager(*, user, period: Period, today: date) -> list[Card]:
    phases = worksites.phase_counts(today=today, within_days=SOON_DAYS, mine=user)
    items = worksites.rectification_counts(today=today, owner=user)
    board = url("worksites:board", mine="1")
    overdue_items = url("worksites:rectification-items", overdue=CHECKED, mine=CHECKED)
    late = worksites.phases_pressing(today=today, late=True, mine=user, limit=PRESSING)
    return [
        _my_worksites_card(user=user, title=_("My worksites")),
        Card(
            key="late-phases",
            title=_("Late phases"),
            stage="worksites",
            figures=[
                _count("phases-late", _("Planned end passed, not finished"), phases["late"], board, warn=True),
                _count("phases-due", _("Due within %(days)s days") % {"days": SOON_DAYS}, phases["due"], board),
            ],
            rows=_phase_rows(late),
            more=(_("Worksite board"), board),
        ),
        Card(
            key="rectification",
            title=_("Rectification items"),
            stage="worksites",
            figures=[
                _count("rectification-overdue", _("Overdue"), items["overdue"], overdue_items, warn=True),
                _count(
                    "rectification-outstanding",
                    _("Outstanding"),
                    items["outstanding"],
                    url("worksites:rectification-items", mine=CHECKED),
                ),
            ],
            rows=_rectification_rows(worksites.rectification_pressing(today=today, owner=user, limit=PRESSING)),
            more=(_("My rectification items"), url("worksites:rectification-items", mine=CHECKED)),
        ),
    ]


def _qc(*, user, period: Period, today: date) -> list[Card]:
    pending = worksites.inspections_pending(mine=user)
    items = worksites.rectification_counts(today=today)
    my_worksites = url("worksites:list", mine=CHECKED)
    return [
        Card(
            key="inspections",
            title=_("Inspections awaiting sign-off"),
            stage="worksites",
            figures=[
                _count("inspections-pending", _("On my worksites"), sum(r["count"] for r in pending), my_worksites)
            ],
            # Inspections are listed on each worksite's site log; the figure leads to my worksites.
            charts=[
                ChartSpec(
                    HBAR,
                    _("By kind"),
                    [_count(f"inspection-{r['kind']}", r["label"], r["count"], my_worksites) for r in pending],
                )
            ],
        ),
        Card(
            key="rectification",
            title=_("Rectification items"),
            stage="worksites",
            figures=[
                _count(
                    "rectification-recheck",
                    _("Fixed, awaiting re-check"),
                    items["awaiting_recheck"],
                    url("worksites:rectification-items", status="fixed"),
                ),
                _count(
                    "rectification-overdue",
                    _("Overdue"),
                    items["overdue"],
                    url("worksites:rectification-items", overdue=CHECKED),
                    warn=True,
                ),
            ],
            more=(_("Rectification items"), url("worksites:rectification-items")),
        ),
        _my_worksites_card(user=user, title=_("My worksites")),
    ]


def _finance(*, user, period: Period, today: date) -> list[Card]:
    signed = contracts.contracts_signed(start=period.start, end=period.end)
    packages = contracts.contracts_signed_by_package(start=period.start, end=period.end)
    due = contracts.instalments_due(today=today, within_days=INSTALMENT_DAYS)
    between = _signed_between(period)
    # The contract list has no instalment filter: the instalment figures lead to the contracts, which show
    # what each still has to pay.
    contract_list = url("contracts:list")
    return [
        _contracts_card(signed, packages, period, between),
        Card(
            key="instalments",
            title=_("Instalments"),
            stage="contracts",
            figures=[
                Figure(
                    _("Overdue"),
                    due["overdue"],
                    contract_list,
                    key="instalments-overdue",
                    tone="warn" if due["overdue"] else "",
                ),
                Figure(
                    _("Overdue amount"),
                    due["overdue_amount"],
                    contract_list,
                    money(due["overdue_amount"]),
                    key="instalments-overdue-amount",
                ),
                Figure(
                    _("Due within %(days)s days") % {"days": INSTALMENT_DAYS},
                    due["upcoming"],
                    contract_list,
                    key="instalments-due",
                ),
                Figure(
                    _("Amount falling due"),
                    due["upcoming_amount"],
                    contract_list,
                    money(due["upcoming_amount"]),
                    key="instalments-due-amount",
                ),
            ],
        ),
    ]


def _contracts_card(signed, packages, period: Period, between: dict) -> Card:
    return Card(
        key="contracts",
        title=_("Contracts signed"),
        stage="contracts",
        in_period=True,
        figures=[
            _count("contracts-signed", _("Contracts signed"), signed["count"], url("contracts:list", **between)),
            Figure(
                _("Signed amount"),
                signed["amount"],
                url("contracts:list", **between),
                money(signed["amount"]),
                key="contracts-amount",
            ),
        ],
        charts=[
            ChartSpec(
                VBAR,
                _("Signed amount by package"),
                [
                    Figure(
                        str(row["label"]),
                        row["amount"],
                        url("contracts:list", package_type=row["package_type"], **between),
                        f"{money(row['amount'])} ({row['count']})",
                        key=f"package-{row['package_type']}",
                    )
                    for row in packages
                ],
            )
        ],
    )


def _customer_service(*, user, period: Period, today: date) -> list[Card]:
    queue = callbacks.queue_counts(agent=user)
    stats = callbacks.callback_stats(period.start, period.end)
    sla = complaints.open_complaints_sla(limit=PRESSING)
    repairs_late = _repairs_late()
    return [
        Card(
            key="callbacks",
            title=_("My callbacks"),
            stage="callbacks",
            figures=[
                _count("callbacks-due", _("Due today"), queue["due_today"], url("callbacks:list", bucket="due_today")),
                _count(
                    "callbacks-overdue",
                    _("Overdue"),
                    queue["overdue"],
                    url("callbacks:list", bucket="overdue"),
                    warn=True,
                ),
            ],
            more=(_("Callback queue"), url("callbacks:list")),
        ),
        _callback_completion_card(stats),
        Card(
            key="complaints",
            title=_("Open complaints"),
            stage="complaints",
            figures=[
                _count(
                    "complaints-overdue",
                    _("Clock run out"),
                    sla["counts"][complaints.SlaState.OVERDUE],
                    url("complaints:list", status="active", overdue=CHECKED),
                    warn=True,
                ),
                _count(
                    "complaints-due-soon",
                    _("Due within the hour"),
                    sla["counts"][complaints.SlaState.DUE_SOON],
                    url("complaints:board"),
                ),
                _count(
                    "complaints-on-time",
                    _("On time"),
                    sla["counts"][complaints.SlaState.ON_TIME],
                    url("complaints:list", status="active"),
                ),
            ],
            rows=[
                Row(
                    label=f"#{complaint.pk} {complaint.customer.name}",
                    href=url("complaints:detail", complaint.pk),
                    meta=str(complaint.owner or "—"),
                    tone="warn",
                    clock=complaint.clock,
                    record=complaint,
                )
                for complaint in sla["complaints"]
            ],
            rows_title=_("Most urgent clocks"),
            body="dashboard/_complaint_rows.html",
            more=(_("Complaint board"), url("complaints:board")),
        ),
        Card(
            key="repairs",
            title=_("Repairs"),
            stage="aftercare",
            figures=[
                _count(
                    "repairs-late", _("Past their SLA"), repairs_late, url("aftercare:list", overdue=CHECKED), warn=True
                )
            ],
            more=(_("Repair requests"), url("aftercare:list", status="open_all")),
        ),
    ]


def _callback_completion_card(stats: dict) -> Card:
    """The period's callbacks: how many of the planned were done, as a rate and a ring by outcome."""
    done, unreachable, overdue = stats["done"], stats["unreachable"], stats["overdue"]
    waiting = max(stats["planned"] - done - unreachable - overdue, 0)
    return Card(
        key="completion",
        title=_("Callback completion"),
        stage="callbacks",
        in_period=True,
        figures=[
            Figure(
                _("Completion rate"),
                stats["completion_rate"] or 0,
                url("callbacks:list", bucket="done", agent=ALL_AGENTS),
                percent(stats["completion_rate"]),
                key="completion-rate",
            ),
            _count("callbacks-planned", _("Planned"), stats["planned"], url("callbacks:list", agent=ALL_AGENTS)),
        ],
        charts=[
            ChartSpec(
                DONUT,
                _("Callbacks due in the period"),
                [
                    _count(
                        "outcome-done", _("Completed"), done, url("callbacks:list", bucket="done", agent=ALL_AGENTS)
                    ),
                    _count(
                        "outcome-unreachable",
                        _("Unreachable"),
                        unreachable,
                        url("callbacks:list", bucket="done", agent=ALL_AGENTS),
                    ),
                    _count(
                        "outcome-overdue",
                        _("Overdue"),
                        overdue,
                        url("callbacks:list", bucket="overdue", agent=ALL_AGENTS),
                        warn=True,
                    ),
                    _count(
                        "outcome-waiting",
                        _("Not due yet or in hand"),
                        waiting,
                        url("callbacks:list", bucket="upcoming", agent=ALL_AGENTS),
                    ),
                ],
                total_text=str(stats["planned"]),
            )
        ],
    )


def _admin(*, user, period: Period, today: date) -> list[Card]:
    by_month = period.days > 62
    funnel = leads.lead_funnel(start=period.start, end=period.end)
    trend = leads.leads_created_trend(start=period.start, end=period.end, by_month=by_month)
    signed = contracts.contracts_signed(start=period.start, end=period.end)
    packages = contracts.contracts_signed_by_package(start=period.start, end=period.end)
    statuses = worksites.worksite_status_counts()
    handovers = worksites.handovers_completed(start=period.start, end=period.end)
    satisfaction = callbacks.satisfaction_distribution(period.start, period.end)
    score = callbacks.nps(period.start, period.end)
    levels = complaints.complaints_by_level_reached(start=period.start, end=period.end)
    expiring = aftercare.coverages_expiring_count(within_days=EXPIRING_DAYS, today=today)
    repairs_late = _repairs_late()
    reports = url("dashboard:report", "callbacks", **period.as_query())
    created = sum(row["created"] for row in funnel)
    lead_list = url("leads:list")
    return [
        Card(
            key="leads",
            title=_("New leads"),
            stage="leads",
            in_period=True,
            figures=[_count("leads-created", _("New leads"), created, lead_list)],
            charts=[
                ChartSpec(
                    LINE,
                    _("New leads over the period"),
                    [
                        Figure(
                            day_label(day, by_month=by_month),
                            trend.get(day, 0),
                            lead_list,
                            key=f"trend-{day.isoformat()}",
                        )
                        for day in _buckets(period, by_month=by_month)
                    ],
                ),
                ChartSpec(
                    HBAR,
                    _("By channel"),
                    [
                        _count(
                            f"channel-{row['channel']}",
                            row["label"],
                            row["created"],
                            url("leads:list", channel=row["channel"]),
                        )
                        for row in funnel
                        if row["created"]
                    ],
                ),
            ],
        ),
        _contracts_card(signed, packages, period, _signed_between(period)),
        Card(
            key="worksites",
            title=_("Worksites"),
            stage="worksites",
            figures=[
                _count(
                    "worksites-in-progress",
                    _("In progress"),
                    statuses[Worksite.Status.IN_PROGRESS],
                    url("worksites:list", status=Worksite.Status.IN_PROGRESS),
                ),
                _count(
                    "worksites-not-started",
                    _("Not started"),
                    statuses[Worksite.Status.NOT_STARTED],
                    url("worksites:list", status=Worksite.Status.NOT_STARTED),
                ),
                # The worksite list has no date filter: the period's handovers lead to every handed-over worksite.
                _count(
                    "handovers",
                    _("Handed over in the period"),
                    handovers,
                    url("worksites:list", status=Worksite.Status.HANDED_OVER),
                ),
            ],
            charts=[_worksites_by_phase_chart(mine=None, title=_("By current phase"), key="phase")],
            more=(_("Worksite board"), url("worksites:board")),
        ),
        Card(
            key="aftercare",
            title=_("Aftercare"),
            stage="aftercare",
            figures=[
                _count(
                    "coverages-expiring",
                    _("Coverages ending within %(days)s days") % {"days": EXPIRING_DAYS},
                    expiring,
                    url("aftercare:expiring", within=EXPIRING_DAYS),
                ),
                _count(
                    "repairs-late",
                    _("Repairs past their SLA"),
                    repairs_late,
                    url("aftercare:list", overdue=CHECKED),
                    warn=True,
                ),
            ],
        ),
        Card(
            key="satisfaction",
            title=_("Satisfaction"),
            stage="callbacks",
            in_period=True,
            figures=[
                Figure(
                    _("Satisfied (4–5 of 5)"),
                    satisfaction["satisfied_share"] or 0,
                    reports,
                    percent(satisfaction["satisfied_share"]),
                    key="satisfaction-rate",
                ),
                Figure(
                    _("NPS"),
                    score["score"] or 0,
                    reports,
                    "—" if score["score"] is None else number_format(score["score"], 1),
                    key="nps",
                ),
                _count("surveys", _("Surveys answered"), satisfaction["total"], reports),
            ],
            charts=[
                ChartSpec(
                    DONUT,
                    _("Overall satisfaction"),
                    [
                        _count(f"satisfaction-{level['level']}", level["label"], level["count"], reports)
                        for level in satisfaction["levels"]
                    ],
                    total_text=str(satisfaction["total"]),
                ),
            ],
        ),
        Card(
            key="complaints",
            title=_("Complaints"),
            stage="complaints",
            in_period=True,
            figures=[
                _count("complaints-opened", _("Opened in the period"), sum(levels.values()), url("complaints:list"))
            ],
            charts=[
                ChartSpec(
                    VBAR,
                    _("By level reached"),
                    [
                        _count(
                            f"level-{level}",
                            str(complaints.LEVEL_LABELS[level]),
                            levels[level],
                            url("complaints:list", level=level),
                        )
                        for level in complaints.LEVELS
                    ],
                ),
            ],
            more=(_("Complaints report"), url("complaints:report")),
        ),
    ]


def _buckets(period: Period, *, by_month: bool) -> list[date]:
    """The days (or first days of months) of the period, in order: the trend's x axis."""
    if by_month:
        months, day = [], period.start.replace(day=1)
        while day <= period.end:
            months.append(day)
            day = add_months(day, 1)
        return months
    return [period.start + timedelta(days=n) for n in range(period.days)]


ROLE_DASHBOARDS = {
    Role.SALES: _sales,
    Role.DESIGNER: _designer,
    Role.PROJECT_MANAGER: _project_manager,
    Role.QC: _qc,
    Role.FINANCE: _finance,
    Role.CUSTOMER_SERVICE: _customer_service,
    Role.ADMIN: _admin,
}


def dashboard_for(*, role: str, user, period: Period, today: date) -> Dashboard:
    """The home dashboard of ``role`` for ``user``: figures in the firm's ``period`` as of its ``today``."""
    build = ROLE_DASHBOARDS.get(role, lambda **kwargs: [])
    return Dashboard(role=role, period=period, today=today, cards=build(user=user, period=period, today=today))
