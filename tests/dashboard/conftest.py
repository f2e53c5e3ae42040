"""A firm with a known week of work for the home dashboards, as of Wednesday 18 March 2026, 10:00 in Shanghai.

``build(firm, staff)`` writes the same records in any firm; the tests build them in firm A *and* firm B, so a
figure that leaked across firms would come out doubled. ``grow(firm, staff, n)`` adds ``n`` more records of
every kind, for the query-count tests. The figures each role's dashboard must show are listed in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftercare.models import RepairRequest
from callbacks.models import Callback
from complaints.models import Complaint
from contracts.models import Contract, Instalment
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.callbacks.factories import CallbackFactory, SurveyFactory
from tests.complaints.factories import ComplaintFactory
from tests.contracts.factories import ContractFactory, InstalmentFactory
from tests.factories import MembershipFactory, UserFactory
from tests.leads.factories import LeadFactory, LeadStatusChangeFactory
from tests.worksites.factories import (
    HandoverFactory,
    InspectionFactory,
    PhaseFactory,
    RectificationItemFactory,
    WorksiteFactory,
)
from worksites.models import Handover, Inspection, Phase, PhaseKind, RectificationItem, Worksite

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
ROLES = [role.value for role in Role]


def march(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def frozen():
    """The clock stands at Wednesday 18 March 2026, 10:00 in Shanghai (02:00 UTC)."""
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield NOW


@dataclass
class Staff:
    firm: object
    admin: object
    sales: object
    designer: object
    project_manager: object
    qc: object
    customer_service: object
    finance: object

    def of(self, role: str):
        return getattr(self, role)


def make_staff(firm, tag: str) -> Staff:
    def member(role):
        user = UserFactory(username=f"{role}-{tag}", name=f"{role.replace('_', ' ').title()} {tag.upper()}")
        MembershipFactory(tenant=firm, role=role, user=user)
        return user

    return Staff(firm, *(member(role) for role in ROLES))


def _lead(*, created: datetime | None = None, log=(), **fields) -> Lead:
    lead = LeadFactory(**fields)
    if created is not None:
        Lead.objects.filter(pk=lead.pk).update(created_at=created)
    for from_status, to_status in log:
        LeadStatusChangeFactory(lead=lead, from_status=from_status, to_status=to_status)
    return lead


def _contract(anchor: Lead, *, signed_on: date, amount: str, package: str) -> Contract:
    return ContractFactory(
        project__lead=anchor,
        signed_on=signed_on,
        original_amount=Decimal(amount),
        amount=Decimal(amount),
        package_type=package,
        planned_start=signed_on,
        planned_end=signed_on + timedelta(days=90),
    )


def _phase(worksite, position, kind, start, end, status=Phase.Status.PLANNED):
    return PhaseFactory(
        worksite=worksite,
        position=position,
        kind=kind,
        name=PhaseKind(kind).label,
        planned_start=start,
        planned_end=end,
        status=status,
    )


def build(firm, staff: Staff) -> dict:
    """One firm's records; returns the ones the tests point at."""
    S = Lead.Status
    d = date
    with tenant_context(firm):
        # Leads. The anchor lead (won in 2025) carries every project, so the projects add no lead of their own.
        anchor = _lead(channel=Lead.Channel.OTHER, status=S.WON, created=datetime(2025, 6, 1, tzinfo=SHANGHAI))
        sales = staff.sales
        _lead(channel="online", status=S.NEW, assigned_to=sales, next_follow_up_on=TODAY)
        _lead(
            channel="online", status=S.CONTACTED, assigned_to=sales, next_follow_up_on=d(2026, 3, 17), created=march(3)
        )
        _lead(
            channel="showroom", status=S.MEASURED, assigned_to=sales, next_follow_up_on=d(2026, 3, 10), created=march(5)
        )
        _lead(
            channel="referral",
            referrer=anchor.customer,
            status=S.PROPOSAL,
            assigned_to=sales,
            next_follow_up_on=d(2026, 3, 19),
        )
        _lead(
            channel="online",
            status=S.WON,
            assigned_to=sales,
            log=[(S.NEW, S.CONTACTED), (S.CONTACTED, S.MEASURED), (S.MEASURED, S.PROPOSAL), (S.PROPOSAL, S.WON)],
        )
        _lead(channel="phone", status=S.LOST, assigned_to=sales)
        _lead(channel="phone", status=S.NEW, assigned_to=staff.admin, next_follow_up_on=TODAY)
        _lead(channel="online", status=S.WON, created=datetime(2026, 2, 10, 9, tzinfo=SHANGHAI))

        # Contracts and instalments.
        c1 = _contract(anchor, signed_on=d(2026, 3, 2), amount="100000.00", package="full")
        c2 = _contract(anchor, signed_on=d(2026, 3, 17), amount="250000.00", package="whole_house")
        c3 = _contract(anchor, signed_on=d(2026, 2, 20), amount="80000.00", package="half")
        c4 = _contract(anchor, signed_on=d(2025, 12, 1), amount="50000.00", package="half")
        InstalmentFactory(contract=c1, sequence=1, amount=Decimal("30000.00"), due_on=d(2026, 3, 10))
        InstalmentFactory(
            contract=c1, sequence=2, kind=Instalment.Kind.MIDTERM, amount=Decimal("60000.00"), due_on=d(2026, 3, 30)
        )
        InstalmentFactory(contract=c1, sequence=3, kind=Instalment.Kind.FINAL, amount=Decimal("10000.00"))
        InstalmentFactory(
            contract=c2, sequence=1, amount=Decimal("75000.00"), due_on=d(2026, 3, 17), paid_on=d(2026, 3, 17)
        )
        InstalmentFactory(contract=c3, sequence=1, amount=Decimal("24000.00"), due_on=d(2026, 4, 30))

        # Worksites: S1 in progress (plumbing late, masonry due), S2 not started (demolition due), S3 handed over,
        # S4 in progress without a crew (carpentry late).
        crew = {"designer": staff.designer, "project_manager": staff.project_manager}
        s1 = WorksiteFactory(contract=c1, status=Worksite.Status.IN_PROGRESS, qc_inspector=staff.qc, **crew)
        _phase(s1, 1, "demolition", d(2026, 3, 1), d(2026, 3, 4), Phase.Status.DONE)
        _phase(s1, 2, "plumbing_electrical", d(2026, 3, 5), d(2026, 3, 15), Phase.Status.IN_PROGRESS)
        _phase(s1, 3, "masonry", d(2026, 3, 16), d(2026, 3, 24))
        s2 = WorksiteFactory(contract=c2, status=Worksite.Status.NOT_STARTED, project_manager=staff.project_manager)
        _phase(s2, 1, "demolition", d(2026, 3, 20), d(2026, 3, 25))
        s3 = WorksiteFactory(contract=c3, status=Worksite.Status.HANDED_OVER, **crew)
        _phase(s3, 1, "completion_acceptance", d(2026, 2, 1), d(2026, 3, 12), Phase.Status.ACCEPTED)
        s4 = WorksiteFactory(contract=c4, status=Worksite.Status.IN_PROGRESS)
        _phase(s4, 1, "carpentry", d(2026, 3, 1), d(2026, 3, 10), Phase.Status.IN_PROGRESS)

        handover = HandoverFactory(worksite=s3, status=Handover.Status.COMPLETED, handed_over_on=d(2026, 3, 12))
        HandoverFactory(worksite=s1)
        R = RectificationItem.Status
        for owner, status, deadline in (
            (staff.project_manager, R.OPEN, d(2026, 3, 15)),
            (staff.project_manager, R.FIXED, d(2026, 3, 10)),
            (staff.designer, R.OPEN, d(2026, 3, 25)),
            (staff.designer, R.CLOSED, d(2026, 3, 5)),
            (staff.admin, R.OPEN, d(2026, 3, 1)),
        ):
            RectificationItemFactory(handover=handover, owner=owner, status=status, deadline=deadline)
        InspectionFactory(worksite=s1, kind=Inspection.Kind.MID_TERM)
        InspectionFactory(worksite=s1, kind=Inspection.Kind.CONCEALED_WORKS, result=Inspection.Result.PASSED)
        InspectionFactory(worksite=s4, kind=Inspection.Kind.WATERPROOFING_TEST)

        # Callbacks of the handed-over worksite.
        C = Callback.Status
        cs = staff.customer_service
        callbacks = {}
        for key, status, due_on, agent in (
            ("due", C.OPEN, TODAY, cs),
            ("overdue", C.OPEN, d(2026, 3, 16), cs),
            ("overdue-admin", C.OPEN, d(2026, 3, 12), staff.admin),
            ("done", C.COMPLETED, d(2026, 3, 5), cs),
            ("unreachable", C.UNREACHABLE, d(2026, 3, 6), cs),
            ("scheduled", C.SCHEDULED, d(2026, 3, 28), None),
            ("cancelled", C.CANCELLED, d(2026, 3, 9), cs),
            ("february", C.COMPLETED, d(2026, 2, 10), cs),
            ("january", C.COMPLETED, d(2026, 2, 1), cs),
        ):
            callbacks[key] = CallbackFactory(worksite=s3, status=status, due_on=due_on, assigned_to=agent)
        SurveyFactory(callback=callbacks["done"], overall=5, nps=10, submitted_at=march(5))
        SurveyFactory(callback=callbacks["february"], overall=3, nps=6, submitted_at=march(3))
        SurveyFactory(
            callback=callbacks["january"], overall=1, nps=0, submitted_at=datetime(2026, 2, 11, tzinfo=SHANGHAI)
        )

        # Complaints: on time, overdue (level 2), due within the hour (level 3), resolved, and one of February.
        K = Complaint.Status
        project = c3.project
        complaints = {
            "on-time": ComplaintFactory(project=project, opened_at=march(18, 8)),
            "overdue": ComplaintFactory(project=project, level=2, opened_at=march(17, 9)),
            "due-soon": ComplaintFactory(
                project=project,
                level=3,
                status=K.IN_PROGRESS,
                opened_at=march(16, 10, 30),
                responded_at=march(16, 11),
            ),
            "resolved": ComplaintFactory(project=project, status=K.RESOLVED, opened_at=march(2)),
            "february": ComplaintFactory(
                project=project, level=2, status=K.CLOSED, opened_at=datetime(2026, 2, 20, tzinfo=SHANGHAI)
            ),
        }

        # Aftercare: one repair past its response deadline; one coverage ending within 30 days.
        RepairRequestFactory(project=project, reported_at=march(10))
        RepairRequestFactory(project=project, reported_at=march(18, 8))
        RepairRequestFactory(project=project, reported_at=march(1), status=RepairRequest.Status.RESOLVED)
        CoverageFactory(project=project, starts_on=d(2024, 4, 10), ends_on=d(2026, 4, 10))
        CoverageFactory(project=project, starts_on=d(2026, 3, 12), ends_on=d(2028, 3, 12))
        CoverageFactory(project=project, starts_on=d(2024, 3, 1), ends_on=d(2026, 3, 1))
    return {"anchor": anchor, "contracts": [c1, c2, c3, c4], "worksites": [s1, s2, s3, s4], "complaints": complaints}


