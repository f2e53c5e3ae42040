"""Known data for the report tests: February 2026 in a Shanghai firm, seen on 20 February."""

from datetime import UTC, date, datetime, timedelta

import pytest

from callbacks.models import Callback
from complaints.models import Complaint
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.callbacks.factories import CallbackFactory, SurveyDefectFactory, SurveyFactory
from tests.complaints.factories import ComplaintFactory
from tests.factories import MembershipFactory

FEB = (date(2026, 2, 1), date(2026, 2, 28))
TODAY = datetime(2026, 2, 20, 4, 0, tzinfo=UTC)  # 12:00 on 20 February in Shanghai
FEB_QUERY = {"period": "custom", "start": "2026-02-01", "end": "2026-02-28"}
MID = datetime(2026, 2, 12, 2, 0, tzinfo=UTC)
UNREACHABLE_MOBILE = "13812341234"
OVERDUE_MOBILE = "13955556666"
FORMULA = '=HYPERLINK("http://evil.example","click")'


def member(firm, role=Role.CUSTOMER_SERVICE, **user):
    return MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()}).user


def client_for(client, firm, role, **user):
    client.force_login(member(firm, role, **user))
    return client


def survey(at=MID, *, overall, nps=None, **fields):
    return SurveyFactory(callback__due_on=date(2026, 2, 2), submitted_at=at, overall=overall, nps=nps, **fields)


def callback(*, due_on, status, mobile=None, name=None, **fields):
    made = CallbackFactory(due_on=due_on, status=status, **fields)
    if mobile or name:
        customer = made.customer
        customer.mobile = mobile or customer.mobile
        customer.name = name or customer.name
        customer.save()
    return made


def add_february(firm):
    """February 2026 in ``firm``: call inside its context."""
    li = member(firm, Role.DESIGNER, name="Li")
    wu = member(firm, Role.DESIGNER, name="Wu")
    pm = member(firm, Role.PROJECT_MANAGER, name="Pan")
    surveys = [
        survey(
            datetime(2026, 1, 31, 16, 10, tzinfo=UTC),
            overall=5,
            nps=10,
            designer=li,
            designer_rating=5,
            suggestions="Faster repairs",
            project_manager=pm,
        ),
        survey(overall=4, nps=9, designer=li, designer_rating=4, suggestions="  Faster repairs "),
        survey(overall=2, nps=3, designer=li, designer_rating=2, suggestions=FORMULA),
        survey(
            MID + timedelta(hours=1),
            overall=3,
            nps=7,
            designer=wu,
            designer_rating=3,
            suggestions="Call me on 13700001111",
        ),
        survey(overall=5, designer=wu, designer_rating=5),
    ]
    # January's survey, for the trend.
    survey(datetime(2026, 1, 10, 2, 0, tzinfo=UTC), overall=1, nps=0, designer=li)
    SurveyDefectFactory(survey=surveys[0], trade="painting", kind="crack")
    SurveyDefectFactory(survey=surveys[2], trade="painting", kind="uneven")
    SurveyDefectFactory(survey=surveys[3], trade="plumbing_electrical", kind="leak")
    S = Callback.Status
    callback(due_on=date(2026, 2, 5), status=S.UNREACHABLE, mobile=UNREACHABLE_MOBILE, name="Zhao Lei", attempts=3)
    callback(due_on=date(2026, 2, 10), status=S.OPEN, mobile=OVERDUE_MOBILE, name="Sun Li")
    callback(due_on=date(2026, 2, 6), status=S.CANCELLED)
    callback(due_on=date(2026, 2, 27), status=S.SCHEDULED)
    callback(due_on=date(2026, 1, 30), status=S.OPEN)  # January's
    agent = member(firm, Role.CUSTOMER_SERVICE, name="Zhou")
    resolved = ComplaintFactory(
        opened_at=MID,
        category=Complaint.Category.QUALITY,
        trade="painting",
        responsible=pm,
        owner=agent,
        status=Complaint.Status.RESOLVED,
        resolved_at=MID + timedelta(hours=10),
    )
    ComplaintFactory(opened_at=MID, category=Complaint.Category.SCHEDULE, level=2, responsible=pm, owner=agent)
    ComplaintFactory(opened_at=MID, category=Complaint.Category.QUALITY, trade="painting", owner=agent)
    ComplaintFactory(
        opened_at=MID,
        category=Complaint.Category.QUALITY,
        trade="carpentry",
        status=Complaint.Status.RESOLVED,
        resolved_at=MID + timedelta(hours=30),
        owner=agent,
    )
    ComplaintFactory(opened_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # March's
    return {"li": li, "wu": wu, "pm": pm, "agent": agent, "resolved": resolved}


def add_more(firm, n: int, *, tag: str = "More"):
    """``n`` more surveys, defects, callbacks and complaints in February, with staff and suggestions named
    after ``tag`` (for query counts at a second size, and another firm's data)."""
    S = Callback.Status
    agent = member(firm, Role.CUSTOMER_SERVICE, name=f"{tag}-agent")
    for i in range(n):
        extra = member(firm, Role.DESIGNER, name=f"{tag}-designer-{i}")
        SurveyDefectFactory(
            survey=survey(overall=4, nps=8, designer=extra, suggestions=f"{tag}-idea-{i}", project_manager=extra),
            trade="carpentry",
        )
        callback(due_on=date(2026, 2, 3), status=S.UNREACHABLE, name=f"{tag}-customer-{i}")
        callback(due_on=date(2026, 2, 4), status=S.RETRY)
        ComplaintFactory(opened_at=MID, trade="masonry", responsible=extra, owner=agent)


@pytest.fixture
def february(firm_a):
    with tenant_context(firm_a):
        return add_february(firm_a)
