"""Reads for aftercare: the coverage that covers a repair, the repair list and a repair's page, a project's
warranty card, expiring coverages, the customers member care writes to, referral rewards, and the report
figures. Query counts do not grow with the rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone

from aftercare.models import (
    Area,
    CareMessage,
    CareOptOut,
    Coverage,
    RepairPhoto,
    RepairRequest,
    RepairVisit,
    WarrantyCard,
)
from contracts.models import Project, TradeCategory
from leads.models import Customer, ReferralReward
from leads.selectors import customer_match
from renocrm.paging import keyset_page
from renocrm.tenancy.time import firm_days, firm_today

# A coverage this close to its end is shown as "expiring soon".
EXPIRING_SOON_DAYS = 30
ACTIVE, EXPIRING_SOON, EXPIRED, NOT_STARTED = "active", "expiring_soon", "expired", "not_started"


def coverage_status(coverage: Coverage, *, today: date) -> str:
    if coverage.ends_on < today:
        return EXPIRED
    if coverage.starts_on > today:
        return NOT_STARTED
    if coverage.ends_on <= today + timedelta(days=EXPIRING_SOON_DAYS):
        return EXPIRING_SOON
    return ACTIVE


def with_status(coverages, *, today: date) -> list[Coverage]:
    rows = list(coverages)
    for coverage in rows:
        coverage.status = coverage_status(coverage, today=today)
        coverage.days_left = (coverage.ends_on - today).days
    return rows


# Coverage check ----------------------------------------------------------------------------------------------


# A problem of this kind reported without a trade is taken to be of this trade: a leak is the waterproofing's
# until staff, triaging it, name another trade.
CATEGORY_TRADES = {RepairRequest.Category.LEAK: TradeCategory.WATERPROOFING}


def repair_trade(trade: str = "", category: str = "") -> str:
    """The trade a repair's coverage is matched on: the one named, else the one its kind of problem implies."""
    return trade or CATEGORY_TRADES.get(category, "")


@dataclass(frozen=True)
class CoverageDecision:
    """Which coverage covers a repair, if any, and why: ``reason`` is what
    ``aftercare.models.coverage_explanation`` puts into words (the covering coverage and its end, or each
    of the area's coverages with why it did not apply)."""

    coverage: Coverage | None
    reason: dict

    @property
    def is_covered(self) -> bool:
        return self.coverage is not None


def coverage_decide(
    project: Project, area: str, trade: str = "", category: str = "", *, on: date | None = None
) -> CoverageDecision:
    """The warranty decision for a repair in ``area`` reported on the firm-local day ``on``. A coverage
    applies when it is of the repair's area or of the whole home, runs on that day, and is of no trade (the
    general works) or of the repair's trade — a trade the request names, or the one its kind of problem
    implies (a leak: waterproofing). So a bathroom defect named with no trade in year 4 is not covered by the
    five-year bathroom waterproofing; as a waterproofing repair or a leak it is. The most specific wins: the
    exact area, then the exact trade, then the one that lasts longest."""
    on = on or firm_today()
    wanted = repair_trade(trade, category)
    relevant = list(
        Coverage.objects.filter(project=project)
        .filter(Q(area=area) | Q(area=Area.WHOLE_HOME))
        .order_by("ends_on", "id")
    )
    fits = [c for c in relevant if c.starts_on <= on <= c.ends_on and (not c.trade or c.trade == wanted)]
    if fits:
        best = min(fits, key=lambda c: (c.area != area, not c.trade, -c.ends_on.toordinal(), c.pk))
        return CoverageDecision(best, {"coverage": best.name, "ends_on": best.ends_on.isoformat()})
    misses = []
    for coverage in relevant:
        if coverage.ends_on < on:
            misses.append({"coverage": coverage.name, "ended": coverage.ends_on.isoformat()})
        elif coverage.starts_on > on:
            misses.append({"coverage": coverage.name, "starts": coverage.starts_on.isoformat()})
        else:
            misses.append({"coverage": coverage.name, "trade": coverage.trade})
    return CoverageDecision(None, {"misses": misses})


def coverage_for(
    project: Project, area: str, trade: str = "", category: str = "", *, on: date | None = None
) -> Coverage | None:
    """The coverage that covers such a repair on that day, or None (see ``coverage_decide``)."""
    return coverage_decide(project, area, trade, category, on=on).coverage


# Repairs -----------------------------------------------------------------------------------------------------


