"""Escalating a complaint — by staff or by the SLA sweep — moves who answers for it up a level; the handling it
had reached stands: a complaint responded to stays in progress with its response, it never falls back to
open (待处理)."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.urls import reverse

from complaints import selectors
from complaints.models import Complaint, ComplaintEscalation
from complaints.services import escalation, handling
from renocrm.tenancy.context import tenant_context
from tests.complaints.test_services import open_complaint

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_a_response_then_an_escalation_stays_in_progress_with_its_response(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), tenant_context(firm_a):
        handling.complaint_respond(complaint=complaint, by=team.agent, text="Called, visit tomorrow")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False), tenant_context(firm_a):
        complaint = escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="Customer insists")
        assert (complaint.level, complaint.owner) == (2, team.head)
        assert complaint.status == Complaint.Status.IN_PROGRESS
        complaint.refresh_from_db()
        assert complaint.status == Complaint.Status.IN_PROGRESS, "saved so, not only in memory"
        assert complaint.responded_at == T0 + timedelta(hours=1)
        # Level 2's own clocks run from the escalation; with the response given, the one running is to resolve.
        assert complaint.level_started_at == T0 + timedelta(hours=2)
        assert complaint.resolve_by == T0 + timedelta(hours=2 + 24)
        clock = selectors.complaint_clock(complaint, now=T0 + timedelta(hours=2))
        assert (clock.kind, clock.deadline) == ("resolve", complaint.resolve_by)
        assert list(complaint.entries.order_by("at", "id").values_list("kind", flat=True)) == [
            "opened",
            "responded",
            "escalated",
        ]


def test_an_escalation_before_any_response_stays_open_and_the_new_level_must_respond(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = escalation.complaint_escalate(complaint=open_complaint(team), by=team.agent, reason="Serious")
        assert (complaint.status, complaint.responded_at) == (Complaint.Status.OPEN, None)
        assert complaint.respond_by == T0 + timedelta(hours=2)


def test_the_sla_sweep_escalates_a_responded_complaint_without_undoing_its_response(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), tenant_context(firm_a):
        handling.complaint_respond(complaint=complaint, by=team.agent)
    at = T0 + timedelta(hours=48, minutes=1)  # level 1's resolve clock ran out
    with time_machine.travel(at, tick=False), tenant_context(firm_a):
        assert escalation.complaints_escalate_overdue() == 1
        complaint.refresh_from_db()
        assert (complaint.level, complaint.owner, complaint.status) == (2, team.head, Complaint.Status.IN_PROGRESS)
        assert complaint.responded_at == T0 + timedelta(hours=1)
        assert complaint.resolve_by == at + timedelta(hours=24)
        assert ComplaintEscalation.objects.get().breach == "resolve"
    # Level 2's two hours to respond pass: nothing is owed, the complaint was answered.
    with time_machine.travel(at + timedelta(hours=3), tick=False), tenant_context(firm_a):
        assert escalation.complaints_escalate_overdue() == 0


def test_the_page_shows_an_escalated_complaint_in_progress_and_offers_no_second_response(staff_client, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
    staff_client.post(reverse("complaints:respond", args=[complaint.pk]), {"respond-text": "Called back"})
    staff_client.post(reverse("complaints:escalate", args=[complaint.pk]), {"escalate-reason": "Customer insists"})
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.level, complaint.status) == (2, Complaint.Status.IN_PROGRESS)
    page = staff_client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert set(page.context["forms"]) == {"note", "reassign", "resolve", "escalate"}


def test_the_api_escalation_keeps_the_status(api, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
    api.post(reverse("complaint-respond", args=[complaint.pk]), {"text": "Called"}, content_type="application/json")
    escalated = api.post(
        reverse("complaint-escalate", args=[complaint.pk]), {"reason": "Insists"}, content_type="application/json"
    )
    assert escalated.status_code == 200
    assert (escalated.json()["level"], escalated.json()["status"]) == (2, "in_progress")
