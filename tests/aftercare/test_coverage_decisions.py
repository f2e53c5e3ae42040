"""The warranty decision of a repair: a trade's own warranty (bathroom and kitchen waterproofing, five years)
covers only repairs of that trade or a leak, the general works (two years) the rest; staff set the trade
when triaging and the decision is made again; the decision is shown with its reason on the repair's page,
in the API and on the homeowner's portal."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from aftercare import selectors
from aftercare.models import RepairRequest, RepairVisit
from aftercare.services import repairs as repair_services
from renocrm.calendar import add_months
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.conftest import BATHROOM_WATERPROOFING, handed_over
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory
from tests.worksites.factories import WorksiteFactory
from worksites.services.portal import portal_link_create, portal_link_token

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
HANDED_OVER = date(2026, 5, 3)
YEAR_FOUR = datetime(2030, 3, 10, 10, tzinfo=SHANGHAI)
NOT_COVERED_IN_YEAR_FOUR = (
    "Not covered: General works ended 2028-05-03; "
    "Bathroom waterproofing applies only to a waterproofing trade or a leak"
)


def policy_coverages(project, start=HANDED_OVER):
    """The default policy's coverages of a project with a bathroom and a kitchen: general works two years,
    kitchen and bathroom waterproofing five."""
    general = CoverageFactory(
        project=project, name="General works", area="whole_home", starts_on=start, ends_on=add_months(start, 24)
    )
    kitchen = CoverageFactory(
        project=project,
        name="Kitchen waterproofing",
        area="kitchen",
        trade="waterproofing",
        starts_on=start,
        ends_on=add_months(start, 60),
    )
    bathroom = CoverageFactory(
        project=project,
        name="Bathroom waterproofing",
        area="bathroom",
        trade="waterproofing",
        starts_on=start,
        ends_on=add_months(start, 60),
    )
    return general, kitchen, bathroom


def open_repair(project, reported_at=YEAR_FOUR, area="bathroom", **fields):
    return repair_services.repair_request_open(
        project=project, area=area, description="Tiles loose by the shower", reported_at=reported_at, **fields
    )


# The service ---------------------------------------------------------------------------------------------------


def test_a_bathroom_defect_in_year_four_without_a_trade_is_not_covered(firm):
    project = ProjectFactory()
    policy_coverages(project)
    repair = open_repair(project)
    assert not repair.is_covered and repair.coverage is None and repair.is_chargeable
    with translation.override("en"):
        assert repair.coverage_explanation == NOT_COVERED_IN_YEAR_FOUR


@pytest.mark.parametrize("kind", [{"trade": "waterproofing"}, {"category": "leak"}])
def test_as_waterproofing_or_as_a_leak_it_is_covered_by_the_bathroom_waterproofing(firm, kind):
    project = ProjectFactory()
    _general, _kitchen, bathroom = policy_coverages(project)
    repair = open_repair(project, **kind)
    assert repair.is_covered and repair.coverage == bathroom
    with translation.override("en"):
        assert repair.coverage_explanation == "Covered by Bathroom waterproofing until 2031-05-03"


def test_a_named_trade_decides_even_for_a_leak(firm):
    """The leak stands for waterproofing only while nobody has named the trade: a leaking pipe is plumbing."""
    project = ProjectFactory()
    policy_coverages(project)
    repair = open_repair(project, trade="plumbing_electrical", category="leak")
    assert not repair.is_covered


def test_the_general_works_cover_any_trade_for_two_years(firm):
    project = ProjectFactory()
    general, kitchen, bathroom = policy_coverages(project)
    year_one = datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    for fields in ({}, {"trade": "painting"}, {"category": "crack"}):
        repair = open_repair(project, reported_at=year_one, **fields)
        assert repair.coverage == general, fields
    # The trade's own warranty is the more specific one; the kitchen's never covers the bathroom.
    assert open_repair(project, reported_at=year_one, trade="waterproofing").coverage == bathroom
    assert open_repair(project, reported_at=year_one, area="kitchen", category="leak").coverage == kitchen
    assert open_repair(project, reported_at=year_one, area="balcony", category="leak").coverage == general
    # The last day of the general works still counts, in the firm's time.
    last_day = datetime(2028, 5, 3, 23, 30, tzinfo=SHANGHAI)
    assert open_repair(project, reported_at=last_day).coverage == general
    assert not open_repair(project, reported_at=last_day + timedelta(hours=1)).is_covered


def test_the_reason_names_each_coverage_that_did_not_apply(firm):
    project = ProjectFactory()
    policy_coverages(project)
    CoverageFactory(
        project=project,
        name="Shower screen",
        area="bathroom",
        trade="installation",
        starts_on=date(2031, 1, 1),
        ends_on=date(2033, 1, 1),
    )
    with translation.override("en"):
        year_six = open_repair(project, reported_at=datetime(2032, 6, 1, tzinfo=SHANGHAI), category="leak")
        assert year_six.coverage_explanation == (
            "Not covered: General works ended 2028-05-03; Bathroom waterproofing ended 2031-05-03; "
            "Shower screen applies only to the trade Installation"
        )
        early = open_repair(project, reported_at=datetime(2026, 5, 1, tzinfo=SHANGHAI), trade="installation")
        assert early.coverage_explanation.startswith("Not covered: General works starts 2026-05-03;")
        nothing = open_repair(ProjectFactory(), reported_at=YEAR_FOUR)
        assert nothing.coverage_explanation == "Not covered: the project has no warranty for this area"


def test_the_decision_from_a_real_handover_with_the_default_policy(firm):
    """The coverages the handover starts from a quotation with bathroom waterproofing, four years on."""
    project = handed_over(firm, items=(BATHROOM_WATERPROOFING,))
    start = project.handed_over_on
    year_four = datetime(start.year + 4, start.month, 1, 12, tzinfo=SHANGHAI) - timedelta(days=31)
    assert not open_repair(project, reported_at=year_four).is_covered
    covered = open_repair(project, reported_at=year_four, category="leak")
    assert covered.is_covered and covered.coverage.name == "Bathroom waterproofing"
    assert selectors.coverage_for(project, "bathroom", on=year_four.date()) is None
    assert selectors.coverage_for(project, "bathroom", "waterproofing", on=year_four.date()) == covered.coverage


def test_triage_sets_the_trade_and_makes_the_decision_again(firm):
    project = ProjectFactory()
    _general, _kitchen, bathroom = policy_coverages(project)
    repair = open_repair(project)
    agent = MembershipFactory(tenant=firm, role="customer_service").user

    with translation.override("en"):
        triaged = repair_services.repair_request_triage(repair=repair, trade="waterproofing", by=agent)
    assert (triaged.trade, triaged.is_covered, triaged.coverage) == ("waterproofing", True, bathroom)
    note = RepairVisit.objects.filter(repair=repair).latest("id")
    assert note.by == agent and "Covered by Bathroom waterproofing until 2031-05-03" in note.note
    event = OutboxEvent.objects.filter(event_type="repair.triaged").get()
    assert event.payload == {
        "id": repair.pk,
        "project_id": project.pk,
        "status": "open",
        "trade": "waterproofing",
        "category": "",
        "is_covered": True,
    }

    # Changed again — the trade turns out to be tiling — the warranty no longer covers it.
    back = repair_services.repair_request_triage(repair=repair, trade="masonry")
    assert not back.is_covered and back.coverage is None
    repair.refresh_from_db()
    assert (repair.trade, repair.is_covered, repair.coverage_id) == ("masonry", False, None)


def test_triage_is_refused_once_the_repair_is_closed_or_with_an_unknown_trade(firm):
    project = ProjectFactory()
    policy_coverages(project)
    repair = open_repair(project)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        repair_services.repair_request_triage(repair=repair, trade="roofing", category="flood")
    assert set(refused.value.message_dict) == {"trade", "category"}
    repair_services.repair_request_resolve(repair=repair, resolution="Re-grouted", charge=None)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        repair_services.repair_request_triage(repair=repair, trade="waterproofing")
    assert "keeps its trade and warranty decision" in refused.value.messages[0]
    repair.refresh_from_db()
    assert (repair.trade, repair.is_covered) == ("", False)


# The page ------------------------------------------------------------------------------------------------------


@pytest.fixture
def year_four_project(firm_a):
    """A project handed over four years ago: the general works ended, the waterproofing runs."""
    with tenant_context(firm_a):
        today = firm_today()
        start = today - timedelta(days=4 * 365)
        project = ProjectFactory()
        general, _kitchen, bathroom = policy_coverages(project, start=start)
    return project, general, bathroom


def test_the_repair_page_shows_the_reason_and_staff_triage_it(staff_client, firm_a, year_four_project):
    project, general, bathroom = year_four_project
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    created = staff_client.post(
        reverse("aftercare:repair-new"),
        {"project": project.pk, "area": "bathroom", "description": "Tiles loose", "source": "staff"},
    )
    with tenant_context(firm_a):
        repair = RepairRequest.objects.get()
    assert created.url == reverse("aftercare:repair", args=[repair.pk]) and not repair.is_covered
    page = staff_client.get(created.url).content.decode()
    assert f"Not covered: General works ended {general.ends_on.isoformat()}" in page
    assert 'data-testid="triage-form"' in page

    triaged = staff_client.post(
        reverse("aftercare:repair-triage", args=[repair.pk]), {"trade": "waterproofing", "category": ""}, follow=True
    )
    reason = f"Covered by Bathroom waterproofing until {bathroom.ends_on.isoformat()}"
    assert f"Trade saved. {reason}." in triaged.content.decode()
    assert triaged.context["repair"].is_covered

    refused = staff_client.post(reverse("aftercare:repair-triage", args=[repair.pk]), {"trade": "roofing"}, follow=True)
    assert "Select a valid choice" in refused.content.decode()
    staff_client.post(reverse("aftercare:repair-cancel", args=[repair.pk]), {"reason": "Reported twice"})
    closed = staff_client.post(reverse("aftercare:repair-triage", args=[repair.pk]), {"trade": ""}, follow=True)
    assert "keeps its trade and warranty decision" in closed.content.decode()
    with tenant_context(firm_a):
        assert RepairRequest.objects.get().is_covered


def test_a_leak_recorded_by_staff_is_covered(staff_client, firm_a, year_four_project):
    project, _general, bathroom = year_four_project
    staff_client.post(
        reverse("aftercare:repair-new"),
        {"project": project.pk, "area": "bathroom", "category": "leak", "description": "Damp", "source": "staff"},
    )
    with tenant_context(firm_a):
        assert RepairRequest.objects.get().coverage == bathroom


def test_a_viewer_may_not_triage(client, firm_a, year_four_project):
    project, _general, _bathroom = year_four_project
    client.force_login(MembershipFactory(tenant=firm_a, role="designer").user)
    with tenant_context(firm_a):
        repair = open_repair(project, reported_at=None)
    response = client.post(reverse("aftercare:repair-triage", args=[repair.pk]), {"trade": "waterproofing"})
    assert response.status_code == 403
    with tenant_context(firm_a):
        repair.refresh_from_db()
        assert not repair.is_covered


# The API -------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_the_api_shows_the_decision_and_triages(api, firm_a, year_four_project):
    project, general, bathroom = year_four_project
    created = api.post(
        reverse("repair-request-list"),
        {"project": project.pk, "area": "bathroom", "description": "Tiles loose"},
        content_type="application/json",
    ).json()
    assert created["is_covered"] is False and created["category"] == ""
    assert created["coverage_reason"] == (
        f"Not covered: General works ended {general.ends_on.isoformat()}; "
        "Bathroom waterproofing applies only to a waterproofing trade or a leak"
    )

    url = reverse("repair-request-triage", args=[created["id"]])
    triaged = api.post(url, {"trade": "", "category": "leak"}, content_type="application/json")
    assert triaged.status_code == 200, triaged.content
    body = triaged.json()
    assert (body["is_covered"], body["coverage"], body["category"]) == (True, bathroom.pk, "leak")
    assert body["coverage_reason"] == f"Covered by Bathroom waterproofing until {bathroom.ends_on.isoformat()}"
    assert (
        api.get(reverse("repair-request-detail", args=[created["id"]])).json()["coverage_reason"]
        == (body["coverage_reason"])
    )

    bad = api.post(url, {"trade": "roofing"}, content_type="application/json")
    assert bad.status_code == 400 and "trade" in bad.json()["error"]["fields"]
    api.post(reverse("repair-request-cancel", args=[created["id"]]), {"reason": "x"}, content_type="application/json")
    closed = api.post(url, {"trade": "masonry"}, content_type="application/json")
    assert closed.status_code == 400 and "keeps its trade" in str(closed.json())
    with tenant_context(firm_a):
        assert RepairRequest.objects.get().trade == ""


def test_another_firms_repair_cannot_be_triaged(api, firm_b):
    with tenant_context(firm_b):
        theirs = RepairRequestFactory()
    response = api.post(
        reverse("repair-request-triage", args=[theirs.pk]), {"trade": "waterproofing"}, content_type="application/json"
    )
    assert response.status_code == 404
    with tenant_context(firm_b):
        theirs.refresh_from_db()
        assert theirs.trade == ""


# The homeowner's portal ----------------------------------------------------------------------------------------


def test_the_portal_shows_each_repairs_decision(firm_a):
    homeowner = Client(HTTP_ACCEPT_LANGUAGE="en")
    with tenant_context(firm_a):
        worksite = WorksiteFactory()
        start = firm_today() - timedelta(days=4 * 365)
        general, _kitchen, bathroom = policy_coverages(worksite.project, start=start)
        token = portal_link_token(portal_link_create(worksite=worksite))
    url = reverse("aftercare_portal:repairs", args=[token])
    for category in ("", "leak"):
        response = homeowner.post(
            url, {"name": "王芳", "area": "bathroom", "category": category, "description": f"Damp {category}"}
        )
        assert response.status_code == 302
    with tenant_context(firm_a):
        assert list(RepairRequest.objects.order_by("id").values_list("category", "is_covered")) == [
            ("", False),
            ("leak", True),
        ]
    html = homeowner.get(url, {"lang": "en"}).content.decode()
    assert f"Covered by Bathroom waterproofing until {bathroom.ends_on.isoformat()}" in html
    assert f"Not covered: General works ended {general.ends_on.isoformat()}" in html
