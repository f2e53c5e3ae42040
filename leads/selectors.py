from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncDate, TruncMonth
from django.utils import timezone

from renocrm.accounts.roles import Role
from renocrm.paging import keyset_page
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_days, firm_today

from .models import Customer, FollowUp, Lead, LeadStatusChange, Property, ReferralReward
from .validators import normalize_mobile

# The part of a mobile number its masked form shows (138****5678): the last four digits.
VISIBLE_DIGITS = 4


def customer_match(q: str, prefix: str = "", *, full_contacts: bool = False) -> Q:
    """The search of every list that names customers, and of the header's search box: their name, or their
    mobile number typed with spaces, dashes or +86, through the ``prefix`` path (e.g. ``"lead__"``). Whoever
    sees full contact details finds a number by any part of it; anyone else only by the last four digits its
    masked form shows, so that searching cannot recover the digits the mask hides."""
    digits = normalize_mobile(q)
    # ``finds`` and ``last_four`` read the customer's search indexes (renocrm.search).
    match = Q(**{f"{prefix}name__finds": q})
    if digits.isdigit():
        if full_contacts:
            match |= Q(**{f"{prefix}mobile__finds": digits})
        elif len(digits) == VISIBLE_DIGITS:
            match |= Q(**{f"{prefix}mobile__last_four": digits})
    return match


def _my_open_leads(user):
    return Lead.objects.filter(assigned_to=user, status__in=Lead.OPEN_STATUSES).select_related("customer")


def follow_ups_due(*, user, on: date | None = None):
    """Open leads assigned to ``user`` whose next follow-up is today (the firm's today by default)."""
    return _my_open_leads(user).filter(next_follow_up_on=on or firm_today()).order_by("customer__name")


def follow_ups_overdue(*, user, on: date | None = None):
    return _my_open_leads(user).filter(next_follow_up_on__lt=on or firm_today()).order_by("next_follow_up_on")


def pipeline_counts() -> dict[str, int]:
    counts = dict(Lead.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in Lead.Status.values}


def lead_page(
    *, status: str = "", channel: str = "", q: str = "", full_contacts: bool = False, before: int | None = None
):
    """A page of leads, newest first, by id keyset (no COUNT over the firm's table); the extra row fetched
    says whether there is an older page."""
    leads = Lead.objects.select_related("customer", "assigned_to").order_by("-id")
    if status:
        leads = leads.filter(status=status)
    if channel:
        leads = leads.filter(channel=channel)
    if q:
        leads = leads.filter(customer_match(q, "customer__", full_contacts=full_contacts))
    return keyset_page(leads, before=before)


# Who may be picked as a lead's customer manager / designer; the services refuse anyone else.
CUSTOMER_MANAGER_ROLES = frozenset({Role.SALES, Role.ADMIN})
DESIGNER_ROLES = frozenset({Role.DESIGNER, Role.ADMIN})


BOARD_CARDS = 50
BOARD_CLOSED_DAYS = 30


@dataclass(frozen=True)
class BoardColumn:
    status: str
    label: str
    count: int
    leads: list
    closed: bool

    @property
    def capped(self) -> bool:
        return self.count > len(self.leads)


def pipeline_board(
    *, assigned_to=None, per_column: int = BOARD_CARDS, closed_days: int = BOARD_CLOSED_DAYS, today: date | None = None
) -> list[BoardColumn]:
    """The pipeline as columns: every open lead, plus the leads won or lost in the last ``closed_days`` days
    (by ``updated_at``). At most ``per_column`` cards per column, picked by a window function, so the page
    costs two queries however many leads the firm has; the counts cover the whole column."""
    today = today or firm_today()
    leads = Lead.objects.filter(
        Q(status__in=Lead.OPEN_STATUSES) | Q(updated_at__gte=timezone.now() - timedelta(days=closed_days))
    )
    if assigned_to is not None:
        leads = leads.filter(assigned_to=assigned_to)
    counts = dict(leads.values_list("status").annotate(n=Count("id")).order_by())
    # Open columns: the earliest next follow-up first (overdue on top), undated last; won and lost: latest first.
    follow_up = Case(When(status__in=Lead.OPEN_STATUSES, then=F("next_follow_up_on")))
    rows = (
        leads.select_related("customer", "assigned_to")
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=[follow_up.asc(nulls_last=True), F("updated_at").desc(), F("id").desc()],
            ),
            is_overdue=Case(
                When(status__in=Lead.OPEN_STATUSES, next_follow_up_on__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .filter(position__lte=per_column)
        .order_by("status", "position")
    )
    by_status: dict[str, list] = {status: [] for status in Lead.Status.values}
    for lead in rows:
        by_status[lead.status].append(lead)
    labels = dict(Lead.Status.choices)
    return [
        BoardColumn(
            status=status,
            label=labels[status],
            count=counts.get(status, 0),
            leads=by_status[status],
            closed=status not in Lead.OPEN_STATUSES,
        )
        for status in (*Lead.OPEN_STATUSES, Lead.Status.WON, Lead.Status.LOST)
    ]


def follow_up_page(*, kind: str = "", by=None, before: int | None = None):
    """A page of the firm's follow-up log, newest first; returns the rows and the id to page on (or None)."""
    follow_ups = FollowUp.objects.select_related("lead__customer", "by")
    if kind:
        follow_ups = follow_ups.filter(kind=kind)
    if by is not None:
        follow_ups = follow_ups.filter(by=by)
    return keyset_page(follow_ups, before=before)


def customer_page(*, q: str = "", full_contacts: bool = False, before: int | None = None):
    """A page of customers, newest first, searched by name or mobile, each with its number of leads."""
    customers = Customer.objects.annotate(lead_count=Count("leads"))
    if q:
        customers = customers.filter(customer_match(q, full_contacts=full_contacts))
    return keyset_page(customers, before=before)


def customer_properties(*, customer: Customer):
    return Property.objects.filter(customer=customer).order_by("id")


def customer_leads(*, customer: Customer):
    return Lead.objects.filter(customer=customer).select_related("property", "assigned_to", "designer").order_by("-id")


def referral_rewards_earned(*, referrer: Customer):
    """The rewards a customer earned by referring others, newest first."""
    return (
        ReferralReward.objects.filter(referrer=referrer).select_related("lead__customer").order_by("-created_at", "-id")
    )


# Dashboards and reports ------------------------------------------------------------------------------------

# The pipeline's forward order: a lead "reached" a stage when it stands there or further on, or its status log
# shows it got there once (a lost lead that had been measured still counts as measured).
FUNNEL_STAGES = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.MEASURED, Lead.Status.PROPOSAL, Lead.Status.WON)


