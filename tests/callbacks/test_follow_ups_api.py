"""The feedback follow-ups API: the list with its filters and the answers that opened each, retrieve, the
close action, who may read and close what (keys, admins, department heads, designers), and the survey's new
answers through the API."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callbacks.models import Callback, FeedbackFollowUp, Survey
from callbacks.services import plan, surveys
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory, FeedbackFollowUpFactory
from tests.factories import ApiKeyFactory

URL = "/api/v1/feedback-follow-ups/"


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


def post(client, path, data=None, **headers):
    return client.post(path, data or {}, content_type="application/json", **headers)


def session(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def surveyed(firm, *, designer=None, **answers):
    with tenant_context(firm):
        callback = CallbackFactory(status=Callback.Status.OPEN, released_at=timezone.now(), worksite__designer=designer)
        survey = surveys.survey_submit(callback=callback, via=Survey.Via.STAFF, **{"overall": 4, **answers})
        return {f.department: f for f in FeedbackFollowUp.objects.filter(survey=survey)}


def test_a_key_lists_filters_and_reads_the_answers_that_opened_each(api, firm_a):
    with tenant_context(firm_a):
        admin = member(firm_a, role="admin")
    found = surveyed(firm_a, designer_rating=2, materials=[{"item": "Wardrobe", "satisfaction": 1}])
    body = api.get(URL).json()
    by_id = {row["id"]: row for row in body["results"]}
    assert set(by_id) == {found["design"].pk, found["construction"].pk}
    design = by_id[found["design"].pk]
    assert (design["department"], design["status"], design["owner"], design["outcome"]) == (
        "design",
        "open",
        admin.pk,
        "",
    )
    assert design["triggers"] == [{"question": "designer_rating", "answer": 2}]
    material = by_id[found["construction"].pk]["triggers"][0]
    assert (material["question"], material["answer"]) == ("material", 1) and isinstance(material["material"], int)
    assert [r["id"] for r in api.get(URL, {"department": "construction"}).json()["results"]] == [
        found["construction"].pk
    ]
    assert api.get(URL, {"status": "closed"}).json()["results"] == []
    one = api.get(f"{URL}{found['design'].pk}/").json()
    assert one["callback"] == found["design"].callback_id and one["survey"] == found["design"].survey_id


def test_a_key_closes_with_the_outcome_and_a_blank_or_second_close_is_refused(api, firm_a):
    follow_up = surveyed(firm_a, qc_rating=1)["qc"]
    blank = post(api, f"{URL}{follow_up.pk}/close/", {"outcome": ""})
    assert blank.status_code == 400 and "outcome" in blank.json()["error"]["fields"]
    closed = post(api, f"{URL}{follow_up.pk}/close/", {"outcome": "QC re-inspected; grout redone."})
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["closed_by"]) == ("closed", None)
    assert closed.json()["outcome"] == "QC re-inspected; grout redone."
    again = post(api, f"{URL}{follow_up.pk}/close/", {"outcome": "Again"})
    assert again.status_code == 400


def test_a_read_only_key_reads_but_cannot_close(client, firm_a):
    follow_up = surveyed(firm_a, qc_rating=1)["qc"]
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["callbacks:read"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    assert client.get(URL, **headers).status_code == 200
    assert post(client, f"{URL}{follow_up.pk}/close/", {"outcome": "x"}, **headers).status_code == 403
    with tenant_context(firm_a):
        follow_up.refresh_from_db()
        assert follow_up.status == "open"


def test_a_designer_reads_their_projects_follow_ups_and_closes_only_their_own(firm_a):
    with tenant_context(firm_a):
        member(firm_a, role="admin")
        head = member(firm_a, role="designer", name="Design Manager Lin")
        designer = member(firm_a, role="designer")
        plan.callback_settings_save(design_head=head)
        elsewhere = FeedbackFollowUpFactory()
    theirs = surveyed(firm_a, designer=designer, designer_rating=2, crew_rating=2)
    reader = session(designer)
    assert {row["id"] for row in reader.get(URL).json()["results"]} == {theirs["design"].pk, theirs["construction"].pk}
    assert reader.get(f"{URL}{elsewhere.pk}/").status_code == 404
    refused = post(reader, f"{URL}{theirs['design'].pk}/close/", {"outcome": "Done"})
    assert refused.status_code == 400, "the design manager's, not theirs"

    manager = session(head)
    listed = {row["id"] for row in manager.get(URL).json()["results"]}
    assert theirs["design"].pk in listed and elsewhere.pk not in listed, "their own, and their projects' (none)"
    closed = post(manager, f"{URL}{theirs['design'].pk}/close/", {"outcome": "Redrew the wardrobe wall."})
    assert closed.status_code == 200 and closed.json()["closed_by"] == head.pk


def test_a_qc_inspector_does_not_read_callbacks_through_the_api(firm_a):
    with tenant_context(firm_a):
        qc = member(firm_a, role="qc")
        plan.callback_settings_save(qc_head=qc)
    follow_up = surveyed(firm_a, qc_rating=2)["qc"]
    client = session(qc)
    assert client.get(URL).status_code == 403
    assert post(client, f"{URL}{follow_up.pk}/close/", {"outcome": "x"}).status_code == 403, "closed on the page"


def test_the_list_answers_in_the_same_queries_however_many_rows(api, firm_a):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL).status_code == 200
        return len(captured.captured_queries)

    surveyed(firm_a, designer_rating=2)
    queries()  # warms the per-process caches
    few = queries()
    for _ in range(4):
        surveyed(firm_a, designer_rating=1, qc_rating=2, suggestions="More photos")
    assert queries() == few


def test_the_survey_takes_crew_and_qc_ratings_and_material_rows(api, firm_a):
    with tenant_context(firm_a):
        callback = CallbackFactory(status=Callback.Status.OPEN)
    answers = {
        "overall": 4,
        "crew_rating": 5,
        "qc_rating": 2,
        "materials": [{"item": "Floor tiles", "brand": "Marco Polo", "satisfaction": 2, "comment": "Two chipped"}],
    }
    response = post(api, f"/api/v1/callbacks/{callback.pk}/survey/", answers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["crew_rating"], body["qc_rating"]) == (5, 2)
    [row] = body["materials"]
    assert (row["item"], row["brand"], row["satisfaction"], row["comment"]) == (
        "Floor tiles",
        "Marco Polo",
        2,
        "Two chipped",
    )
    listed = api.get("/api/v1/callbacks/", {"status": "completed"}).json()["results"]
    assert listed[0]["survey"]["materials"][0]["item"] == "Floor tiles"
    departments = {row["department"] for row in api.get(URL).json()["results"]}
    assert departments == {"qc", "construction"}

    with tenant_context(firm_a):
        other = CallbackFactory(status=Callback.Status.OPEN)
    bad = post(
        api, f"/api/v1/callbacks/{other.pk}/survey/", {"overall": 4, "materials": [{"item": "Sofa", "satisfaction": 7}]}
    )
    assert bad.status_code == 400 and "materials" in bad.json()["error"]["fields"]