def grow(firm, staff: Staff, records: dict, n: int) -> None:
    """``n`` more of every kind of record each dashboard counts or lists, so the figures change and the
    number of queries must not."""
    anchor = records["anchor"]
    project = records["contracts"][2].project
    s1 = records["worksites"][0]
    with tenant_context(firm):
        handover = Handover.objects.get(worksite=records["worksites"][2])
        for i in range(n):
            _lead(channel="online", status=Lead.Status.CONTACTED, assigned_to=staff.sales, next_follow_up_on=TODAY)
            _lead(channel="referral", referrer=anchor.customer, status=Lead.Status.LOST, assigned_to=staff.sales)
            contract = _contract(anchor, signed_on=date(2026, 3, 3), amount="1000.00", package="half")
            InstalmentFactory(contract=contract, sequence=1, amount=Decimal("10.00"), due_on=date(2026, 3, 1))
            site = WorksiteFactory(
                contract=contract,
                status=Worksite.Status.IN_PROGRESS,
                designer=staff.designer,
                project_manager=staff.project_manager,
                qc_inspector=staff.qc,
            )
            _phase(site, 1, "painting", date(2026, 3, 1), date(2026, 3, 17), Phase.Status.IN_PROGRESS)
            _phase(site, 2, "installation", date(2026, 3, 18), date(2026, 3, 20))
            InspectionFactory(worksite=site, kind=Inspection.Kind.QC_PRE_INSPECTION)
            for owner in (staff.project_manager, staff.designer, staff.admin):
                RectificationItemFactory(handover=handover, owner=owner, deadline=date(2026, 3, 2))
            CallbackFactory(worksite=s1, status=Callback.Status.OPEN, due_on=TODAY, assigned_to=staff.customer_service)
            done = CallbackFactory(
                worksite=s1,
                status=Callback.Status.COMPLETED,
                due_on=date(2026, 3, 4),
                assigned_to=staff.customer_service,
            )
            SurveyFactory(callback=done, overall=4, nps=8, submitted_at=march(4))
            ComplaintFactory(project=project, level=1 + i % 3, opened_at=march(17, 9))
            RepairRequestFactory(project=project, reported_at=march(9))
            CoverageFactory(project=project, starts_on=date(2024, 4, 1), ends_on=date(2026, 4, 1))


@pytest.fixture
def staff_a(firm_a):
    return make_staff(firm_a, "a")


@pytest.fixture
def staff_b(firm_b):
    return make_staff(firm_b, "b")


@pytest.fixture
def two_firms(frozen, firm_a, firm_b, staff_a, staff_b):
    """The same records in firm A and firm B; returns firm A's staff and records."""
    build(firm_b, staff_b)
    return staff_a, build(firm_a, staff_a)


@pytest.fixture
def english(settings):
    """Pages in English, so assertions read the source strings."""
    settings.LANGUAGE_CODE = "en"
