"""Callback services: the plan, the rows written at handover and at milestones, working a callback, the SMS
survey link and the survey with what it starts."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from callbacks.models import Callback, CallbackAttempt, CallbackSettings, CallbackStep, Method, Survey
from callbacks.services import actions, plan, survey_link, surveys
from leads.models import Lead
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import HANDED_OVER_ON, hand_over, handover_steps_only, member
from tests.callbacks.factories import CallbackFactory, CallbackStepFactory
from worksites.models import Phase, PhaseKind
from worksites.services import schedule

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # Monday 2 March 2026, 12:00 in Shanghai


def due_dates(worksite):
    return list(
        Callback.objects.filter(worksite=worksite).order_by("due_on").values_list("name", "due_on", "status", "method")
    )


def released(**fields):
    """An open callback (released today) of a fresh worksite."""
    return CallbackFactory(status=Callback.Status.OPEN, released_at=NOON, **fields)


# The plan ----------------------------------------------------------------------------------------------------


def test_the_default_plan_is_seeded_once_in_the_firms_language(firm_a):
    firm_a.language = "en"
    firm_a.save()
    with tenant_context(firm_a):
        steps = plan.plan_steps()
        assert [(s.position, s.name, s.anchor, s.phase_kind, s.offset, s.unit, s.method) for s in steps] == [
            (
                1,
                "During construction: plumbing & electrical done",
                "phase_completed",
                "plumbing_electrical",
                2,
                "working_days",
                "phone",
            ),
            (
                2,
                "During construction: masonry & carpentry done",
                "phase_completed",
                "carpentry",
                2,
                "working_days",
                "phone",
            ),
            (3, "First callback", "handover", "", 3, "working_days", "phone"),
            (4, "1 month after handover", "handover", "", 1, "months", "phone"),
            (5, "3 months after handover", "handover", "", 3, "months", "phone"),
            (6, "6 months after handover", "handover", "", 6, "months", "phone"),
            (7, "12 months after handover", "handover", "", 12, "months", "phone"),
        ]
        plan.plan_steps()
        assert CallbackStep.objects.count() == 7


def test_saving_the_plan_updates_creates_reorders_and_deactivates(firm):
    plumbing, carpentry, first, one_month, three, six, twelve = plan.plan_steps()
    rows = [
        {"id": twelve.pk, "name": "一年回访", "anchor": "handover", "offset": 12, "unit": "months", "method": "visit"},
        {"id": first.pk, "name": "首次回访", "anchor": "handover", "offset": 2, "unit": "working_days"},
        {
            "name": "木工完工回访",
            "anchor": "phase_completed",
            "phase_kind": "carpentry",
            "offset": 3,
            "unit": "days",
            "method": "sms",
        },
    ]
    steps = plan.plan_save(rows=rows)
    assert [(s.name, s.position, s.is_active) for s in steps] == [
        ("一年回访", 1, True),
        ("首次回访", 2, True),
        ("木工完工回访", 3, True),
        (plumbing.name, 4, False),
        (carpentry.name, 5, False),
        (one_month.name, 6, False),
        (three.name, 7, False),
        (six.name, 8, False),
    ]
    assert steps[0].pk == twelve.pk and steps[0].method == "visit"
    assert steps[1].pk == first.pk and steps[1].offset == 2
    assert CallbackStep.objects.count() == 8, "left-out steps are kept, never deleted"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"anchor": "phase_completed", "phase_kind": "", "offset": 3, "unit": "days"}, "phase_kind"),
        ({"anchor": "phase_completed", "phase_kind": "carpentry", "offset": 1, "unit": "months"}, "unit"),
        ({"anchor": "handover", "offset": 0, "unit": "months"}, "offset"),
        ({"anchor": "handover", "offset": 200, "unit": "days"}, "offset"),
        ({"anchor": "handover", "offset": 2, "unit": "weeks"}, "unit"),
        ({"anchor": "phase_completed", "phase_kind": "roofing", "offset": 3, "unit": "days"}, "phase_kind"),
    ],
)
def test_a_plan_step_that_cannot_work_is_refused_on_its_field(firm, row, field):
    before = [(s.pk, s.name, s.position, s.is_active) for s in plan.plan_steps()]
    with pytest.raises(ValidationError) as refused:
        plan.plan_save(rows=[{"name": "Step", "method": "phone", **row}])
    assert field in refused.value.message_dict
    assert [(s.pk, s.name, s.position, s.is_active) for s in plan.plan_steps()] == before


def test_another_firms_step_id_is_not_a_step_of_this_plan(firm_a, firm_b):
    with tenant_context(firm_b):
        theirs = plan.plan_steps()[0]
    with tenant_context(firm_a), pytest.raises(ValidationError):
        plan.plan_save(rows=[{"id": theirs.pk, "name": "x", "anchor": "handover", "offset": 1, "unit": "days"}])
    with tenant_context(firm_b):
        theirs.refresh_from_db()
        assert theirs.name != "x"


def test_settings_refuse_an_unknown_placeholder_and_keep_a_good_template(firm):
    with pytest.raises(ValidationError) as refused:
        plan.callback_settings_save(sms_template="Hello {customer} from {firm_name}")
    assert "sms_template" in refused.value.message_dict
    with pytest.raises(ValidationError):
        plan.callback_settings_save(sms_template="Broken {customer_name")
    with pytest.raises(ValidationError) as attempts:
        plan.callback_settings_save(max_attempts=0)
    assert "max_attempts" in attempts.value.message_dict
    saved = plan.callback_settings_save(
        sms_template="{customer_name}您好，{firm_name}{agent_name}回访：{survey_link} 电话{firm_phone}",
        assignment="round_robin",
        max_attempts=4,
    )
    assert (saved.assignment, saved.max_attempts) == ("round_robin", 4)
    assert CallbackSettings.objects.get().sms_template.startswith("{customer_name}您好")


# Written at handover -----------------------------------------------------------------------------------------


def test_the_handover_writes_the_plans_callbacks_from_the_handover_date(handed_over):
    """Handed over on Saturday 31 January 2026: the first callback on the 3rd working day, then calendar
    months from the handover date each time (clamped to the month's end, never chained)."""
    names = [step.name for step in plan.plan_steps() if step.is_active]
    phone, scheduled = Method.PHONE, Callback.Status.SCHEDULED
    assert due_dates(handed_over) == [
        (names[0], date(2026, 2, 4), scheduled, phone),
        (names[1], date(2026, 2, 28), scheduled, phone),
        (names[2], date(2026, 4, 30), scheduled, phone),
        (names[3], date(2026, 7, 31), scheduled, phone),
        (names[4], date(2027, 1, 31), scheduled, phone),
    ]
    callback = Callback.objects.get(worksite=handed_over, due_on=date(2026, 2, 4))
    assert callback.project_id == handed_over.project_id
    assert callback.customer_id == handed_over.project.customer_id
    assert callback.assigned_to is None and callback.released_at is None


def test_working_days_follow_the_statutory_calendar_with_its_working_weekends(firm):
    """Handed over on Wednesday 30 September 2026: 1–8 October is the National Day holiday and Saturday
    10 October is a working day, so the 3rd working day after is that Saturday."""
    first_step, one_month = handover_steps_only()[:2]
    worksite = hand_over(on=date(2026, 9, 30))
    assert Callback.objects.get(worksite=worksite, step=first_step).due_on == date(2026, 10, 10)
    assert Callback.objects.get(worksite=worksite, step=one_month).due_on == date(2026, 10, 30)


def test_the_same_event_again_writes_nothing_twice(handed_over):
    event = OutboxEvent.objects.get(event_type="project.handed_over")
    plan.on_project_handed_over(event)
    assert Callback.objects.filter(worksite=handed_over).count() == 5


def test_only_active_steps_are_written(firm):
    steps = plan.plan_steps()
    rows = [
        {
            "id": s.pk,
            "name": s.name,
            "anchor": s.anchor,
            "phase_kind": s.phase_kind,
            "offset": s.offset,
            "unit": s.unit,
            "method": s.method,
        }
        for s in steps
    ]
    rows[1]["is_active"] = False  # after masonry & carpentry
    rows[4]["is_active"] = False  # 3 months after handover
    plan.plan_save(rows=rows)
    worksite = hand_over(on=HANDED_OVER_ON)
    written = set(Callback.objects.filter(worksite=worksite).values_list("step_id", flat=True))
    assert written == {steps[0].pk, steps[2].pk, steps[3].pk, steps[5].pk, steps[6].pk}


def test_a_finished_phase_writes_the_milestone_steps_that_follow_it(firm):
    plan.plan_save(
        rows=[
            {"name": "木工完工回访", "anchor": "phase_completed", "phase_kind": "carpentry", "offset": 2,
             "unit": "working_days", "method": "sms"},
            {"name": "水电完工回访", "anchor": "phase_completed", "phase_kind": "plumbing_electrical", "offset": 1,
             "unit": "days"},
        ]
    )  # fmt: skip
    from tests.worksites.test_handover_services import open_worksite

    worksite = open_worksite()
    # About the callbacks, not the gates: nothing here covers works awaiting their inspection.
    Phase.objects.filter(worksite=worksite).update(covers_concealed_works=False, covers_waterproofing=False)
    carpentry = Phase.objects.filter(worksite=worksite, kind=PhaseKind.CARPENTRY).first()
    painting = Phase.objects.filter(worksite=worksite, kind=PhaseKind.PAINTING).first()
    assert carpentry is not None and painting is not None
    schedule.phase_complete(phase=painting, on=date(2026, 2, 12))
    assert not Callback.objects.exists()
    # Finished on Thursday 12 February 2026: the 2nd working day after is Saturday 14 February, a working
    # day before the Spring Festival holiday.
    schedule.phase_complete(phase=carpentry, on=date(2026, 2, 12))
    callback = Callback.objects.get()
    assert (callback.name, callback.method, callback.due_on) == ("木工完工回访", "sms", date(2026, 2, 14))
    assert callback.status == Callback.Status.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_a_handover_that_rolls_back_leaves_no_callbacks_and_queues_nothing(firm_a):
    with tenant_context(firm_a):
        from tests.worksites.test_handover_services import add_required_documents, open_worksite, pass_all
        from worksites.services import handover as handover_services

        worksite = open_worksite()
        foreman = member(firm_a, role="project_manager")
        handover = handover_services.handover_start(worksite=worksite, started_by=foreman)
        pass_all(handover, foreman)
        add_required_documents(handover, foreman)
        plan.plan_steps()
    with tenant_context(firm_a):  # after the set-up committed and its events went out (the invitation)
        events_before = OutboxEvent.objects.count()
        notifications_before = Notification.objects.count()
    dispatch = mock.patch("renocrm.outbox.tasks.dispatch_event.delay")
    with dispatch as queued, pytest.raises(RuntimeError), tenant_context(firm_a), transaction.atomic():
        handover_services.handover_complete(handover=handover, completed_by=foreman)
        handover_callbacks = Callback.objects.filter(worksite=worksite, step__anchor="handover")
        assert handover_callbacks.count() == 5, "written in the handover's transaction"
        raise RuntimeError("the request failed after the handover")
    assert not queued.called
    with tenant_context(firm_a):
        assert not Callback.objects.filter(step__anchor="handover").exists()
        assert OutboxEvent.objects.count() == events_before
        assert not OutboxEvent.objects.filter(event_type="project.handed_over").exists()
        assert Notification.objects.count() == notifications_before
        handover.refresh_from_db()
        assert handover.handed_over_on is None


# Working a callback ------------------------------------------------------------------------------------------


def test_attempts_retry_after_the_firms_spacing_then_close_as_unreachable(firm, agent):
    callback = released(assigned_to=agent)
    with time_machine.travel(NOON, tick=False):
        callback = actions.callback_attempt_record(callback=callback, outcome="no_answer", by=agent)
    assert (callback.status, callback.attempts) == (Callback.Status.RETRY, 1)
    assert callback.next_attempt_at == NOON + timedelta(hours=24)
    callback = actions.callback_attempt_record(callback=callback, outcome="busy", note="在开会", by=agent)
    assert (callback.status, callback.attempts) == (Callback.Status.RETRY, 2)
    callback = actions.callback_attempt_record(callback=callback, outcome="wrong_number", by=agent)
    assert (callback.status, callback.attempts, callback.next_attempt_at) == (Callback.Status.UNREACHABLE, 3, None)
    assert "3" in callback.closed_reason
    assert list(callback.attempt_log.values_list("outcome", "note")) == [
        ("no_answer", ""),
        ("busy", "在开会"),
        ("wrong_number", ""),
    ]
    with pytest.raises(ValidationError):
        actions.callback_attempt_record(callback=callback, outcome="no_answer")


def test_reaching_the_homeowner_after_a_retry_reopens_and_counts_as_an_attempt(firm):
    callback = actions.callback_attempt_record(callback=released(), outcome="no_answer")
    callback = actions.callback_attempt_record(callback=callback, outcome="reached")
    assert (callback.status, callback.attempts, callback.next_attempt_at) == (Callback.Status.OPEN, 2, None)


def test_a_callback_not_yet_due_cannot_be_worked(firm):
    callback = CallbackFactory(due_on=date(2027, 1, 31))
    for call in (
        lambda: actions.callback_attempt_record(callback=callback, outcome="no_answer"),
        lambda: actions.callback_sms_send(callback=callback),
    ):
        with pytest.raises(ValidationError):
            call()
    assert not CallbackAttempt.objects.exists() and not Notification.objects.exists()


def test_the_sms_link_goes_once_per_attempt_in_the_firms_words(firm, agent, sms_outbox):
    firm.phone = "400-820-8820"
    firm.save()
    callback = released(assigned_to=agent, method=Method.SMS)
    first = actions.callback_sms_send(callback=callback, by=agent, base_url="https://crm.example.com")
    again = actions.callback_sms_send(callback=callback, by=agent, base_url="https://crm.example.com")
    assert first.pk == again.pk and first.idempotency_key == f"callback:{callback.pk}:sms:0"
    assert first.recipient == callback.customer.mobile
    assert callback.customer.name in first.body and "Firm A" in first.body and "Zhou Min" in first.body
    assert "https://crm.example.com/portal/survey/" in first.body and "400-820-8820" in first.body
    assert CallbackAttempt.objects.filter(callback=callback, outcome="sms_sent").count() == 1
    actions.callback_attempt_record(callback=callback, outcome="no_answer")
    second = actions.callback_sms_send(callback=callback)
    assert second.idempotency_key == f"callback:{callback.pk}:sms:1"
    assert Notification.objects.filter(idempotency_key__startswith=f"callback:{callback.pk}:sms:").count() == 2


def test_the_firms_own_template_fills_every_placeholder(firm, agent):
    plan.callback_settings_save(sms_template="{customer_name}您好！{agent_name}（{firm_name}）：{survey_link}")
    callback = released(assigned_to=agent)
    body = actions.callback_sms_send(callback=callback, base_url="https://x.example").body
    assert body.startswith(f"{callback.customer.name}您好！Zhou Min（Firm A）：https://x.example/portal/survey/")


def test_assigning_needs_a_customer_service_agent_and_tells_them(firm, agent):
    callback = released()
    sales = member(firm, role="sales")
    with pytest.raises(ValidationError) as refused:
        actions.callback_assign(callback=callback, agent=sales)
    assert "agent" in refused.value.message_dict
    callback = actions.callback_assign(callback=callback, agent=agent)
    assert callback.assigned_to == agent
    assert Notification.objects.filter(idempotency_key=f"callback:{callback.pk}:assigned:{agent.pk}").count() == 1


def test_cancelling_needs_a_reason(firm):
    callback = released()
    with pytest.raises(ValidationError) as refused:
        actions.callback_cancel(callback=callback, reason="  ")
    assert "reason" in refused.value.message_dict
    callback = actions.callback_cancel(callback=callback, reason="房子已出售")
    assert (callback.status, callback.closed_reason) == (Callback.Status.CANCELLED, "房子已出售")
    with pytest.raises(ValidationError):
        actions.callback_cancel(callback=callback, reason="again")


def test_a_visit_is_booked_in_the_future_and_the_homeowner_told(firm):
    callback = released()
    with time_machine.travel(NOON, tick=False):
        with pytest.raises(ValidationError) as refused:
            actions.callback_visit_schedule(callback=callback, at=NOON - timedelta(hours=1))
        assert "at" in refused.value.message_dict
        at = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
        callback = actions.callback_visit_schedule(callback=callback, at=at)
    assert (callback.appointment_at, callback.method) == (at, Method.VISIT)
    message = Notification.objects.get(recipient=callback.customer.mobile)
    assert "2026-03-05" in message.body and "10:00" in message.body


# The survey --------------------------------------------------------------------------------------------------


def test_a_survey_completes_the_callback_with_the_team_as_it_was(firm, agent):
    designer, foreman = member(firm, role="designer"), member(firm, role="project_manager")
    callback = released(assigned_to=agent)
    worksite = callback.worksite
    worksite.designer, worksite.project_manager, worksite.customer_service = designer, foreman, agent
    worksite.save()
    survey = surveys.survey_submit(
        callback=callback,
        via="staff",
        by=agent,
        overall=4,
        nps=9,
        quality_painting=3,
        designer_rating=5,
        expectation="met",
        suggestions="工期再快一点",
        defects=[{"trade": "painting", "kind": "crack", "note": "客厅墙角"}],
    )
    callback.refresh_from_db()
    assert (callback.status, callback.completed_by) == (Callback.Status.COMPLETED, agent)
    assert (survey.overall, survey.nps, survey.quality_painting, survey.expectation) == (4, 9, 3, "met")
    assert (survey.designer, survey.project_manager, survey.customer_service, survey.qc_inspector) == (
        designer,
        foreman,
        agent,
        None,
    )
    assert list(survey.defects.values_list("trade", "kind", "note")) == [("painting", "crack", "客厅墙角")]
    assert survey.lead is None and survey.repair_request is None and survey.complaint is None
    events = {
        e.event_type: e.payload
        for e in OutboxEvent.objects.filter(event_type__in=["survey.submitted", "callback.completed"])
    }
    assert events == {
        "survey.submitted": {"id": survey.pk, "callback_id": callback.pk, "overall": 4, "nps": 9},
        "callback.completed": {
            "id": callback.pk,
            "project_id": callback.project_id,
            "customer_id": callback.customer_id,
            "step": callback.step_id,
            "method": "phone",
        },
    }
    with pytest.raises(ValidationError):
        surveys.survey_submit(callback=callback, via="staff", overall=5)
    assert Survey.objects.count() == 1


def test_a_bad_answer_is_refused_on_its_field_and_nothing_is_stored(firm):
    callback = released()
    for answers, field in [({"overall": 7}, "overall"), ({}, "overall"), ({"overall": 4, "nps": 11}, "nps")]:
        with pytest.raises(ValidationError) as refused:
            surveys.survey_submit(callback=callback, via="staff", **answers)
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        surveys.survey_submit(callback=callback, via="staff", overall=4, defects=[{"trade": "x", "kind": "leak"}])
    assert "defects" in refused.value.message_dict
    callback.refresh_from_db()
    assert callback.status == Callback.Status.OPEN and not Survey.objects.exists()


def test_new_contact_details_join_the_customers_other_contacts_and_keep_the_mobile(firm):
    callback = released()
    customer = callback.customer
    customer.other_contacts = "微信 wang_fang"
    customer.save()
    survey = surveys.survey_submit(
        callback=callback, via="staff", overall=5, contact_confirmed=False, contact_update="新手机 13900001111"
    )
    customer.refresh_from_db()
    assert customer.mobile == callback.customer.mobile
    assert customer.other_contacts.startswith("微信 wang_fang\n")
    assert "新手机 13900001111" in customer.other_contacts.splitlines()[1]
    assert survey.contact_confirmed is False and survey.contact_update == "新手机 13900001111"


def test_secondary_demand_becomes_one_lead_for_the_customer(firm):
    callback = released()
    survey = surveys.survey_submit(
        callback=callback,
        via="staff",
        overall=5,
        demands=["furniture", "soft_furnishing", "furniture"],
        demand_note="想换沙发和窗帘",
    )
    lead = Lead.objects.get(pk=survey.lead_id)
    assert (lead.channel, lead.customer_id, lead.status) == ("aftercare", callback.customer_id, "new")
    assert lead.property_id == callback.project.property_id
    assert "想换沙发和窗帘" in lead.core_needs
    assert sorted(survey.demands.values_list("kind", flat=True)) == ["furniture", "soft_furnishing"]
    assert Lead.objects.filter(channel="aftercare").count() == 1


def test_a_demand_note_without_a_demand_is_refused(firm):
    with pytest.raises(ValidationError) as refused:
        surveys.survey_submit(callback=released(), via="staff", overall=5, demand_note="以后再说")
    assert "demands" in refused.value.message_dict
    assert not Lead.objects.filter(channel="aftercare").exists()


# The survey link ---------------------------------------------------------------------------------------------


def test_the_survey_link_opens_the_callback_until_it_expires_or_is_answered(firm_a):
    with tenant_context(firm_a):
        callback = released(method=Method.SMS)
        path = survey_link.survey_link_url(callback)
    token = path.split("/")[3]
    assert path == f"/portal/survey/{token}/"
    with survey_link.open_survey_link(token) as (opened, problem):
        assert (opened.pk, problem) == (callback.pk, "")
    with survey_link.open_survey_link(token[:-2] + "xx") as (opened, problem):
        assert (opened, problem) == (None, "invalid")
    later = time_machine.travel(datetime.now(UTC) + timedelta(days=15))
    with later, survey_link.open_survey_link(token) as (opened, problem):
        assert (opened, problem) == (None, "expired")
    with survey_link.open_survey_link(token) as (opened, problem):
        surveys.survey_submit(callback=opened, via="sms_link", overall=5)
    with survey_link.open_survey_link(token) as (opened, problem):
        assert (opened, problem) == (None, "answered")
    with tenant_context(firm_a):
        assert Survey.objects.get().via == "sms_link"


def test_a_cancelled_callbacks_link_is_invalid(firm_a):
    with tenant_context(firm_a):
        callback = released()
        token = survey_link.survey_link_token(callback)
        actions.callback_cancel(callback=callback, reason="业主要求不再回访")
    with survey_link.open_survey_link(token) as (opened, problem):
        assert (opened, problem) == (None, "invalid")


def test_a_firm_with_a_plan_is_never_seeded_over(firm):
    CallbackStepFactory(position=9)
    assert [s.position for s in plan.plan_steps()] == [9]


# What the survey starts in aftercare and complaints ------------------------------------------------------------


def test_a_reported_defect_opens_a_repair_request_and_a_grievance_a_complaint(firm, agent):
    from aftercare.models import RepairRequest
    from complaints.models import Complaint

    callback = released(assigned_to=agent)
    survey = surveys.survey_submit(
        callback=callback,
        via="staff",
        by=agent,
        overall=2,
        defects=[{"trade": "plumbing_electrical", "kind": "leak", "note": "卫生间地漏渗水"}],
        repair={"area": "bathroom", "trade": "plumbing_electrical", "description": "卫生间地漏渗水到楼下"},
        grievance={"category": "quality", "description": "交付两个月就漏水，很不满意"},
    )
    repair = RepairRequest.objects.get(pk=survey.repair_request_id)
    assert (repair.project_id, repair.area, repair.source) == (callback.project_id, "bathroom", "callback")
    assert repair.description == "卫生间地漏渗水到楼下"
    complaint = Complaint.objects.get(pk=survey.complaint_id)
    assert (complaint.customer_id, complaint.project_id) == (callback.customer_id, callback.project_id)
    assert (complaint.channel, complaint.category) == ("callback", "quality")
    assert OutboxEvent.objects.filter(event_type="repair.opened").count() == 1


def test_a_refused_repair_request_refuses_the_whole_survey(firm):
    from aftercare.models import RepairRequest

    callback = released()
    with pytest.raises(ValidationError) as refused:
        surveys.survey_submit(
            callback=callback,
            via="staff",
            overall=2,
            demands=["furniture"],
            repair={"area": "bathroom", "trade": "", "description": "  "},
        )
    assert "repair" in refused.value.message_dict
    callback.refresh_from_db()
    assert callback.status == Callback.Status.OPEN
    assert not Survey.objects.exists() and not RepairRequest.objects.exists()
    assert not Lead.objects.filter(channel="aftercare").exists(), "the lead made before the refusal is gone too"
