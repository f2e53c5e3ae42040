"""The follow-up pages through the test client: each department head's list and the firm admin's, the page
with the answers and the close form, who may see and close what, the callback page showing the outcome, and
the heads on the callback settings page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from callbacks.models import Callback, CallbackSettings, FeedbackFollowUp, Survey
from callbacks.services import plan, surveys
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory, FeedbackFollowUpFactory

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def crew(firm_a):
    """Firm A's admin, its QC manager (a QC inspector named as the QC department's head), the agent who takes
    the surveys and a designer."""
    with tenant_context(firm_a):
        people = {
            "admin": member(firm_a, role="admin", name="Boss Gao"),
            "qc_head": member(firm_a, role="qc", name="QC Manager Sun"),
            "agent": member(firm_a, role="customer_service", name="Agent Zhou", phone="13700000001"),
            "designer": member(firm_a, role="designer", name="Designer Chen"),
        }
        plan.callback_settings_save(qc_head=people["qc_head"])
    return people


def surveyed(firm, crew, customer_name="Wang Fang", **answers):
    """A callback the agent surveyed on the phone, with ``answers``; returns (callback, its follow-ups)."""
    with tenant_context(firm):
        callback = CallbackFactory(
            status=Callback.Status.OPEN,
            released_at=timezone.now(),
            assigned_to=crew["agent"],
            worksite__designer=crew["designer"],
            worksite__contract__project__lead__customer__name=customer_name,
        )
        survey = surveys.survey_submit(
            callback=callback, via=Survey.Via.STAFF, by=crew["agent"], **{"overall": 4, **answers}
        )
        return callback, {f.department: f for f in FeedbackFollowUp.objects.filter(survey=survey)}


def test_a_qc_head_finds_their_follow_up_reads_the_answers_and_closes_it(firm_a, crew):
    callback, found = surveyed(firm_a, crew, qc_rating=2, materials=[{"item": "Tiles", "satisfaction": 4}])
    follow_up = found["qc"]
    head = signed_in(crew["qc_head"])

    listed = head.get("/callbacks/follow-ups/", **EN)
    assert listed.status_code == 200
    assert [row.pk for row in listed.context["rows"]] == [follow_up.pk]
    assert "Wang Fang" in listed.content.decode() and "QC inspection" in listed.content.decode()

    page = head.get(f"/callbacks/follow-ups/{follow_up.pk}/", **EN)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="follow-up-close"' in html
    assert "Dissatisfied" in html and "Agent Zhou" in html
    assert 'data-testid="callback-link"' not in html, "a QC inspector does not read the callbacks themselves"

    blank = head.post(f"/callbacks/follow-ups/{follow_up.pk}/close/", {"outcome": ""}, **EN)
    assert blank.status_code == 400 and blank.context["form"].errors["outcome"]
    done = head.post(f"/callbacks/follow-ups/{follow_up.pk}/close/", {"outcome": "Re-inspected the tiling."})
    assert done.status_code == 302 and done["Location"] == f"/callbacks/follow-ups/{follow_up.pk}/"
    with tenant_context(firm_a):
        follow_up.refresh_from_db()
        assert (follow_up.status, follow_up.closed_by) == ("closed", crew["qc_head"])
        told = Notification.objects.get(idempotency_key=f"feedback-follow-up:{follow_up.pk}:closed")
        assert told.recipient == "13700000001"

    # The agent reads the outcome on the callback's page.
    outcome = signed_in(crew["agent"]).get(f"/callbacks/{callback.pk}/", **EN).content.decode()
    assert f'data-testid="follow-up-{follow_up.pk}"' in outcome and "Re-inspected the tiling." in outcome


def test_a_member_who_neither_owns_nor_reads_callbacks_sees_no_follow_up(firm_a, crew):
    _callback, found = surveyed(firm_a, crew, designer_rating=2)
    follow_up = found["design"]
    with tenant_context(firm_a):
        other_qc = member(firm_a, role="qc")
    client = signed_in(other_qc)
    assert list(client.get("/callbacks/follow-ups/?owner=all").context["rows"]) == []
    assert client.get(f"/callbacks/follow-ups/{follow_up.pk}/").status_code == 404
    assert client.post(f"/callbacks/follow-ups/{follow_up.pk}/close/", {"outcome": "x"}).status_code == 404
    with tenant_context(firm_a):
        follow_up.refresh_from_db()
        assert follow_up.status == "open"


def test_an_agent_reads_any_follow_up_but_may_not_close_anothers(firm_a, crew):
    _callback, found = surveyed(firm_a, crew, qc_rating=1)
    follow_up = found["qc"]
    agent = signed_in(crew["agent"])
    page = agent.get(f"/callbacks/follow-ups/{follow_up.pk}/", **EN).content.decode()
    assert 'data-testid="follow-up-close"' not in page and 'data-testid="callback-link"' in page
    refused = agent.post(f"/callbacks/follow-ups/{follow_up.pk}/close/", {"outcome": "Sorted"}, **EN)
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == ["Only the follow-up's owner or a firm admin can close it."]
    assert "Only the follow-up&#x27;s owner" in refused.content.decode()
    with tenant_context(firm_a):
        follow_up.refresh_from_db()
        assert follow_up.status == "open"


def test_the_admin_sees_everyones_and_filters_by_owner_and_state(firm_a, crew):
    _c1, design = surveyed(firm_a, crew, "Wang Fang", designer_rating=2)
    _c2, qc = surveyed(firm_a, crew, "Li Lei", qc_rating=2)
    with tenant_context(firm_a):
        FeedbackFollowUp.objects.filter(pk=design["design"].pk).update(due_on=firm_today() - timedelta(days=1))
    admin = signed_in(crew["admin"])

    def rows(query=""):
        return {row.pk for row in admin.get(f"/callbacks/follow-ups/{query}").context["rows"]}

    assert rows() == {design["design"].pk, qc["qc"].pk}, "an admin starts with everyone's"
    assert rows("?owner=mine") == {design["design"].pk}, "the admin heads design (nobody named)"
    assert rows("?state=overdue") == {design["design"].pk}
    overdue = admin.get("/callbacks/follow-ups/?state=overdue", **EN).content.decode()
    assert 'data-testid="overdue"' in overdue
    assert rows("?state=closed") == set()
    admin.post(f"/callbacks/follow-ups/{qc['qc'].pk}/close/", {"outcome": "Covered for the QC manager"})
    assert rows("?state=closed") == {qc["qc"].pk}
    assert rows("?state=all") == {design["design"].pk, qc["qc"].pk}


def test_a_designer_sees_the_follow_ups_of_their_projects_only(firm_a, crew):
    _mine, own = surveyed(firm_a, crew, crew_rating=2)
    with tenant_context(firm_a):
        elsewhere = FeedbackFollowUpFactory()
    designer = signed_in(crew["designer"])
    assert [row.pk for row in designer.get("/callbacks/follow-ups/").context["rows"]] == [], "mine: owns none"
    assert {row.pk for row in designer.get("/callbacks/follow-ups/?owner=all").context["rows"]} == {
        own["construction"].pk
    }
    assert designer.get(f"/callbacks/follow-ups/{own['construction'].pk}/").status_code == 200
    assert designer.get(f"/callbacks/follow-ups/{elsewhere.pk}/").status_code == 404


def test_the_list_query_count_does_not_grow_with_rows(firm_a, crew, django_assert_max_num_queries):
    admin = signed_in(crew["admin"])
    surveyed(firm_a, crew, designer_rating=2, materials=[{"item": "Sofa", "satisfaction": 1}])
    with django_assert_max_num_queries(30) as counted:
        admin.get("/callbacks/follow-ups/")
    for n in range(4):
        surveyed(firm_a, crew, f"Customer {n}", qc_rating=2, materials=[{"item": "Bed", "satisfaction": 2}])
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = admin.get("/callbacks/follow-ups/")
    assert len(page.context["rows"]) == 10


def test_the_settings_page_names_each_departments_head(firm_a, crew):
    admin = signed_in(crew["admin"])
    form = {
        "assignment": "project_agent",
        "max_attempts": "3",
        "retry_after_hours": "24",
        "survey_link_days": "14",
        "follow_up_threshold": "3",
        "follow_up_days": "5",
        "design_head": crew["designer"].pk,
        "qc_head": crew["qc_head"].pk,
        "construction_head": "",
        "service_head": "",
    }
    page = admin.get("/callbacks/settings/", **EN).content.decode()
    assert 'name="design_head"' in page and "Left empty: the firm" in page
    assert admin.post("/callbacks/settings/", form).status_code == 302
    with tenant_context(firm_a):
        saved = CallbackSettings.objects.get()
        assert (saved.design_head, saved.qc_head, saved.construction_head) == (crew["designer"], crew["qc_head"], None)
        assert (saved.follow_up_threshold, saved.follow_up_days) == (3, 5)
        outsider = member(firm_a, role="designer")
        outsider.memberships.update(is_active=False)
    refused = admin.post("/callbacks/settings/", {**form, "design_head": outsider.pk}, **EN)
    assert refused.status_code == 200 and refused.context["form"].errors["design_head"]
    with tenant_context(firm_a):
        assert CallbackSettings.objects.get().design_head == crew["designer"]


def test_a_design_head_links_to_the_callback_only_on_their_own_projects(firm_a, crew):
    """A designer heading the design department follows up on other designers' projects, whose callbacks
    they do not read: the page names the callback without a link that would answer 404."""
    with tenant_context(firm_a):
        head = member(firm_a, role="designer", name="Design Manager Lin")
        plan.callback_settings_save(design_head=head)
    callback, found = surveyed(firm_a, crew, designer_rating=2)
    client = signed_in(head)
    page = client.get(f"/callbacks/follow-ups/{found['design'].pk}/", **EN).content.decode()
    assert 'data-testid="callback-link"' not in page
    assert client.get(f"/callbacks/{callback.pk}/").status_code == 404
    own = signed_in(crew["designer"]).get(f"/callbacks/{callback.pk}/")
    assert own.status_code == 200, "the project's own designer reads it"
