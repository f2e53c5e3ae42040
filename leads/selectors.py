from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import BooleanField, Case, Count, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from renocrm.accounts.roles import Role
from renocrm.paging import keyset_page
from renocrm.tenancy.time import firm_today

from .models import Customer, FollowUp, Lead, Property, ReferralReward
from .validators import normalize_mobile


def customer_match(q: str, prefix: str = "") -> Q:
    """The search of every list that names customers: their name, or part of their mobile number (typed
    with spaces, dashes or +86), through the ``prefix`` path (e.g. ``"lead__"``)."""
    digits = normalize_mobile(q)
    match = Q(**{f"{prefix}name__icontains": q})
    if digits.isdigit():
        match |= Q(**{f"{prefix}mobile__contains": digits})
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


def lead_page(*, status: str = "", channel: str = "", q: str = "", before: int | None = None):
    """A page of leads, newest first, by id keyset (no COUNT over the firm's table); the extra row fetched
    says whether there is an older page."""
    leads = Lead.objects.select_related("customer", "assigned_to").order_by("-id")
    if status:
        leads = leads.filter(status=status)
    if channel:
        leads = leads.filter(channel=channel)
    if q:
        leads = leads.filter(customer_match(q, "customer__"))
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


def customer_page(*, q: str = "", before: int | None = None):
    """A page of customers, newest first, searched by name or mobile, each with its number of leads."""
    customers = Customer.objects.annotate(lead_count=Count("leads"))
    if q:
        customers = customers.filter(customer_match(q))
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
