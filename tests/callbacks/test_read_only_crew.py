"""Designers and project managers read the callbacks and surveys of their own projects — the worksites where
they are the designer or the project manager — and nothing else; they cannot act on any of them. Through the
pages and the API."""

import pytest
from django.test import Client
from django.utils import timezone

from callbacks.models import Callback, CallbackAttempt, Survey
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory, SurveyFactory, SurveyMaterialFactory

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CUSTOMER = "worksite__contract__project__lead__customer__name"


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def due_today(firm, name, **fields):
    with tenant_context(firm):
        return CallbackFactory(
            status=Callback.Status.OPEN, due_on=firm_today(), released_at=timezone.now(), **{CUSTOMER: name}, **fields
        )


@pytest.fixture(params=["designer", "project_manager"])
def reader(request, firm_a):
    """A designer or a project manager of firm A, their own project's callback (surveyed, with a material row)
    and another project's."""
    role = request.param
    with tenant_context(firm_a):
        user = member(firm_a, role=role)
    own = due_today(firm_a, "Own Wang", **{f"worksite__{role}": user})
    other = due_today(firm_a, "Other Zhao")
    with tenant_context(firm_a):
        done = CallbackFactory(status=Callback.Status.COMPLETED, **{CUSTOMER: "Done Li", f"worksite__{role}": user})
        survey = SurveyFactory(callback=done, overall=4, crew_rating=2, qc_rating=5)
        SurveyMaterialFactory(survey=survey, item="Wardrobe", satisfaction=2)
    return {"user": user, "role": role, "own": own, "other": other, "done": done}


def test_the_queue_lists_only_their_projects(reader):
    client = signed_in(reader["user"])
    page = client.get("/callbacks/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Own Wang" in html and "Other Zhao" not in html
    counts = {key: count for key, _label, count in page.context["tabs"]}
    assert counts["due_today"] == 1 and counts["done"] == 1
    assert "Done Li" in client.get("/callbacks/?bucket=done").content.decode()


def test_their_callback_reads_with_its_survey_and_no_way_to_act(reader):
    client = signed_in(reader["user"])
    own = client.get(f"/callbacks/{reader['own'].pk}/").content.decode()
    for part in ('data-testid="attempt-buttons"', 'data-testid="callback-actions"', 'data-testid="survey-form"'):
        assert part not in own
    done = client.get(f"/callbacks/{reader['done'].pk}/").content.decode()
    assert 'data-testid="survey-answers"' in done
    assert "Wardrobe · Oppein: Dissatisfied" in done and 'data-testid="answer-crew">Dissatisfied' in done


def test_another_projects_callback_is_not_found(reader):
    client = signed_in(reader["user"])
    assert client.get(f"/callbacks/{reader['other'].pk}/").status_code == 404


def test_they_cannot_act_or_answer_the_survey(reader, firm_a):
    client = signed_in(reader["user"])
    own = reader["own"]
    assert client.post(f"/callbacks/{own.pk}/", {"contact": "yes", "overall": "5"}).status_code == 403
    assert client.post(f"/callbacks/{own.pk}/attempt/", {"outcome": "no_answer"}).status_code == 403
    assert client.post(f"/callbacks/{own.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert client.get("/callbacks/plan/").status_code == 403
    with tenant_context(firm_a):
        assert not Survey.objects.filter(callback=own).exists() and not CallbackAttempt.objects.exists()
        own.refresh_from_db()
        assert own.status == Callback.Status.OPEN


def test_the_api_lists_only_their_projects_and_refuses_their_writes(reader, firm_a):
    client = signed_in(reader["user"])
    listed = {row["id"] for row in client.get("/api/v1/callbacks/").json()["results"]}
    assert listed == {reader["own"].pk, reader["done"].pk}
    done = client.get(f"/api/v1/callbacks/{reader['done'].pk}/").json()
    assert done["survey"]["crew_rating"] == 2 and done["survey"]["materials"][0]["item"] == "Wardrobe"
    assert client.get(f"/api/v1/callbacks/{reader['other'].pk}/").status_code == 404
    refused = client.post(
        f"/api/v1/callbacks/{reader['own'].pk}/attempt/", {"outcome": "no_answer"}, content_type="application/json"
    )
    assert refused.status_code == 403
    with tenant_context(firm_a):
        assert not CallbackAttempt.objects.exists()


def test_their_queue_query_count_does_not_grow_with_rows(reader, firm_a, django_assert_max_num_queries):
    client = signed_in(reader["user"])
    client.get("/callbacks/")
    with django_assert_max_num_queries(30) as counted:
        client.get("/callbacks/")
    for n in range(6):
        due_today(firm_a, f"Own {n}", **{f"worksite__{reader['role']}": reader["user"]})
        due_today(firm_a, f"Other {n}")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = client.get("/callbacks/")
    assert len(page.context["rows"]) == 7