def repairs_overdue(queryset=None, *, now: datetime):
    """Open repairs (of ``queryset``, else all of them) past a deadline they have not met: no response by
    ``respond_by``, nobody on site by ``on_site_by``."""
    queryset = RepairRequest.objects.all() if queryset is None else queryset
    return queryset.filter(status__in=RepairRequest.OPEN_STATUSES).filter(
        Q(respond_by__lt=now, responded_at__isnull=True) | Q(on_site_by__lt=now, on_site_at__isnull=True)
    )


def repair_request_page(
    *,
    statuses=(),
    covered: bool | None = None,
    assigned_to=None,
    unassigned: bool = False,
    overdue: bool = False,
    search: str = "",
    project: Project | None = None,
    before: int | None = None,
    full_contacts: bool = False,
):
    """The firm's repair requests newest first, keyset-paged by id; ``search`` finds the customer under
    ``leads.selectors.customer_match`` (``full_contacts``: whether the searcher sees full mobiles)."""
    repairs = RepairRequest.objects.select_related("project__customer", "assigned_to")
    if statuses:
        repairs = repairs.filter(status__in=list(statuses))
    if covered is not None:
        repairs = repairs.filter(is_covered=covered)
    if assigned_to is not None:
        repairs = repairs.filter(assigned_to=assigned_to)
    if unassigned:
        repairs = repairs.filter(assigned_to__isnull=True)
    if overdue:
        repairs = repairs_overdue(repairs, now=timezone.now())
    if project is not None:
        repairs = repairs.filter(project=project)
    search = (search or "").strip()
    if search:
        match = (
            Q(description__icontains=search)
            | Q(project__name__finds=search)
            | customer_match(search, "project__customer__", full_contacts=full_contacts)
        )
        if search.lstrip("#").isdigit():
            match |= Q(pk=int(search.lstrip("#")))
        repairs = repairs.filter(match)
    return keyset_page(repairs, before=before)


def repair_request_detail(*, pk: int) -> RepairRequest:
    return (
        RepairRequest.objects.select_related("project__customer", "assigned_to", "coverage", "created_by")
        .prefetch_related(
            Prefetch("visits", queryset=RepairVisit.objects.select_related("by").order_by("at", "id")),
            Prefetch("photos", queryset=RepairPhoto.objects.order_by("id")),
        )
        .get(pk=pk)
    )


def project_repairs(*, project: Project) -> list[RepairRequest]:
    """A project's repairs, newest first, with their photos (the homeowner portal and the project page)."""
    return list(
        RepairRequest.objects.filter(project=project)
        .select_related("assigned_to", "coverage")
        .prefetch_related(Prefetch("photos", queryset=RepairPhoto.objects.order_by("id")))
        .order_by("-reported_at", "-id")
    )


# A project's aftercare ---------------------------------------------------------------------------------------


@dataclass
class ProjectAftercare:
    project: Project
    today: date
    coverages: list[Coverage]
    repairs: list[RepairRequest]
    care_messages: list[CareMessage]
    opt_out: CareOptOut | None
    referral_rewards: list[ReferralReward] = field(default_factory=list)
    warranty_cards: list[WarrantyCard] = field(default_factory=list)


def project_coverages(*, project: Project, today: date | None = None) -> list[Coverage]:
    today = today or firm_today()
    return with_status(Coverage.objects.filter(project=project).order_by("ends_on", "id"), today=today)


def project_aftercare(*, project: Project) -> ProjectAftercare:
    today = firm_today()
    customer_id = project.customer_id
    return ProjectAftercare(
        project=project,
        today=today,
        coverages=project_coverages(project=project, today=today),
        repairs=project_repairs(project=project),
        care_messages=list(CareMessage.objects.filter(customer_id=customer_id).order_by("-sent_at", "-id")[:50]),
        opt_out=CareOptOut.objects.filter(customer_id=customer_id).first(),
        referral_rewards=list(
            ReferralReward.objects.filter(referrer_id=customer_id).select_related("lead__customer").order_by("-id")
        ),
        warranty_cards=list(WarrantyCard.objects.filter(project=project)),
    )


# Warranty cards ----------------------------------------------------------------------------------------------


@dataclass
class WarrantyCardPage:
    card: WarrantyCard
    coverages: list[Coverage]


