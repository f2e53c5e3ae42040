"""The callbacks API: the list with its filters and nested surveys, each action, the plan, and scopes."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callbacks.models import Callback, CallbackStep, Survey
from leads.models import Lead
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory, SurveyDefectFactory, SurveyDemandFactory, SurveyFactory
from tests.factories import ApiKeyFactory

URL = "/api/v1/callbacks/"


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


def post(api, path, data=None):
    return api.post(path, data or {}, content_type="application/json")


def open_callback(**fields):
    return CallbackFactory(status=Callback.Status.OPEN, **fields)


def test_the_list_filters_and_nests_each_callbacks_survey(api, firm_a):
    with tenant_context(firm_a):
        agent = member(firm_a)
        mine = open_callback(assigned_to=agent, due_on=date(2026, 3, 2))
        survey = SurveyFactory(overall=4, nps=8)
        SurveyDefectFactory(survey=survey, trade="painting", kind="crack", note="墙角")
        SurveyDemandFactory(survey=survey, kind="furniture")
        CallbackFactory(due_on=date(2026, 5, 1))
    body = api.get(URL).json()
    by_id = {row["id"]: row for row in body["results"]}
    assert len(by_id) == 3
    nested = by_id[survey.callback_id]["survey"]
    assert (nested["overall"], nested["nps"], nested["demands"]) == (4, 8, ["furniture"])
    assert nested["defects"] == [{"trade": "painting", "kind": "crack", "note": "墙角"}]
    assert by_id[mine.pk]["survey"] is None
    assert [r["id"] for r in api.get(URL, {"assigned_to": agent.pk}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in api.get(URL, {"status": "open"}).json()["results"]] == [mine.pk]
    window = api.get(URL, {"due_on__gte": "2026-03-01", "due_on__lte": "2026-03-31"}).json()["results"]
    assert [r["id"] for r in window] == [mine.pk]


def test_the_list_answers_in_the_same_queries_however_many_surveys(api, firm_a):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL).status_code == 200
        return len(captured.captured_queries)

    with tenant_context(firm_a):
        SurveyDefectFactory()
    few = queries()
    with tenant_context(firm_a):
        for _ in range(5):
            SurveyDemandFactory(survey=SurveyDefectFactory().survey)
    assert queries() <= few


def test_attempts_assign_sms_and_cancel_through_the_api(api, firm_a):
    with tenant_context(firm_a):
        callback = open_callback()
        agent = member(firm_a, phone="13700000009")
    assigned = post(api, f"{URL}{callback.pk}/assign/", {"agent": agent.pk})
    assert assigned.status_code == 200 and assigned.json()["assigned_to"] == agent.pk
    tried = post(api, f"{URL}{callback.pk}/attempt/", {"outcome": "no_answer", "note": "关机"})
    assert tried.status_code == 200
    assert (tried.json()["status"], tried.json()["attempts"]) == ("retry", 1)
    sms = post(api, f"{URL}{callback.pk}/send-sms/")
    assert sms.status_code == 200
    with tenant_context(firm_a):
        message = Notification.objects.get(idempotency_key=f"callback:{callback.pk}:sms:1")
    assert "http://testserver/portal/survey/" in message.body
    refused = post(api, f"{URL}{callback.pk}/cancel/", {"reason": ""})
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["fields"]
    cancelled = post(api, f"{URL}{callback.pk}/cancel/", {"reason": "业主已搬家"})
    assert cancelled.json()["status"] == "cancelled"


def test_an_outsider_cannot_be_given_a_callback(api, firm_a, firm_b):
    with tenant_context(firm_a):
        callback = open_callback()
    outsider = member(firm_b)
    response = post(api, f"{URL}{callback.pk}/assign/", {"agent": outsider.pk})
    assert response.status_code == 400
    with tenant_context(firm_a):
        callback.refresh_from_db()
        assert callback.assigned_to is None


def test_submitting_the_survey_completes_the_callback_and_starts_a_lead(api, firm_a):
    with tenant_context(firm_a):
        callback = open_callback()
    response = post(
        api,
        f"{URL}{callback.pk}/survey/",
        {
            "overall": 5,
            "nps": 10,
            "quality_carpentry": 4,
            "defects": [{"trade": "carpentry", "kind": "seal"}],
            "demands": ["partial_renovation"],
            "demand_note": "儿童房改造",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["overall"], body["nps"], body["via"], body["demands"]) == (5, 10, "staff", ["partial_renovation"])
    assert body["defects"] == [{"trade": "carpentry", "kind": "seal", "note": ""}]
    with tenant_context(firm_a):
        assert Lead.objects.get(pk=body["lead"]).channel == "aftercare"
        callback.refresh_from_db()
        assert callback.status == Callback.Status.COMPLETED
    again = post(api, f"{URL}{callback.pk}/survey/", {"overall": 3})
    assert again.status_code == 400
    bad = post(api, f"{URL}{open_callback_in(firm_a).pk}/survey/", {"overall": 9})
    assert bad.status_code == 400 and "overall" in bad.json()["error"]["fields"]


def open_callback_in(firm):
    with tenant_context(firm):
        return open_callback()


def test_the_plan_is_listed_seeded_and_replaced(api, firm_a):
    listed = sorted(api.get("/api/v1/callback-plans/").json()["results"], key=lambda step: step["position"])
    assert [(s["position"], s["anchor"], s["phase_kind"], s["offset"], s["unit"]) for s in listed] == [
        (1, "phase_completed", "plumbing_electrical", 2, "working_days"),
        (2, "phase_completed", "carpentry", 2, "working_days"),
        (3, "handover", "", 3, "working_days"),
        (4, "handover", "", 1, "months"),
        (5, "handover", "", 3, "months"),
        (6, "handover", "", 6, "months"),
        (7, "handover", "", 12, "months"),
    ]
    first = listed[0]
    steps = [
        {**first, "offset": 3},
        {"name": "油漆完工回访", "anchor": "phase_completed", "phase_kind": "painting", "offset": 5, "unit": "days"},
    ]
    replaced = post(api, "/api/v1/callback-plans/replace/", {"steps": steps})
    assert replaced.status_code == 200, replaced.content
    assert [(s["name"], s["offset"], s["is_active"]) for s in replaced.json()][:2] == [
        (first["name"], 3, True),
        ("油漆完工回访", 5, True),
    ]
    refused = post(
        api,
        "/api/v1/callback-plans/replace/",
        {"steps": [{"name": "x", "anchor": "phase_completed", "offset": 1, "unit": "months"}]},
    )
    assert refused.status_code == 400
    with tenant_context(firm_a):
        assert CallbackStep.objects.filter(is_active=True).count() == 2


def test_a_read_only_key_reads_but_cannot_act(client, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["callbacks:read"])
        callback = open_callback()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    assert client.get(URL, **headers).status_code == 200
    response = client.post(f"{URL}{callback.pk}/survey/", {"overall": 5}, content_type="application/json", **headers)
    assert response.status_code == 403
    with tenant_context(firm_a):
        assert not Survey.objects.exists()
