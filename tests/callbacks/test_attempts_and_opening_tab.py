"""A callback's attempts (联系次数) count every call or visit made — a completed one as much as a no-answer —
on the page and through the API; and the work queue opens where the work is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callbacks.models import Callback, CallbackAttempt, Method, Survey
from callbacks.services import actions, surveys
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.factories import CallbackFactory
from tests.factories import MembershipFactory, UserFactory

URL = "/api/v1/callbacks/"


def due_callback(firm, **fields):
    with tenant_context(firm):
        defaults = {
            "status": Callback.Status.OPEN,
            "due_on": firm_today(),
            "released_at": timezone.now(),
            "method": Method.PHONE,
        }
        return CallbackFactory(**{**defaults, **fields})


@pytest.fixture
def agent(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="customer_service", user=UserFactory(name="Agent Li"))
    client.force_login(membership.user)
    client.user = membership.user
    return client


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers)
    return client


def api_post(api, path, data=None):
    return api.post(path, data or {}, content_type="application/json")


def attempts(firm, callback) -> tuple[int, list[str]]:
    with tenant_context(firm):
        callback.refresh_from_db()
        return callback.attempts, list(callback.attempt_log.order_by("at", "id").values_list("outcome", flat=True))


# Attempts: the page -----------------------------------------------------------------------------------------


def test_a_call_completed_with_the_survey_on_the_page_counts_as_an_attempt(agent, firm_a):
    callback = due_callback(firm_a, assigned_to=agent.user)
    response = agent.post(f"/callbacks/{callback.pk}/", {"contact": "yes", "overall": "5", "nps": "10"})
    assert response.status_code == 302
    assert attempts(firm_a, callback) == (1, ["reached"])
    with tenant_context(firm_a):
        attempt = CallbackAttempt.objects.get(callback=callback)
        assert (attempt.method, attempt.by) == (Method.PHONE, agent.user)
        assert Callback.objects.get(pk=callback.pk).status == Callback.Status.COMPLETED
    page = agent.get(f"/callbacks/{callback.pk}/")
    assert page.context["callback"].attempts == 1


def test_a_no_answer_then_a_completed_call_are_two_attempts(agent, firm_a):
    callback = due_callback(firm_a, assigned_to=agent.user)
    agent.post(f"/callbacks/{callback.pk}/attempt/", {"outcome": "no_answer"})
    with tenant_context(firm_a):
        # The retry has come round.
        Callback.objects.filter(pk=callback.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    agent.post(f"/callbacks/{callback.pk}/", {"contact": "yes", "overall": "4"})
    assert attempts(firm_a, callback) == (2, ["no_answer", "reached"])
    queue = agent.get("/callbacks/?bucket=done")
    row = next(row for row in queue.context["rows"] if row.pk == callback.pk)
    assert row.attempts == 2


# Attempts: the API ------------------------------------------------------------------------------------------


def test_the_api_counts_a_reached_call_and_its_survey_once(api, firm_a):
    callback = due_callback(firm_a)
    reached = api_post(api, f"{URL}{callback.pk}/attempt/", {"outcome": "reached", "note": "On the phone now"})
    assert reached.status_code == 200 and reached.json()["attempts"] == 1
    assert api_post(api, f"{URL}{callback.pk}/survey/", {"overall": 5}).status_code == 201
    assert attempts(firm_a, callback) == (1, ["reached"]), "the survey is that same call"
    assert api.get(f"{URL}{callback.pk}/").json()["attempts"] == 1


def test_the_api_survey_alone_is_the_completed_call(api, firm_a):
    callback = due_callback(firm_a)
    assert api_post(api, f"{URL}{callback.pk}/attempt/", {"outcome": "busy"}).json()["attempts"] == 1
    with tenant_context(firm_a):
        Callback.objects.filter(pk=callback.pk).update(status=Callback.Status.OPEN, next_attempt_at=None)
    assert api_post(api, f"{URL}{callback.pk}/survey/", {"overall": 3}).status_code == 201
    assert attempts(firm_a, callback) == (2, ["busy", "reached"])
    assert api.get(f"{URL}{callback.pk}/").json()["attempts"] == 2


# Attempts: the rules ------------------------------------------------------------------------------------------


def test_the_homeowner_answering_the_link_is_no_call(firm_a):
    callback = due_callback(firm_a, method=Method.SMS)
    with tenant_context(firm_a):
        surveys.survey_submit(callback=callback, via=Survey.Via.SMS_LINK, overall=4)
    assert attempts(firm_a, callback) == (0, [])


def test_only_failed_tries_close_a_callback_as_unreachable(firm_a):
    callback = due_callback(firm_a)
    with tenant_context(firm_a):
        callback = actions.callback_attempt_record(callback=callback, outcome="reached")
        callback = actions.callback_attempt_record(callback=callback, outcome="no_answer")
        callback = actions.callback_attempt_record(callback=callback, outcome="busy")
        assert (callback.status, callback.attempts) == (Callback.Status.RETRY, 3), "two failed tries of three"
        callback = actions.callback_attempt_record(callback=callback, outcome="no_answer")
        assert (callback.status, callback.attempts) == (Callback.Status.UNREACHABLE, 4)
        assert "3" in callback.closed_reason


# The tab the queue opens on -----------------------------------------------------------------------------------


def opening_tab(client) -> tuple[str, dict]:
    page = client.get("/callbacks/")
    return page.context["bucket"], {key: count for key, _label, count in page.context["tabs"]}


def test_the_queue_opens_on_the_overdue_calls_when_there_are_any(staff_client, firm_a):
    with tenant_context(firm_a):
        today = firm_today()
    late = [due_callback(firm_a, due_on=today - timedelta(days=days)) for days in (1, 3)]
    bucket, counts = opening_tab(staff_client)
    assert bucket == "overdue" and (counts["overdue"], counts["due_today"]) == (2, 0)
    page = staff_client.get("/callbacks/")
    assert {row.pk for row in page.context["rows"]} == {callback.pk for callback in late}
    assert 'data-testid="bucket-overdue" aria-current="page"' in page.content.decode()

    due_callback(firm_a)  # one due today too: the overdue ones still come first
    assert opening_tab(staff_client)[0] == "overdue"
    asked = staff_client.get("/callbacks/?bucket=due_today")
    assert asked.context["bucket"] == "due_today" and len(asked.context["rows"]) == 1, "a tab asked for is kept"


def test_without_overdue_calls_it_opens_on_today_else_on_the_upcoming(staff_client, firm_a):
    with tenant_context(firm_a):
        today = firm_today()
        CallbackFactory(due_on=today + timedelta(days=10))  # planned
    bucket, counts = opening_tab(staff_client)
    assert bucket == "upcoming" and counts["upcoming"] == 1
    due_callback(firm_a)
    assert opening_tab(staff_client) == ("due_today", {**counts, "due_today": 1})


def test_an_agent_opens_where_their_own_work_is(agent, firm_a):
    with tenant_context(firm_a):
        today = firm_today()
    someone = MembershipFactory(tenant=firm_a, role="customer_service").user
    due_callback(firm_a, assigned_to=someone, due_on=today - timedelta(days=2))  # not theirs
    due_callback(firm_a, assigned_to=agent.user)
    assert opening_tab(agent)[0] == "due_today"
    assert agent.get("/callbacks/?agent=all").context["bucket"] == "overdue"
