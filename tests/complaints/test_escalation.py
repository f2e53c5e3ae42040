"""The escalation sweep: a breach of a level's clock moves the complaint one level up with fresh clocks,
exactly once — run twice, run by two workers at once, or after the beat was down for a month."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from complaints import tasks
from complaints.models import Complaint, ComplaintEscalation
from complaints.services import escalation as services
from complaints.services import handling
from renocrm.outbox.models import Notification, OutboxEvent, StaffNotice
from renocrm.tenancy.context import tenant_context
from tests.complaints.test_services import open_complaint

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def sweep(firm, at):
    with time_machine.travel(at, tick=False), tenant_context(firm):
        return services.complaints_escalate_overdue()


def test_no_response_at_level_one_moves_it_to_the_department_head(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    assert sweep(firm_a, T0 + timedelta(hours=3, minutes=59)) == 0, "the clock has not run out yet"
    at = T0 + timedelta(hours=4, minutes=2)
    assert sweep(firm_a, at) == 1
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.level, complaint.owner, complaint.status) == (2, team.head, Complaint.Status.OPEN)
        assert complaint.level_started_at == at, "the new level's clocks start at the sweep"
        assert complaint.respond_by == at + timedelta(hours=2)
        assert complaint.resolve_by == at + timedelta(hours=24)
        escalation = ComplaintEscalation.objects.get()
        assert (escalation.cycle, escalation.from_level, escalation.to_level, escalation.breach) == (1, 1, 2, "respond")
        assert escalation.deadline == T0 + timedelta(hours=4)
        assert escalation.notified == team.head
        assert complaint.entries.filter(kind="escalated", level=2).count() == 1
        assert Notification.objects.get(idempotency_key=f"complaint-escalated:{complaint.pk}:1:1").recipient == (
            team.head.phone
        )
        event = OutboxEvent.objects.get(event_type="complaint.escalated")
        assert event.payload == {"id": complaint.pk, "from_level": 1, "to_level": 2, "breach": "respond"}


def test_an_escalation_records_a_head_told_only_in_the_bell_as_notified(firm_a, team):
    """A head with neither phone nor e-mail is told by the notice in the app: the escalation names them."""
    type(team.head).objects.filter(pk=team.head.pk).update(phone="", email="")
    team.head.refresh_from_db()
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    assert sweep(firm_a, T0 + timedelta(hours=4, minutes=2)) == 1
    with tenant_context(firm_a):
        key = f"complaint-escalated:{complaint.pk}:1:1"
        assert ComplaintEscalation.objects.get().notified == team.head
        assert StaffNotice.objects.get(idempotency_key=key).user == team.head
        assert not Notification.objects.filter(idempotency_key=key).exists()


def test_a_response_stops_the_respond_clock_but_not_the_resolve_clock(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), tenant_context(firm_a):
        handling.complaint_respond(complaint=complaint, by=team.agent)
    assert sweep(firm_a, T0 + timedelta(hours=47)) == 0
    assert sweep(firm_a, T0 + timedelta(hours=48)) == 1
    with tenant_context(firm_a):
        assert ComplaintEscalation.objects.get().breach == "resolve"


def test_resolve_breach_at_level_two_goes_to_the_general_manager_and_level_three_breach_is_recorded_once(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
        services.complaint_escalate(complaint=complaint, by=team.agent, reason="Serious")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), tenant_context(firm_a):
        handling.complaint_respond(complaint=complaint, by=team.head)
    at = T0 + timedelta(hours=24, minutes=3)
    assert sweep(firm_a, at) == 1
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.level, complaint.owner) == (3, team.gm)
        # The department head's response stands: the general manager's running clock is the time to resolve.
        assert complaint.responded_at == T0 + timedelta(hours=1)
        assert complaint.status == Complaint.Status.IN_PROGRESS
        assert ComplaintEscalation.objects.get(from_level=2).breach == "resolve"

    assert sweep(firm_a, at + timedelta(hours=1, minutes=1)) == 0, "no response is owed at level 3"
    top = at + timedelta(hours=24, minutes=1)
    assert sweep(firm_a, top) == 1, "the top-level breach is recorded"
    assert sweep(firm_a, top + timedelta(hours=30)) == 0, "and only once"
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 3 and complaint.resolve_by == at + timedelta(hours=24), "nothing further changes"
        breach = ComplaintEscalation.objects.get(from_level=3)
        assert (breach.to_level, breach.breach, breach.notified) == (3, "resolve", team.gm)
        assert Notification.objects.filter(idempotency_key=f"complaint-escalated:{complaint.pk}:1:3").count() == 1
        assert OutboxEvent.objects.filter(event_type="complaint.escalated").count() == 3


def test_running_the_sweep_twice_escalates_once(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    at = T0 + timedelta(hours=5)
    assert sweep(firm_a, at) == 1
    assert sweep(firm_a, at) == 0
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 2
        assert ComplaintEscalation.objects.count() == 1
        assert complaint.entries.filter(kind="escalated").count() == 1
        assert Notification.objects.filter(idempotency_key__startswith="complaint-escalated").count() == 1


def test_catch_up_after_a_month_moves_one_level_per_sweep_with_clocks_from_the_sweep(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    back = T0 + timedelta(days=30)
    assert sweep(firm_a, back) == 1
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 2, "level 2's deadlines would also lie in the past, but its clocks start now"
        assert complaint.respond_by == back + timedelta(hours=2)
    assert sweep(firm_a, back + timedelta(minutes=5)) == 0, "the next sweep finds level 2 on time"
    assert sweep(firm_a, back + timedelta(hours=2)) == 1
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 3


def test_reopened_complaint_can_breach_its_level_again_in_the_new_cycle(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    assert sweep(firm_a, T0 + timedelta(hours=5)) == 1  # level 1 → 2, cycle 1
    with time_machine.travel(T0 + timedelta(hours=6), tick=False), tenant_context(firm_a):
        handling.complaint_resolve(complaint=complaint, by=team.head, resolution="Done", root_cause="design")
        handling.complaint_report(complaint=complaint, by=team.head)
        handling.complaint_verdict_record(complaint=complaint, verdict="not_satisfied")
    assert sweep(firm_a, T0 + timedelta(hours=8, minutes=1)) == 1, "cycle 2 at level 2: its own breach"
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.level, complaint.cycle) == (3, 2)
        assert sorted(ComplaintEscalation.objects.values_list("cycle", "from_level")) == [(1, 1), (2, 2)]


def test_resolved_and_closed_complaints_are_left_alone_and_firms_are_apart(firm_a, firm_b, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
        handling.complaint_resolve(complaint=complaint, by=team.agent, resolution="Done", root_cause="other")
    assert sweep(firm_b, T0 + timedelta(days=3)) == 0
    assert sweep(firm_a, T0 + timedelta(days=3)) == 0


def test_the_beat_task_fans_out_to_each_firm(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        tasks.sweep_complaint_escalations.delay()
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_complaint_once(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaints = [open_complaint(team) for _ in range(6)]
    at = T0 + timedelta(hours=5)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with tenant_context(firm_a):
                barrier.wait(timeout=10)
                results.append(services.complaints_escalate_overdue(now=at))
        except Exception as error:  # reported to the test thread below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sum(results) == len(complaints), results
    with tenant_context(firm_a):
        assert ComplaintEscalation.objects.count() == len(complaints)
        assert set(Complaint.objects.values_list("level", flat=True)) == {2}
        for complaint in complaints:
            assert complaint.entries.filter(kind="escalated").count() == 1
        assert OutboxEvent.objects.filter(event_type="complaint.escalated").count() == len(complaints)
        assert Notification.objects.filter(idempotency_key__startswith="complaint-escalated").count() == len(complaints)
