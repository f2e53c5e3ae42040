"""The homeowner's Repairs tab: reporting a repair with photos from the phone, the warranty card, confirming a
resolved repair; every action on the link's own project only, and a tampered link sees nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from aftercare.models import RepairPhoto, RepairRequest
from aftercare.services import repairs as repair_services
from renocrm.tenancy.context import tenant_context
from tests.aftercare.conftest import not_a_photo, photo
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.worksites.factories import WorksiteFactory
from worksites.models import PortalAction
from worksites.services.portal import portal_link_create, portal_link_token

IP = "203.0.113.7"


@pytest.fixture
def homeowner():
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = WorksiteFactory(contract__project__name="锦绣路12号")
        CoverageFactory(project=worksite.project, name="General works", area="whole_home")
        link = portal_link_create(worksite=worksite)
        token = portal_link_token(link)
    return worksite, link, token


def url(token, name="repairs"):
    return reverse(f"aftercare_portal:{name}", args=[token])


def test_the_repairs_tab_shows_the_warranty_card_and_the_form(homeowner, site):
    worksite, link, token = site
    page = homeowner.get(url(token), {"lang": "en"})
    html = page.content.decode()
    assert page.status_code == 200 and "General works" in html
    assert 'accept="image/*" capture="environment" multiple' in html
    assert (
        reverse("aftercare_portal:repairs", args=[token])
        in homeowner.get(reverse("portal:home", args=[token])).content.decode()
    )


def test_a_homeowner_reports_a_repair_with_a_photo(homeowner, site, firm_a):
    worksite, link, token = site
    response = homeowner.post(
        url(token),
        {"name": "王芳", "area": "bathroom", "trade": "", "description": "Water under the basin", "photos": [photo()]},
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        repair = RepairRequest.objects.get()
        assert (repair.project_id, repair.source, repair.is_covered) == (worksite.project_id, "portal", True)
        assert RepairPhoto.objects.filter(repair=repair).count() == 1
        assert "王芳" in repair.visits.get().note
        action = PortalAction.objects.get(action=PortalAction.Action.REPAIR_REQUESTED)
        assert (action.link_id, action.object_id, action.ip_address) == (link.pk, repair.pk, IP)
    page = homeowner.get(response.url)
    assert "Water under the basin" in page.content.decode() and "/media/" in page.content.decode()


def test_a_bad_photo_refuses_the_report_on_the_form(homeowner, site, firm_a):
    worksite, link, token = site
    response = homeowner.post(
        url(token), {"name": "王芳", "area": "bathroom", "description": "Leak", "photos": [not_a_photo("x.jpg")]}
    )
    assert response.status_code == 400 and "x.jpg" in response.content.decode()
    missing = homeowner.post(url(token), {"name": "", "area": "bathroom", "description": ""})
    assert set(missing.context["form"].errors) == {"name", "description"}
    with tenant_context(firm_a):
        assert not RepairRequest.objects.exists() and not PortalAction.objects.filter(action="repair_requested")


def test_the_homeowner_confirms_a_resolved_repair(homeowner, site, firm_a):
    worksite, link, token = site
    with tenant_context(firm_a):
        repair = repair_services.repair_request_open(project=worksite.project, area="kitchen", description="Tap")
        repair_services.repair_request_resolve(repair=repair, resolution="New washer")
    page = homeowner.get(url(token))
    assert f'data-testid="portal-confirm-{repair.pk}"' in page.content.decode()
    homeowner.post(
        url(token, "repair-confirm"), {"object": repair.pk, "name": "王芳", "satisfied": "no", "comment": "Still drips"}
    )
    with tenant_context(firm_a):
        repair.refresh_from_db()
        assert repair.status == RepairRequest.Status.OPEN and repair.homeowner_comment == "Still drips"
        repair_services.repair_request_resolve(repair=repair, resolution="New tap")
    homeowner.post(url(token, "repair-confirm"), {"object": repair.pk, "name": "王芳", "satisfied": "yes"})
    with tenant_context(firm_a):
        assert RepairRequest.objects.get(pk=repair.pk).status == RepairRequest.Status.CONFIRMED
        assert PortalAction.objects.filter(action=PortalAction.Action.REPAIR_CONFIRMED).count() == 2


def test_another_projects_repair_is_404(homeowner, site, firm_a):
    worksite, link, token = site
    with tenant_context(firm_a):
        elsewhere = RepairRequestFactory(status=RepairRequest.Status.RESOLVED)
    response = homeowner.post(url(token, "repair-confirm"), {"object": elsewhere.pk, "name": "x", "satisfied": "yes"})
    assert response.status_code == 404
    with tenant_context(firm_a):
        assert RepairRequest.objects.get(pk=elsewhere.pk).status == RepairRequest.Status.RESOLVED


def test_a_tampered_token_is_404_and_shows_nothing(homeowner, site, firm_a):
    worksite, link, token = site
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    page = homeowner.get(url(tampered))
    assert page.status_code == 404 and "General works" not in page.content.decode()
    response = homeowner.post(url(tampered), {"name": "x", "area": "kitchen", "description": "Leak"})
    assert response.status_code == 404
    with tenant_context(firm_a):
        assert not RepairRequest.objects.exists()
