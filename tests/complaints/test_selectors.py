"""Complaint reads: the board and the list with their clocks, and the reports — counted in SQL, in a fixed
number of queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import selectors
from complaints.models import Complaint
from complaints.services import handling as services
from renocrm.tenancy.context import tenant_context
from tests.complaints.conftest import staff
from tests.complaints.factories import ComplaintFactory
from tests.complaints.test_services import open_complaint

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def make(n, **kwargs):
    return [ComplaintFactory(**kwargs) for _ in range(n)]


def count_queries(read):
    with CaptureQueriesContext(connection) as captured:
        result = read()
    return len(captured.captured_queries), result


def test_clock_runs_to_respond_then_to_resolve_and_says_when_it_is_due_soon_or_overdue(firm_a):
    with tenant_context(firm_a):
        complaint = ComplaintFactory(opened_at=T0)
        clock = selectors.complaint_clock(complaint, now=T0 + timedelta(hours=3, minutes=10))
        assert (clock.kind, clock.state, clock.hours, clock.minutes) == ("respond", "due_soon", 0, 50)
        assert selectors.complaint_clock(complaint, now=T0 + timedelta(hours=1)).state == "on_time"
        late = selectors.complaint_clock(complaint, now=T0 + timedelta(hours=6, minutes=5))
        assert (late.state, late.hours, late.minutes) == ("overdue", 2, 5)
        complaint.responded_at = T0 + timedelta(hours=1)
        clock = selectors.complaint_clock(complaint, now=T0 + timedelta(hours=6))
        assert (clock.kind, clock.deadline, clock.state) == ("resolve", T0 + timedelta(hours=48), "on_time")
        complaint.status = Complaint.Status.RESOLVED
        assert selectors.complaint_clock(complaint, now=T0) is None


def test_board_puts_active_complaints_in_their_level_most_urgent_first(firm_a, team):
    with tenant_context(firm_a):
        later = ComplaintFactory(opened_at=T0 + timedelta(hours=1), owner=team.agent)
        sooner = ComplaintFactory(opened_at=T0, owner=team.pm)
        ComplaintFactory(opened_at=T0, level=2)
        ComplaintFactory(opened_at=T0 - timedelta(days=1), level=3)
        ComplaintFactory(opened_at=T0, status=Complaint.Status.RESOLVED)
        columns = selectors.complaint_board(now=T0 + timedelta(hours=4, minutes=30))
        assert [c.level for c in columns] == [1, 2, 3]
        assert [c.pk for c in columns[0].complaints] == [sooner.pk, later.pk]
        assert [(c.count, c.overdue) for c in columns] == [(2, 1), (1, 1), (1, 1)]
        mine = selectors.complaint_board(owner=team.agent, now=T0)
        assert [c.pk for c in mine[0].complaints] == [later.pk] and mine[1].count == 0


@pytest.mark.parametrize("size", [2, 12])
def test_board_and_list_take_the_same_queries_at_any_size(firm_a, size):
    with tenant_context(firm_a):
        for level in (1, 2, 3):
            make(size, level=level)
        board, columns = count_queries(lambda: selectors.complaint_board())
        assert board == 4
        assert sum(len(c.complaints) for c in columns) == 3 * size
        listed, (rows, _older) = count_queries(lambda: selectors.complaint_page(overdue=False))
        assert listed == 1 and len(rows) == 3 * size
        [row.customer.name + row.project.name + str(row.owner) for row in rows]  # already joined


def test_list_filters(firm_a, team):
    now = T0 + timedelta(hours=5)
    with tenant_context(firm_a):
        overdue = ComplaintFactory(opened_at=T0, owner=team.agent, category="price")
        on_time = ComplaintFactory(opened_at=now, level=2)
        closed = ComplaintFactory(opened_at=T0, status=Complaint.Status.CLOSED)
        named = ComplaintFactory(opened_at=now, project__lead__customer__name="Wang Lihua")

        def ids(**filters):
            rows, _older = selectors.complaint_page(now=now, **filters)
            return {row.pk for row in rows}

        assert ids(overdue=True) == {overdue.pk}
        assert ids(status="active") == {overdue.pk, on_time.pk, named.pk}
        assert ids(status="closed") == {closed.pk}
        assert ids(level=2) == {on_time.pk}
        assert ids(category="price") == {overdue.pk}
        assert ids(owner=team.agent) == {overdue.pk}
        assert ids(q="lihua") == {named.pk}


def test_reports_count_by_category_level_responsible_trade_for_the_period(firm_a, team):
    with tenant_context(firm_a):
        carpenter = staff(firm_a, "project_manager", name="Zhang Mu")
        # 2 March, 00:30 in Shanghai is still 1 March in UTC: the period is in the firm's days.
        ComplaintFactory(
            opened_at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
            category="quality",
            trade="carpentry",
            responsible=carpenter,
            level=2,
        )
        ComplaintFactory(
            opened_at=T0, category="quality", trade="carpentry", responsible=carpenter, status=Complaint.Status.CLOSED
        )
        ComplaintFactory(opened_at=T0, category="price", level=3)
        ComplaintFactory(opened_at=datetime(2026, 3, 1, 15, 0, tzinfo=UTC), category="schedule")  # 1 March, 23:00

        start = end = date(2026, 3, 2)
        queries, report = count_queries(lambda: selectors.complaint_report(start=start, end=end))
        assert queries <= 8
        assert report["by_category"] == [
            {"category": "quality", "count": 2, "open": 1, "escalated": 1},
            {"category": "price", "count": 1, "open": 1, "escalated": 1},
        ]
        assert report["by_level"] == {1: 1, 2: 1, 3: 1}
        assert report["by_trade"] == [
            {"trade": "carpentry", "count": 2, "open": 1, "escalated": 1},
            {"trade": "", "count": 1, "open": 1, "escalated": 1},
        ]
        by_staff = {row["responsible"]: row for row in report["by_responsible"]}
        assert by_staff[carpenter.pk]["count"] == 2 and by_staff[carpenter.pk]["highest_level"] == 2
        assert by_staff[carpenter.pk]["responsible__name"] == "Zhang Mu"
        assert by_staff[None]["count"] == 1
        assert selectors.complaints_by_level_reached() == {1: 2, 2: 1, 3: 1}


def test_mean_time_to_resolve_counts_resolved_complaints_only(firm_a, team):
    with tenant_context(firm_a):
        assert selectors.mean_time_to_resolve() is None
        for hours in (10, 30):
            with time_machine.travel(T0, tick=False):
                complaint = open_complaint(team)
            with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
                services.complaint_resolve(complaint=complaint, by=team.agent, resolution="Done", root_cause="other")
        with time_machine.travel(T0, tick=False):
            open_complaint(team)
        assert selectors.mean_time_to_resolve() == timedelta(hours=20)
        assert selectors.mean_time_to_resolve(start=date(2026, 3, 3)) is None


def test_open_complaints_by_sla_state(firm_a):
    now = T0 + timedelta(hours=3, minutes=30)
    with tenant_context(firm_a):
        due_soon = ComplaintFactory(opened_at=T0)  # respond by T0+4h: 30 min left
        overdue = ComplaintFactory(opened_at=T0 - timedelta(hours=2))
        ComplaintFactory(opened_at=now)
        ComplaintFactory(opened_at=T0 - timedelta(days=9), status=Complaint.Status.CLOSED)
        responded = ComplaintFactory(opened_at=T0 - timedelta(hours=47, minutes=45), responded_at=T0)
        queries, sla = count_queries(lambda: selectors.open_complaints_sla(now=now))
        assert queries == 2
        assert sla["counts"] == {"overdue": 2, "due_soon": 1, "on_time": 1}
        assert [c.pk for c in sla["complaints"]] == [responded.pk, overdue.pk, due_soon.pk]
        assert [c.clock.state for c in sla["complaints"]] == ["overdue", "overdue", "due_soon"]
