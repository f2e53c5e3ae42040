"""The callback pages through the Django test client: the work queue, the callback page with its actions and
the survey, the plan and the settings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callbacks.models import Callback, CallbackAttempt, CallbackStep, Method, Survey
from leads.models import Lead
from renocrm.privacy.masking import mask_mobile
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.factories import CallbackFactory, CallbackStepFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# The callback's customer is its project's, reached through the worksite.
CUSTOMER_NAME = "worksite__contract__project__lead__customer__name"


@pytest.fixture
def agent(client, firm_a):
    """A customer-service agent of firm A, signed in."""
    membership = MembershipFactory(tenant=firm_a, role="customer_service", user=UserFactory(name="Agent Li"))
    client.force_login(membership.user)
    client.user = membership.user
    return client


def due_callback(firm, customer_name=None, **kwargs):
    """A released phone callback due today (firm time)."""
    if customer_name:
        kwargs[CUSTOMER_NAME] = customer_name
    with tenant_context(firm):
        defaults = {
            "status": Callback.Status.OPEN,
            "due_on": firm_today(),
            "released_at": timezone.now(),
            "method": Method.PHONE,
        }
        return CallbackFactory(**{**defaults, **kwargs})


def survey_post(**extra):
    return {"contact": "yes", "overall": "4", "nps": "9", **extra}


# The work queue -----------------------------------------------------------------------------------------------


def test_a_sales_user_may_not_open_the_queue_or_a_callback(client, firm_a):
    callback = due_callback(firm_a)
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    assert client.get("/callbacks/").status_code == 403
    assert client.get(f"/callbacks/{callback.pk}/").status_code == 403
    assert client.post(f"/callbacks/{callback.pk}/", survey_post()).status_code == 403
    with tenant_context(firm_a):
        assert not Survey.objects.exists()


def test_an_agent_starts_with_their_own_calls_and_can_see_everybodys(agent, firm_a):
    mine = due_callback(firm_a, assigned_to=agent.user, customer_name="Mine Wang")
    other = MembershipFactory(tenant=firm_a, role="customer_service").user
    due_callback(firm_a, assigned_to=other, customer_name="Theirs Zhao")

    page = agent.get("/callbacks/", **EN).content.decode()
    assert "Mine Wang" in page and "Theirs Zhao" not in page
    # The number is masked until the agent reveals it (a recorded action), then it is a tel: link.
    assert mask_mobile(mine.customer.mobile) in page and mine.customer.mobile not in page
    assert f'href="/callbacks/{mine.pk}/"' in page
    revealed = agent.post(f"/privacy/reveal/leads.customer/{mine.customer_id}/mobile/").content.decode()
    assert f'href="tel:{mine.customer.mobile}"' in revealed

    everybody = agent.get("/callbacks/?agent=all", **EN).content.decode()
    assert "Mine Wang" in everybody and "Theirs Zhao" in everybody
    theirs = agent.get(f"/callbacks/?agent={other.pk}", **EN).content.decode()
    assert "Theirs Zhao" in theirs and "Mine Wang" not in theirs


def test_an_admin_starts_with_everybodys_calls(staff_client, firm_a):
    someone = MembershipFactory(tenant=firm_a, role="customer_service").user
    due_callback(firm_a, assigned_to=someone, customer_name="Theirs Zhao")
    assert "Theirs Zhao" in staff_client.get("/callbacks/").content.decode()


def test_the_tabs_count_and_an_overdue_call_shows_its_days_in_red(staff_client, firm_a):
    with tenant_context(firm_a):
        today = firm_today()
    due_callback(firm_a, customer_name="Today Sun")
    due_callback(firm_a, customer_name="Late Qian", due_on=today - timedelta(days=3))
    due_callback(
        firm_a,
        customer_name="Visit Wu",
        due_on=today - timedelta(days=2),
        method=Method.VISIT,
    )
    with tenant_context(firm_a):
        CallbackFactory(**{CUSTOMER_NAME: "Later Zhou"}, due_on=today + timedelta(days=20))

    today_page = staff_client.get("/callbacks/?bucket=due_today", **EN)
    assert today_page.context["bucket"] == "due_today"
    assert "Today Sun" in today_page.content.decode() and "Late Qian" not in today_page.content.decode()
    counts = {key: count for key, _label, count in today_page.context["tabs"]}
    assert counts["due_today"] == 1 and counts["overdue"] == 2 and counts["upcoming"] >= 1

    overdue = staff_client.get("/callbacks/?bucket=overdue", **EN).content.decode()
    assert "Late Qian" in overdue and "Today Sun" not in overdue
    assert 'class="badge badge--overdue" data-testid="overdue">' in overdue and "3 days late" in overdue

    phone_only = staff_client.get("/callbacks/?bucket=overdue&method=phone", **EN).content.decode()
    assert "Late Qian" in phone_only and "Visit Wu" not in phone_only
    assert "Later Zhou" in staff_client.get("/callbacks/?bucket=upcoming").content.decode()


@pytest.mark.parametrize("bucket", ["due_today", "overdue"])
def test_the_queue_query_count_does_not_grow_with_rows(staff_client, firm_a, bucket, django_assert_max_num_queries):
    with tenant_context(firm_a):
        today = firm_today()
    due_on = today if bucket == "due_today" else today - timedelta(days=1)
    agent = MembershipFactory(tenant=firm_a, role="customer_service").user

    def add(n):
        for _ in range(n):
            due_callback(firm_a, due_on=due_on, assigned_to=agent)

    add(1)
    with django_assert_max_num_queries(30) as counted:
        staff_client.get(f"/callbacks/?bucket={bucket}")
    add(8)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = staff_client.get(f"/callbacks/?bucket={bucket}")
    assert len(page.context["rows"]) == 9


# The callback page ---------------------------------------------------------------------------------------------


def test_the_callback_page_shows_the_customer_the_team_and_the_actions(agent, firm_a):
    designer = MembershipFactory(tenant=firm_a, role="designer", user=UserFactory(name="Designer Chen")).user
    callback = due_callback(firm_a, worksite__designer=designer, customer_name="Wang Fang")
    page = agent.get(f"/callbacks/{callback.pk}/", **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Wang Fang" in html and "Designer Chen" in html and callback.project.name in html
    assert mask_mobile(callback.customer.mobile) in html and 'data-testid="reveal"' in html
    for part in ('data-testid="attempt-buttons"', 'data-testid="send-sms"', 'data-testid="survey-form"'):
        assert part in html


def test_no_answer_is_recorded_as_an_attempt(agent, firm_a):
    callback = due_callback(firm_a, assigned_to=agent.user)
    response = agent.post(f"/callbacks/{callback.pk}/attempt/", {"outcome": "no_answer"})
    assert response.status_code == 302
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.attempts == 1 and callback.status == Callback.Status.RETRY
        assert CallbackAttempt.objects.get(callback=callback).outcome == "no_answer"
    assert "No answer" in agent.get(f"/callbacks/{callback.pk}/", **EN).content.decode()


def test_a_made_up_outcome_records_nothing(agent, firm_a):
    callback = due_callback(firm_a)
    agent.post(f"/callbacks/{callback.pk}/attempt/", {"outcome": "reached_the_moon"})
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.attempts == 0 and not CallbackAttempt.objects.exists()


def test_assign_schedule_a_visit_and_cancel(agent, firm_a):
    callback = due_callback(firm_a)
    colleague = MembershipFactory(tenant=firm_a, role="customer_service", user=UserFactory(name="Colleague Ma")).user
    agent.post(f"/callbacks/{callback.pk}/assign/", {"agent": colleague.pk})
    agent.post(f"/callbacks/{callback.pk}/visit/", {"at": "2031-05-06T10:30"})
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.assigned_to == colleague
        local = timezone.localtime(callback.appointment_at, firm_a.zone)
        assert (local.date().isoformat(), local.hour, local.minute) == ("2031-05-06", 10, 30)

    refused = agent.post(f"/callbacks/{callback.pk}/cancel/", {"reason": ""}, follow=True, **EN)
    assert "Reason" in " ".join(str(m) for m in refused.context["messages"])
    agent.post(f"/callbacks/{callback.pk}/cancel/", {"reason": "Sold the flat"})
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.status == Callback.Status.CANCELLED and "Sold the flat" in callback.closed_reason


def test_someone_of_another_firm_may_not_be_assigned(agent, firm_a, firm_b):
    callback = due_callback(firm_a)
    outsider = MembershipFactory(tenant=firm_b, role="customer_service").user
    agent.post(f"/callbacks/{callback.pk}/assign/", {"agent": outsider.pk})
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.assigned_to is None


def test_sending_the_sms_link_records_it(agent, firm_a):
    callback = due_callback(firm_a, method=Method.SMS)
    response = agent.post(f"/callbacks/{callback.pk}/sms/", follow=True, **EN)
    assert "sent" in " ".join(str(m) for m in response.context["messages"])
    with tenant_context(firm_a):
        assert CallbackAttempt.objects.filter(callback=callback, outcome="sms_sent").count() == 1


# The survey ----------------------------------------------------------------------------------------------------


def test_a_bad_survey_shows_errors_by_the_fields_keeps_every_answer_and_stores_nothing(agent, firm_a):
    callback = due_callback(firm_a)
    answers = {
        "contact": "new",
        "contact_update": "",
        "overall": "",
        "nps": "7",
        "quality_painting": "2",
        "defects_painting": ["crack", "other"],
        "defect_note_painting": "",
        "demands": ["furniture"],
        "suggestions": "Call before visiting",
        "report_repair": "on",
        "repair_area": "bathroom",
        "repair_description": "",
    }
    page = agent.post(f"/callbacks/{callback.pk}/", answers, **EN)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert {"overall", "contact_update", "defect_note_painting", "repair_description"} <= set(errors)
    html = page.content.decode()
    for kept in (
        'name="nps" value="7" id="id_nps_7" checked',
        'name="quality_painting" value="2"',
        'value="crack" id="id_defects_painting_3" checked',
        'value="furniture" id="id_demands_1" checked',
        "Call before visiting",
        'name="report_repair" id="id_report_repair" checked',
        '<option value="bathroom" selected>',
    ):
        assert kept in html, kept
    assert 'data-testid="q-overall"' in html and "This field is required." in html
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert not Survey.objects.exists() and callback.status == Callback.Status.OPEN
        assert not Lead.objects.filter(channel=Lead.Channel.AFTERCARE).exists()


def test_the_survey_completes_the_callback_and_links_what_it_started(agent, firm_a):
    callback = due_callback(firm_a, assigned_to=agent.user)
    answers = survey_post(
        overall="2",
        quality_painting="2",
        defects_painting=["crack"],
        designer_rating="5",
        expectation="below",
        demands=["furniture", "soft_furnishing"],
        demand_note="New sofa next spring",
        report_repair="on",
        repair_area="living_room",
        repair_trade="painting",
        repair_description="Crack above the living-room door",
        file_complaint="on",
        complaint_category="quality",
        complaint_description="The painter left without cleaning",
    )
    response = agent.post(f"/callbacks/{callback.pk}/", answers)
    assert response.status_code == 302 and response["Location"].endswith(f"/callbacks/{callback.pk}/#survey")
    with tenant_context(firm_a):
        callback.refresh_from_db()
        survey = Survey.objects.get(callback=callback)
        assert callback.status == Callback.Status.COMPLETED and callback.completed_by == agent.user
        assert (survey.via, survey.overall, survey.nps, survey.expectation) == ("staff", 2, 9, "below")
        assert [(d.trade, d.kind) for d in survey.defects.all()] == [("painting", "crack")]
        assert sorted(d.kind for d in survey.demands.all()) == ["furniture", "soft_furnishing"]
        assert survey.lead.channel == Lead.Channel.AFTERCARE and survey.lead.customer == callback.customer
        assert survey.repair_request.description == "Crack above the living-room door"
        assert survey.complaint.category == "quality"
        lead_id, repair_id, complaint_id = survey.lead_id, survey.repair_request_id, survey.complaint_id

    page = agent.get(f"/callbacks/{callback.pk}/", **EN).content.decode()
    assert 'data-testid="survey-form"' not in page
    assert f'href="/leads/{lead_id}/" data-testid="survey-lead"' in page
    assert f'href="/aftercare/repairs/{repair_id}/" data-testid="survey-repair"' in page
    assert f'href="/complaints/{complaint_id}/" data-testid="survey-complaint"' in page
    assert "Painting: Cracks" in page

    again = agent.post(f"/callbacks/{callback.pk}/", answers)
    assert again.status_code == 302
    with tenant_context(firm_a):
        assert Survey.objects.count() == 1


# The plan and the settings -------------------------------------------------------------------------------------


def plan_post(rows):
    data = {"steps-TOTAL_FORMS": str(len(rows)), "steps-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"steps-{i}-{key}"] = "on"
            elif value not in (False, None):
                data[f"steps-{i}-{key}"] = str(value)
    return data


def test_the_plan_page_shows_the_default_plan_and_saves_a_new_order(agent, firm_a):
    page = agent.get("/callbacks/plan/", **EN)
    assert page.status_code == 200
    initial = page.context["formset"].initial
    assert len(initial) == 7 and initial[0]["anchor"] == "phase_completed" and initial[2]["anchor"] == "handover"
    rows = [{**row, "is_active": row["is_active"]} for row in initial]
    rows[0]["position"], rows[1]["position"] = 2, 1
    rows.append(
        {
            "position": 9,
            "name": "After the waterproofing test",
            "anchor": "phase_completed",
            "phase_kind": "waterproofing_test",
            "offset": 7,
            "unit": "days",
            "method": "phone",
            "is_active": True,
        }
    )
    response = agent.post("/callbacks/plan/", plan_post(rows))
    assert response.status_code == 302
    with tenant_context(firm_a):
        active = list(CallbackStep.objects.filter(is_active=True).order_by("position"))
        assert [s.pk for s in active[:2]] == [initial[1]["id"], initial[0]["id"]]
        assert active[-1].name == "After the waterproofing test" and active[-1].phase_kind == "waterproofing_test"


def test_a_milestone_step_without_its_phase_is_refused(agent, firm_a):
    initial = agent.get("/callbacks/plan/").context["formset"].initial
    bad = {"name": "Milestone", "anchor": "phase_completed", "offset": 3, "unit": "days", "method": "phone"}
    page = agent.post("/callbacks/plan/", plan_post([*initial, {**bad, "is_active": True}]), **EN)
    assert page.status_code == 200 and page.context["formset"].non_form_errors()
    with tenant_context(firm_a):
        assert not CallbackStep.objects.filter(name="Milestone").exists()


def test_the_plan_needs_the_manage_permission(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="designer").user)
    assert client.get("/callbacks/plan/").status_code == 403
    assert client.get("/callbacks/settings/").status_code == 403


def test_settings_preview_and_an_unknown_placeholder(agent, firm_a):
    page = agent.get("/callbacks/settings/", **EN)
    assert page.status_code == 200 and "{customer_name}" in page.content.decode()
    form = {
        "assignment": "round_robin",
        "max_attempts": "4",
        "retry_after_hours": "12",
        "survey_link_days": "10",
        "follow_up_threshold": "2",
        "follow_up_days": "3",
    }
    preview = agent.post(
        "/callbacks/settings/",
        {**form, "sms_template": "Hello {customer_name}, {firm_name} here", "preview": "1"},
        **EN,
    )
    assert "Hello Ms Wang, Firm A here" in preview.content.decode()
    with tenant_context(firm_a):
        from callbacks.models import CallbackSettings

        assert not CallbackSettings.objects.filter(max_attempts=4).exists()

    bad = agent.post("/callbacks/settings/", {**form, "sms_template": "Hi {nickname}"}, **EN)
    assert bad.status_code == 200 and bad.context["form"].errors["sms_template"]

    assert agent.post("/callbacks/settings/", {**form, "sms_template": "Hi {customer_name}"}).status_code == 302
    with tenant_context(firm_a):
        saved = CallbackSettings.objects.get()
        assert (saved.assignment, saved.max_attempts, saved.retry_after_hours) == ("round_robin", 4, 12)
        assert saved.sms_template == "Hi {customer_name}" and saved.survey_link_days == 10


def test_a_step_factory_row_reaches_the_callback_page_for_its_firm(staff_client, firm_a):
    """The generic 404 walker's positive control needs firm A's admin to reach callbacks:detail."""
    with tenant_context(firm_a):
        callback = CallbackFactory(step=CallbackStepFactory())
    assert staff_client.get(f"/callbacks/{callback.pk}/").status_code == 200
