"""Complaint services: intake with its owner and clocks, every step of the handling and what each refuses,
and the reopening after a not-satisfied verdict."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from complaints import selectors
from complaints.models import Complaint, ComplaintEntry
from complaints.services import escalation, handling, intake
from complaints.services import settings as settings_services
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.complaints.conftest import staff
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory
from tests.worksites.factories import WorksiteFactory

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def open_complaint(team, **kwargs):
    arguments = {
        "customer": team.customer,
        "project": team.project,
        "channel": Complaint.Channel.PHONE,
        "category": Complaint.Category.QUALITY,
        "description": "Tiles in the bathroom sound hollow",
    }
    return intake.complaint_open(**{**arguments, **kwargs})


def kinds(complaint):
    return list(complaint.entries.order_by("at", "id").values_list("kind", flat=True))


def errors_of(excinfo):
    return excinfo.value.message_dict if hasattr(excinfo.value, "error_dict") else excinfo.value.messages


# Intake -------------------------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_open_starts_level_one_with_its_clocks_owner_log_message_and_event(firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team, severity="high", trade="masonry", responsible=team.pm)
        assert (complaint.level, complaint.cycle, complaint.status) == (1, 1, Complaint.Status.OPEN)
        assert complaint.opened_at == complaint.level_started_at == T0
        assert complaint.respond_by == T0 + timedelta(hours=4)
        assert complaint.resolve_by == T0 + timedelta(hours=48)
        assert complaint.owner == team.agent, "the worksite's customer service agent handles it"
        assert kinds(complaint) == [ComplaintEntry.Kind.OPENED]
        note = Notification.objects.get(idempotency_key=f"complaint-opened:{complaint.pk}")
        assert (note.channel, note.recipient) == (Notification.Channel.SMS, team.agent.phone)
        event = OutboxEvent.objects.get(event_type="complaint.opened")
        assert event.payload == {
            "id": complaint.pk,
            "customer_id": team.customer.pk,
            "project_id": team.project.pk,
            "channel": "phone",
            "category": "quality",
            "severity": "high",
            "level": 1,
        }


def test_open_uses_the_firm_hours(firm_a, team):
    with tenant_context(firm_a):
        settings_services.complaint_settings_update(level1_respond_hours=2, level1_resolve_hours=10)
        complaint = open_complaint(team)
        assert complaint.respond_by - complaint.opened_at == timedelta(hours=2)
        assert complaint.resolve_by - complaint.opened_at == timedelta(hours=10)


def test_owner_defaults_to_the_project_manager_then_nobody_and_an_owner_given_wins(firm_a, team):
    with tenant_context(firm_a):
        pm = staff(firm_a, "project_manager", email="pm@example.com", phone="")
        worksite = WorksiteFactory(project_manager=pm)
        project = worksite.project
        complaint = open_complaint(team, customer=project.customer, project=project)
        assert complaint.owner == pm
        assert Notification.objects.get(idempotency_key=f"complaint-opened:{complaint.pk}").recipient == pm.email

        bare = ProjectFactory()
        assert open_complaint(team, customer=bare.customer, project=bare).owner is None
        assert open_complaint(team, customer=bare.customer, project=None).owner is None
        assert open_complaint(team, owner=team.head).owner == team.head


def test_open_refuses_bad_input_field_by_field(firm_a, firm_b, team):
    with tenant_context(firm_b):
        outsider = MembershipFactory(tenant=firm_b).user
    with tenant_context(firm_a):
        other = ProjectFactory()
        left = staff(firm_a, "project_manager")
        left.memberships.update(is_active=False)
        with translation.override("en"), pytest.raises(ValidationError) as excinfo:
            open_complaint(
                team,
                project=other,
                description="  ",
                channel="fax",
                category="weather",
                trade="plumbing",
                severity="urgent",
                responsible=outsider,
                owner=left,
            )
        errors = errors_of(excinfo)
        assert set(errors) == {
            "project",
            "description",
            "channel",
            "category",
            "trade",
            "severity",
            "responsible",
            "owner",
        }
        assert errors["project"] == ["This project belongs to another customer."]
        assert not Complaint.objects.exists()
        assert not OutboxEvent.objects.filter(event_type="complaint.opened").exists()


# Handling -----------------------------------------------------------------------------------------------------


def test_the_full_path_respond_note_resolve_report_satisfied_closes(firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
        complaint = handling.complaint_respond(complaint=complaint, by=team.agent, text="Called, visit tomorrow")
        assert complaint.status == Complaint.Status.IN_PROGRESS and complaint.responded_at is not None
        handling.complaint_note_add(complaint=complaint, by=team.agent, text="Visited, two tiles hollow")
        complaint = handling.complaint_resolve(
            complaint=complaint, by=team.agent, resolution="Re-laid the two tiles", root_cause="workmanship"
        )
        assert complaint.status == Complaint.Status.RESOLVED and complaint.resolved_at is not None
        event = OutboxEvent.objects.get(event_type="complaint.resolved")
        assert event.payload == {"id": complaint.pk, "level": 1, "root_cause": "workmanship"}
        complaint = handling.complaint_report(complaint=complaint, by=team.agent, text="Phoned Mrs Li")
        assert complaint.reported_at is not None
        complaint = handling.complaint_verdict_record(complaint=complaint, verdict="satisfied", by=team.agent)
        assert complaint.status == Complaint.Status.CLOSED and complaint.closed_at is not None
        assert kinds(complaint) == ["opened", "responded", "note", "resolved", "reported", "verdict", "closed"]


def test_each_step_refuses_what_does_not_fit_the_stage(firm_a, team):
    with tenant_context(firm_a), translation.override("en"):
        complaint = open_complaint(team)
        with pytest.raises(ValidationError, match="Only a resolved complaint"):
            handling.complaint_report(complaint=complaint, by=team.agent)
        with pytest.raises(ValidationError, match="once the result has been reported"):
            handling.complaint_verdict_record(complaint=complaint, verdict="satisfied")
        with pytest.raises(ValidationError) as excinfo:
            handling.complaint_resolve(complaint=complaint, by=team.agent, resolution=" ", root_cause="")
        assert set(errors_of(excinfo)) == {"resolution", "root_cause"}
        with pytest.raises(ValidationError) as excinfo:
            handling.complaint_note_add(complaint=complaint, by=team.agent, text="")
        assert set(errors_of(excinfo)) == {"text"}
        with pytest.raises(ValidationError) as excinfo:
            escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="")
        assert set(errors_of(excinfo)) == {"reason"}
        with pytest.raises(ValidationError) as excinfo:
            handling.complaint_reassign(complaint=complaint, owner=team.agent, by=team.agent)
        assert set(errors_of(excinfo)) == {"owner"}

        handling.complaint_respond(complaint=complaint, by=team.agent)
        with pytest.raises(ValidationError, match="already responded"):
            handling.complaint_respond(complaint=complaint, by=team.agent)

        handling.complaint_resolve(complaint=complaint, by=team.agent, resolution="Fixed", root_cause="design")
        for step in (
            lambda: handling.complaint_respond(complaint=complaint, by=team.agent),
            lambda: handling.complaint_resolve(complaint=complaint, by=team.agent, resolution="x", root_cause="design"),
            lambda: escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="x"),
            lambda: handling.complaint_reassign(complaint=complaint, owner=team.pm, by=team.agent),
        ):
            with pytest.raises(ValidationError, match="no longer being handled"):
                step()
        handling.complaint_report(complaint=complaint, by=team.agent)
        with pytest.raises(ValidationError, match="already reported"):
            handling.complaint_report(complaint=complaint, by=team.agent)
        with pytest.raises(ValidationError) as excinfo:
            handling.complaint_verdict_record(complaint=complaint, verdict="meh")
        assert set(errors_of(excinfo)) == {"verdict"}
        handling.complaint_verdict_record(complaint=complaint, verdict="satisfied")
        with pytest.raises(ValidationError, match="once the result has been reported"):
            handling.complaint_verdict_record(complaint=complaint, verdict="not_satisfied")
        # A note still fits a closed complaint: the log is the record.
        handling.complaint_note_add(complaint=complaint, by=team.agent, text="Customer sent thanks")


def test_reassign_hands_over_within_the_level_and_tells_the_new_owner(firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
        before = (complaint.respond_by, complaint.resolve_by)
        complaint = handling.complaint_reassign(complaint=complaint, owner=team.pm, by=team.agent, reason="On site")
        assert complaint.owner == team.pm and complaint.level == 1
        assert (complaint.respond_by, complaint.resolve_by) == before, "the clocks keep running"
        entry = complaint.entries.get(kind="reassigned")
        assert "On site" in entry.text
        assert Notification.objects.get(
            idempotency_key=f"complaint-reassigned:{complaint.pk}:{entry.pk}"
        ).recipient == (team.pm.phone)


def test_not_satisfied_reopens_in_a_new_cycle_with_fresh_clocks_at_the_same_level(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
        escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="Customer insists")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), tenant_context(firm_a):
        handling.complaint_respond(complaint=complaint, by=team.head)
        handling.complaint_resolve(complaint=complaint, by=team.head, resolution="Re-tiled", root_cause="workmanship")
        handling.complaint_report(complaint=complaint, by=team.head)
    later = T0 + timedelta(days=3)
    with time_machine.travel(later, tick=False), tenant_context(firm_a):
        complaint = handling.complaint_verdict_record(
            complaint=complaint, verdict="not_satisfied", comment="Still hollow"
        )
        assert (complaint.status, complaint.level, complaint.cycle) == (Complaint.Status.OPEN, 2, 2)
        assert complaint.owner == team.head
        assert complaint.level_started_at == later
        assert complaint.respond_by == later + timedelta(hours=2)
        assert complaint.resolve_by == later + timedelta(hours=24)
        assert complaint.responded_at is None and complaint.resolved_at is None and complaint.reported_at is None
        assert complaint.verdict == "not_satisfied"
        assert kinds(complaint)[-2:] == ["verdict", "reopened"]
        assert Complaint.objects.filter(status__in=Complaint.ACTIVE_STATUSES, pk=complaint.pk).exists()
        assert not OutboxEvent.objects.filter(event_type="complaint.reopened").exists()


@time_machine.travel(T0, tick=False)
def test_manual_escalation_moves_up_with_fresh_clocks_and_stops_at_the_top(firm_a, team):
    with tenant_context(firm_a), translation.override("en"):
        complaint = open_complaint(team)
        complaint = escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="Threatens media")
        assert (complaint.level, complaint.owner, complaint.status) == (2, team.head, Complaint.Status.OPEN)
        assert complaint.respond_by == T0 + timedelta(hours=2)
        event = OutboxEvent.objects.get(event_type="complaint.escalated")
        assert event.payload == {"id": complaint.pk, "from_level": 1, "to_level": 2, "breach": "manual"}
        assert Notification.objects.filter(idempotency_key=f"complaint-escalated:{complaint.pk}:1:1").exists()
        complaint = escalation.complaint_escalate(complaint=complaint, by=team.head, reason="Still unhappy")
        assert (complaint.level, complaint.owner) == (3, team.gm)
        assert complaint.resolve_by == T0 + timedelta(hours=24)
        with pytest.raises(ValidationError, match="already at the top level"):
            escalation.complaint_escalate(complaint=complaint, by=team.gm, reason="Again")


def test_level_three_without_a_general_manager_goes_to_the_first_admin(firm_a, team):
    with tenant_context(firm_a):
        settings = settings_services.complaint_settings_get()
        settings.general_manager = settings.department_head = None
        settings.save()
        first_admin = selectors.first_active_admin()
        assert first_admin is not None
        complaint = open_complaint(team)
        complaint = escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="x")
        assert complaint.owner == first_admin, "no department head: the general manager's stand-in"
        complaint = escalation.complaint_escalate(complaint=complaint, by=team.agent, reason="y")
        assert complaint.owner == first_admin


def test_settings_update_checks_hours_and_owners(firm_a, firm_b, team):
    with tenant_context(firm_b):
        outsider = MembershipFactory(tenant=firm_b).user
    with tenant_context(firm_a), translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            settings_services.complaint_settings_update(
                level1_respond_hours=0, level2_respond_hours=30, level2_resolve_hours=24, department_head=outsider
            )
        assert set(errors_of(excinfo)) == {"level1_respond_hours", "level2_respond_hours", "department_head"}
        settings = settings_services.complaint_settings_update(level3_resolve_hours=12, department_head=team.pm)
        assert settings.hours(3) == (1, 12) and settings.department_head == team.pm
