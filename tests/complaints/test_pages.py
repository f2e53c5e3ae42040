"""Complaint staff pages and the homeowner portal's complaints page, through the test client."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.models import Complaint, ComplaintSettings
from complaints.services import handling as services
from renocrm.tenancy.context import tenant_context
from tests.complaints.conftest import staff
from tests.complaints.factories import ComplaintFactory
from tests.complaints.test_services import open_complaint
from tests.contracts.factories import ProjectFactory
from worksites.models import PortalAction
from worksites.services import portal as portal_services

pytestmark = pytest.mark.usefixtures("english")

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def body(response):
    return response.content.decode()


# The board and the list ---------------------------------------------------------------------------------------


def test_board_shows_three_levels_with_countdowns_in_the_firm_time(staff_client, firm_a, team):
    with tenant_context(firm_a):
        soon = ComplaintFactory(opened_at=T0, owner=team.agent)
        late = ComplaintFactory(opened_at=T0 - timedelta(hours=6), level=2)
        calm = ComplaintFactory(opened_at=T0 + timedelta(hours=3), level=3)
    with time_machine.travel(T0 + timedelta(hours=3, minutes=20), tick=False):
        response = staff_client.get(reverse("complaints:board"), **EN)
    assert response.status_code == 200
    html = body(response)
    assert [c.level for c in response.context["columns"]] == [1, 2, 3]
    assert f'data-testid="clock-{soon.pk}" data-state="due_soon"' in html
    assert "0 h 40 min left" in html
    assert "(by <time" in html and "03-02 14:00" in html, "the deadline in Shanghai time"
    assert f'data-testid="clock-{late.pk}" data-state="overdue"' in html
    assert "overdue by 5 h 20 min" in html  # responded by T0 - 2 h
    assert f'data-testid="clock-{calm.pk}" data-state="on_time"' in html
    assert 'data-testid="overdue-2"' in html


def test_board_shows_deadlines_in_the_firms_own_zone(staff_client, firm_a):
    firm_a.time_zone = "Asia/Urumqi"  # UTC+6
    firm_a.save()
    with tenant_context(firm_a):
        ComplaintFactory(opened_at=T0)
    with time_machine.travel(T0, tick=False):
        html = body(staff_client.get(reverse("complaints:board"), **EN))
    assert "03-02 12:00" in html


@pytest.mark.parametrize("name", ["complaints:board", "complaints:list"])
def test_board_and_list_keep_their_query_count(staff_client, firm_a, name):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(reverse(name))
        assert response.status_code == 200
        return len(captured.captured_queries)

    with tenant_context(firm_a):
        for level in (1, 2, 3):
            ComplaintFactory(level=level)
    few = queries()
    with tenant_context(firm_a):
        for level in (1, 2, 3):
            for _ in range(8):
                ComplaintFactory(level=level)
    assert queries() <= few


def test_list_filters_and_bad_filters_are_ignored(staff_client, firm_a, team):
    with tenant_context(firm_a):
        price = ComplaintFactory(category="price", owner=team.agent)
        quality = ComplaintFactory(category="quality", level=2)
    response = staff_client.get(reverse("complaints:list"), {"category": "price"})
    assert [c.pk for c in response.context["complaints"]] == [price.pk]
    response = staff_client.get(reverse("complaints:list"), {"level": "2"})
    assert [c.pk for c in response.context["complaints"]] == [quality.pk]
    response = staff_client.get(reverse("complaints:list"), {"owner": team.agent.pk})
    assert [c.pk for c in response.context["complaints"]] == [price.pk]
    response = staff_client.get(reverse("complaints:list"), {"level": "9", "before": "x"})
    assert response.status_code == 200 and "level" in response.context["form"].errors


# Taking a complaint in -----------------------------------------------------------------------------------------


def test_new_complaint_finds_the_customer_then_takes_the_complaint_in(staff_client, firm_a, team):
    url = reverse("complaints:new")
    found = staff_client.get(url, {"q": team.customer.name[:4]})
    assert team.customer in found.context["matches"]
    form_page = staff_client.get(url, {"customer": team.customer.pk})
    assert form_page.context["form"]["project"].value() == team.project.pk, "the only project is chosen"
    response = staff_client.post(
        f"{url}?customer={team.customer.pk}",
        {
            "customer": team.customer.pk,
            "project": team.project.pk,
            "channel": "phone",
            "category": "schedule",
            "severity": "normal",
            "description": "Works three weeks late",
        },
    )
    with tenant_context(firm_a):
        complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == reverse("complaints:detail", args=[complaint.pk])
    assert (complaint.owner, complaint.opened_by) == (team.agent, staff_client.membership.user)


def test_new_complaint_shows_field_errors(staff_client, firm_a, team):
    with tenant_context(firm_a):
        other = ProjectFactory()  # another customer's project
    response = staff_client.post(
        reverse("complaints:new") + f"?customer={team.customer.pk}",
        {"customer": team.customer.pk, "project": other.pk, "channel": "fax", "category": "", "description": ""},
        **EN,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"project", "channel", "category", "description"} <= set(errors)
    with tenant_context(firm_a):
        assert not Complaint.objects.exists()

    response = staff_client.post(
        reverse("complaints:new") + f"?customer={team.customer.pk}",
        {
            "customer": team.customer.pk,
            "channel": "phone",
            "category": "price",
            "severity": "normal",
            "description": "Overcharged",
            "project": "",
        },
        **EN,
    )
    assert response.status_code == 302, "without a project the complaint is taken in too"


# One complaint ------------------------------------------------------------------------------------------------


def test_detail_shows_the_log_and_the_actions_of_the_stage(staff_client, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
    response = staff_client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    assert set(response.context["forms"]) == {"respond", "note", "reassign", "resolve", "escalate"}
    assert 'data-kind="opened"' in body(response)

    detail = reverse("complaints:detail", args=[complaint.pk])
    steps = [
        ("respond", {"respond-text": "Called back"}),
        ("resolve", {"resolve-resolution": "Replaced the door", "resolve-root_cause": "supplier"}),
        ("report", {"report-text": "Phoned"}),
        ("verdict", {"verdict-verdict": "satisfied"}),
    ]
    for action, data in steps:
        response = staff_client.post(reverse(f"complaints:{action}", args=[complaint.pk]), data)
        assert response.status_code == 302 and response.url.startswith(detail), action
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.status == Complaint.Status.CLOSED
    assert set(staff_client.get(detail).context["forms"]) == {"note"}


def test_an_action_with_bad_input_or_refused_shows_the_errors_on_its_form(staff_client, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
    response = staff_client.post(reverse("complaints:resolve", args=[complaint.pk]), {"resolve-resolution": ""}, **EN)
    assert response.status_code == 400
    form = response.context["forms"]["resolve"]
    assert {"resolution", "root_cause"} <= set(form.errors)
    assert response.context["refused"] == "resolve"

    response = staff_client.post(reverse("complaints:report", args=[complaint.pk]), {"report-text": ""}, **EN)
    assert response.status_code == 400
    assert "Only a resolved complaint can be reported to the customer." in body(response)


def test_escalate_from_the_page(staff_client, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
    staff_client.post(reverse("complaints:escalate", args=[complaint.pk]), {"escalate-reason": "Customer insists"})
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.level, complaint.owner) == (2, team.head)


def test_view_only_staff_see_no_actions_and_cannot_post(client, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)
        viewer = staff(firm_a, "customer_service")
    from renocrm.accounts.roles import PERMISSIONS

    assert "customer_service" in PERMISSIONS["complaints.manage"]
    finance = staff(firm_a, "finance")
    client.force_login(finance)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 403
    client.force_login(viewer)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 200


# Settings and report --------------------------------------------------------------------------------------------


def test_settings_page_saves_and_shows_field_errors(staff_client, firm_a, team):
    url = reverse("complaints:settings")
    assert staff_client.get(url).status_code == 200
    data = {
        "level1_respond_hours": 6,
        "level1_resolve_hours": 36,
        "level2_respond_hours": 2,
        "level2_resolve_hours": 24,
        "level3_respond_hours": 0,
        "level3_resolve_hours": 24,
        "department_head": team.head.pk,
        "general_manager": "",
    }
    response = staff_client.post(url, data, **EN)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"level3_respond_hours"}
    data.update(level3_respond_hours=1, level1_resolve_hours=3)  # shorter than the time to respond
    response = staff_client.post(url, data, **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["level1_respond_hours"] == [
        "The time to respond cannot be longer than the time to resolve."
    ]
    data.update(level1_resolve_hours=36)
    assert staff_client.post(url, data).status_code == 302
    with tenant_context(firm_a):
        settings = ComplaintSettings.objects.get()
        assert settings.hours(1) == (6, 36) and settings.department_head == team.head
        assert settings.general_manager is None


def test_only_the_admin_changes_settings(client, firm_a, team):
    client.force_login(team.agent)
    assert client.get(reverse("complaints:settings")).status_code == 200
    assert client.post(reverse("complaints:settings"), {}).status_code == 403


def test_report_page(staff_client, firm_a, team):
    with tenant_context(firm_a):
        ComplaintFactory(category="price", trade="carpentry", responsible=team.pm)
    response = staff_client.get(reverse("complaints:report"), **EN)
    assert response.status_code == 200
    assert response.context["report"]["by_category"][0]["label"] == "Price"
    bad = staff_client.get(reverse("complaints:report"), {"start": "2026-03-05", "end": "2026-03-01"})
    assert "end" in bad.context["form"].errors


# The homeowner portal ------------------------------------------------------------------------------------------


@pytest.fixture
def portal(firm_a, team):
    with tenant_context(firm_a):
        link = portal_services.portal_link_create(worksite=team.worksite, created_by=None)
    url = reverse("complaints_portal:complaints", args=[portal_services.portal_link_token(link)])
    return link, url


def test_homeowner_files_a_complaint_from_the_portal(firm_a, team, portal):
    link, url = portal
    homeowner = Client(REMOTE_ADDR="203.0.113.9")
    page = homeowner.get(url)
    assert page.status_code == 200 and "complaints" in [key for key, *_ in page.context["more_tabs"]]
    response = homeowner.post(
        url + "file/", {"category": "attitude", "description": "The foreman was rude", "name": "Li Na"}
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        complaint = Complaint.objects.get()
        assert (complaint.channel, complaint.customer, complaint.project) == ("portal", team.customer, team.project)
        assert "Li Na" in complaint.entries.get(kind="opened").text
        action = PortalAction.objects.get(action=PortalAction.Action.COMPLAINT_FILED)
        assert (action.link_id, action.object_id, action.ip_address) == (link.pk, complaint.pk, "203.0.113.9")
    assert "The foreman was rude" in body(homeowner.get(url))

    bad = homeowner.post(url + "file/", {"category": "attitude", "description": "", "name": ""}, **EN)
    assert bad.status_code == 400
    assert {"description", "name"} <= set(bad.context["form"].errors)


def test_homeowner_gives_a_verdict_on_the_reported_result(firm_a, team, portal):
    link, url = portal
    with tenant_context(firm_a):
        complaint = open_complaint(team)
        services.complaint_resolve(
            complaint=complaint, by=team.agent, resolution="Re-painted the wall", root_cause="workmanship"
        )
    homeowner = Client()
    assert f'data-testid="portal-verdict-{complaint.pk}"' not in body(homeowner.get(url)), "not reported yet"
    with tenant_context(firm_a):
        services.complaint_report(complaint=complaint, by=team.agent)
    html = body(homeowner.get(url))
    assert "Re-painted the wall" in html and f'data-testid="portal-verdict-{complaint.pk}"' in html

    missing = homeowner.post(url + "verdict/?lang=en", {"object": complaint.pk, "name": "Li Na"})
    assert missing.status_code == 400 and "Say whether you are satisfied." in body(missing)

    response = homeowner.post(
        url + "verdict/",
        {"object": complaint.pk, "verdict": "not_satisfied", "comment": "Colour differs", "name": "Li Na"},
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.cycle) == (Complaint.Status.OPEN, 2)
        assert "Colour differs" in complaint.entries.get(kind="reopened").text
        assert PortalAction.objects.filter(
            action=PortalAction.Action.COMPLAINT_VERDICT, object_id=complaint.pk
        ).exists()


def test_portal_refuses_other_projects_complaints_and_tampered_tokens(firm_a, firm_b, team, portal):
    link, url = portal
    with tenant_context(firm_a):
        elsewhere = ComplaintFactory(
            status=Complaint.Status.RESOLVED, resolution="x", reported_at=T0, description="Roof leaks next door"
        )
    homeowner = Client()
    response = homeowner.post(url + "verdict/", {"object": elsewhere.pk, "verdict": "satisfied", "name": "Li"})
    assert response.status_code == 404
    assert "Roof leaks next door" not in body(homeowner.get(url))
    token = url.split("/")[2]
    tampered = url.replace(token, token[:-2] + "zz")
    assert homeowner.get(tampered).status_code == 404
    assert homeowner.post(tampered + "file/", {"category": "other", "description": "x", "name": "y"}).status_code == 404
    with tenant_context(firm_a):
        assert not Complaint.objects.filter(channel="portal").exists()
