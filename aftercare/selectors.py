"""Reads for aftercare: the coverage that covers a repair, the repair list and a repair's page, a project's
warranty card, expiring coverages, the customers member care writes to, referral rewards, and the report
figures. Query counts do not grow with the rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, Value, When
from django.utils import timezone

from aftercare.models import Area, CareMessage, CareOptOut, Coverage, RepairPhoto, RepairRequest, RepairVisit
from contracts.models import Project
from leads.models import Customer, ReferralReward
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


def coverage_for(project: Project, area: str, trade: str = "", *, on: date | None = None) -> Coverage | None:
    """The coverage of a project that covers a repair in this area (and trade, when given) on a day: one of
    the area or the whole home, of no trade or of the request's trade, running on that day. The most specific wins:
    the exact area, then the exact trade, then the one that lasts longest."""
    on = on or firm_today()
    candidates = Coverage.objects.filter(project=project, starts_on__lte=on, ends_on__gte=on).filter(
        Q(area=area) | Q(area=Area.WHOLE_HOME)
    )
    if trade:
        # Without a trade named, a coverage of any trade in the area counts.
        candidates = candidates.filter(Q(trade="") | Q(trade=trade))
    return (
        candidates.annotate(
            area_rank=Case(When(area=area, then=Value(0)), default=Value(1), output_field=IntegerField()),
            trade_rank=Case(
                When(~Q(trade="") & Q(trade=trade), then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("area_rank", "trade_rank", "-ends_on", "id")
        .first()
    )


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
):
    """The firm's repair requests newest first, keyset-paged by id."""
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
            | Q(project__name__icontains=search)
            | Q(project__customer__name__icontains=search)
            | Q(project__customer__mobile__startswith=search)
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
        .select_related("assigned_to")
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
    )


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