def warranty_card_detail(*, pk: int) -> WarrantyCardPage:
    """A warranty card with what it shows: the customer, the project and its address, its coverages."""
    card = WarrantyCard.objects.select_related("project__property", "customer").get(pk=pk)
    coverages = list(Coverage.objects.filter(project_id=card.project_id).order_by("ends_on", "id"))
    return WarrantyCardPage(card=card, coverages=coverages)


def project_warranty_card(*, project: Project) -> WarrantyCard | None:
    return WarrantyCard.objects.filter(project=project).first()


# Expiring coverages ------------------------------------------------------------------------------------------


def coverages_expiring(*, within_days: int, today: date | None = None):
    """Coverages running today that end within ``within_days`` days, soonest first."""
    today = today or firm_today()
    return Coverage.objects.filter(
        starts_on__lte=today, ends_on__gte=today, ends_on__lte=today + timedelta(days=within_days)
    )


def coverages_expiring_list(*, within_days: int, today: date | None = None, limit: int = 200) -> list[Coverage]:
    today = today or firm_today()
    rows = (
        coverages_expiring(within_days=within_days, today=today)
        .select_related("project__customer")
        .order_by("ends_on", "id")[:limit]
    )
    return with_status(rows, today=today)


def coverages_expiring_count(*, within_days: int, today: date | None = None) -> int:
    return coverages_expiring(within_days=within_days, today=today).count()


# Member care -------------------------------------------------------------------------------------------------


def care_customers():
    """Customers member care may write to: with a project handed over, and not opted out."""
    return (
        Customer.objects.filter(projects__handed_over_on__isnull=False)
        .exclude(pk__in=CareOptOut.objects.values("customer_id"))
        .distinct()
    )


# Referral rewards --------------------------------------------------------------------------------------------


def referral_reward_page(*, status: str = "", before: int | None = None):
    rewards = ReferralReward.objects.select_related("referrer", "lead__customer")
    if status:
        rewards = rewards.filter(status=status)
    return keyset_page(rewards, before=before)


# Reports -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaCompliance:
    reported: int
    responded: int
    responded_in_time: int
    on_site: int
    on_site_in_time: int

    @property
    def response_rate(self) -> float | None:
        """Share of the period's repairs answered by their response deadline (None without repairs)."""
        return self.responded_in_time / self.reported if self.reported else None

    @property
    def on_site_rate(self) -> float | None:
        return self.on_site_in_time / self.reported if self.reported else None


def repair_sla_compliance(*, start: date, end: date) -> SlaCompliance:
    """How the firm kept its repair SLAs for repairs reported from ``start`` to ``end`` (firm days,
    inclusive), cancelled ones left out. One query."""
    since, until = firm_days(start, end)
    figures = (
        RepairRequest.objects.filter(reported_at__gte=since, reported_at__lt=until)
        .exclude(status=RepairRequest.Status.CANCELLED)
        .aggregate(
            reported=Count("id"),
            responded=Count("id", filter=Q(responded_at__isnull=False)),
            responded_in_time=Count("id", filter=Q(responded_at__lte=F("respond_by"))),
            on_site=Count("id", filter=Q(on_site_at__isnull=False)),
            on_site_in_time=Count("id", filter=Q(on_site_at__lte=F("on_site_by"))),
        )
    )
    return SlaCompliance(**figures)


# The agenda -------------------------------------------------------------------------------------------------


def repairs_on_site_due_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Open repair requests nobody has been on site for yet whose on-site deadline falls on the firm-local days
    ``start`` to ``end`` (inclusive), assigned to ``staff`` (user ids; None: everyone's), with the property."""
    since, until = firm_days(start, end)
    repairs = RepairRequest.objects.filter(
        status__in=RepairRequest.OPEN_STATUSES, on_site_at__isnull=True, on_site_by__gte=since, on_site_by__lt=until
    )
    if staff is not None:
        repairs = repairs.filter(assigned_to__in=staff)
    return repairs.select_related("project__customer", "project__property", "assigned_to").order_by("on_site_by", "id")


def repair_visits_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Visits on site for repairs, logged on the firm-local days ``start`` to ``end`` (inclusive) by ``staff``
    (user ids; None: everyone's), with the repair's project and property."""
    since, until = firm_days(start, end)
    visits = RepairVisit.objects.filter(kind=RepairVisit.Kind.VISIT, at__gte=since, at__lt=until)
    if staff is not None:
        visits = visits.filter(by__in=staff)
    return visits.select_related("repair__project__customer", "repair__project__property", "by").order_by("at", "id")