def leads_created_between(start: date, end: date):
    since, until = firm_days(start, end)
    return Lead.objects.filter(created_at__gte=since, created_at__lt=until)


def _reached(stage: str) -> Q:
    later = FUNNEL_STAGES[FUNNEL_STAGES.index(stage) :]
    logged = LeadStatusChange.objects.filter(lead=OuterRef("pk"), to_status__in=later)
    return Q(status__in=later) | Q(Exists(logged))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def lead_funnel(*, start: date, end: date) -> list[dict]:
    """Per channel (every channel, in choice order, zeros included), the leads created from ``start`` to ``end``
    (firm-local days, inclusive) and how many of them reached each stage of the pipeline; ``win_rate`` is
    won / created (0..1, None without leads). One query."""
    stages = {str(stage): Count("pk", filter=_reached(stage)) for stage in FUNNEL_STAGES[1:]}
    rows = {
        row["channel"]: row
        for row in leads_created_between(start, end)
        .values("channel")
        .annotate(created=Count("pk"), lost=Count("pk", filter=Q(status=Lead.Status.LOST)), **stages)
        .order_by()
    }
    result = []
    for channel, label in Lead.Channel.choices:
        row = rows.get(channel, {})
        counts = {key: row.get(key, 0) for key in ("created", *stages, "lost")}
        result.append(
            {"channel": channel, "label": label, **counts, "win_rate": _rate(counts["won"], counts["created"])}
        )
    return result


def referral_performance(*, start: date, end: date) -> list[dict]:
    """Per referrer with at least one referral lead created in the period: the leads they referred, how many
    were won, and the rewards earned by those leads (pending, fulfilled, the sum of cash rewards). Most won
    first, then most referred, then by name. One query."""
    reward = ReferralReward.objects.filter(lead=OuterRef("pk"))
    rows = (
        leads_created_between(start, end)
        .filter(channel=Lead.Channel.REFERRAL)
        .annotate(
            reward_status=Subquery(reward.values("status")[:1]),
            reward_cash=Subquery(reward.filter(kind=ReferralReward.Kind.AMOUNT).values("amount")[:1]),
        )
        .values("referrer", "referrer__name")
        .annotate(
            referred=Count("pk"),
            won=Count("pk", filter=Q(status=Lead.Status.WON)),
            rewards_pending=Count("pk", filter=Q(reward_status=ReferralReward.Status.PENDING)),
            rewards_fulfilled=Count("pk", filter=Q(reward_status=ReferralReward.Status.FULFILLED)),
            reward_amount=Coalesce(Sum("reward_cash"), Value(Decimal("0.00")), output_field=DecimalField()),
        )
        .order_by("-won", "-referred", "referrer__name", "referrer")
    )
    return [
        {
            "referrer_id": row["referrer"],
            "referrer_name": row["referrer__name"],
            "referred": row["referred"],
            "won": row["won"],
            "rewards_pending": row["rewards_pending"],
            "rewards_fulfilled": row["rewards_fulfilled"],
            "reward_amount": row["reward_amount"],
        }
        for row in rows
    ]


def leads_created_trend(*, start: date, end: date, by_month: bool) -> dict[date, int]:
    """Leads created per firm-local day (or month) of the period: {first day: count}, days without leads left
    out. One query."""
    zone = require_current_tenant().zone
    bucket = (TruncMonth if by_month else TruncDate)("created_at", tzinfo=zone)
    rows = leads_created_between(start, end).annotate(bucket=bucket).values("bucket").annotate(n=Count("pk"))
    return {
        (row["bucket"].date() if isinstance(row["bucket"], datetime) else row["bucket"]): row["n"]
        for row in rows.order_by()
    }


def follow_up_counts(*, user, on: date) -> dict[str, int]:
    """How many of ``user``'s open leads are to be followed up on ``on`` and how many are overdue: the two
    lists of the follow-up page, counted in one query."""
    return _my_open_leads(user).aggregate(
        due=Count("pk", filter=Q(next_follow_up_on=on)), overdue=Count("pk", filter=Q(next_follow_up_on__lt=on))
    )


# The agenda -------------------------------------------------------------------------------------------------


def follow_ups_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Open leads whose next follow-up falls on the firm-local days ``start`` to ``end`` (inclusive), of the
    customer managers ``staff`` (user ids; None: everyone's), with what the agenda shows of each."""
    leads = Lead.objects.filter(status__in=Lead.OPEN_STATUSES, next_follow_up_on__gte=start, next_follow_up_on__lte=end)
    if staff is not None:
        leads = leads.filter(assigned_to__in=staff)
    return leads.select_related("customer", "property", "assigned_to").order_by("next_follow_up_on", "id")
