"""REST for aftercare: coverages and repair requests with their actions; another firm's ids are 404."""

from datetime import date

import pytest
from django.urls import reverse

from aftercare.models import Coverage, RepairPhoto, RepairRequest
from renocrm.tenancy.context import tenant_context
from tests.aftercare.conftest import not_a_photo, photo, staff
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.contracts.factories import ProjectFactory


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


@pytest.fixture
def project(firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
        CoverageFactory(project=project, name="General works", starts_on=date(2026, 1, 1), ends_on=date(2099, 1, 1))
    return project


def test_create_a_repair_as_json(api, project):
    response = api.post(
        reverse("repair-request-list"),
        {"project": project.pk, "area": "kitchen", "description": "Cabinet hinge broken"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source"], body["is_covered"], body["status"], body["customer"]) == (
        "api",
        True,
        "open",
        project.customer_id,
    )


def test_create_a_repair_with_photos_as_multipart(api, project, firm_a):
    response = api.post(
        reverse("repair-request-list"),
        {"project": project.pk, "area": "bathroom", "description": "Leak", "photos": [photo("a.jpg"), photo("b.jpg")]},
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["photos"]) == 2 and response.json()["photos"][0]["url"].startswith("/media/")
    refused = api.post(
        reverse("repair-request-list"),
        {"project": project.pk, "area": "bathroom", "description": "Leak", "photos": [photo(), not_a_photo("bad.jpg")]},
    )
    assert refused.status_code == 400 and "bad.jpg" in str(refused.json()["error"]["fields"]["photos"])
    with tenant_context(firm_a):
        assert RepairRequest.objects.count() == 1 and RepairPhoto.objects.count() == 2


def test_actions_move_the_repair_and_refuse_invalid_transitions(api, project, firm_a):
    with tenant_context(firm_a):
        agent = staff(firm_a)
    repair_id = api.post(
        reverse("repair-request-list"),
        {"project": project.pk, "area": "kitchen", "description": "Tap"},
        content_type="application/json",
    ).json()["id"]

    def act(name, data=None):
        return api.post(
            reverse(f"repair-request-{name}", args=[repair_id]), data or {}, content_type="application/json"
        )

    assert act("assign", {"agent": agent.pk}).json()["assigned_to"] == agent.pk
    assert act("respond", {"note": "Called"}).json()["status"] == "responded"
    visited = act("visit", {"kind": "visit", "note": "On site"}).json()
    assert visited["status"] == "on_site" and [v["kind"] for v in visited["visits"]][-1] == "visit"
    refused = act("resolve", {"resolution": "Fixed", "charge": "20.00"})
    assert refused.status_code == 400 and "charge" in refused.json()["error"]["fields"]
    assert act("resolve", {"resolution": "Fixed"}).json()["status"] == "resolved"
    assert act("cancel", {"reason": "x"}).status_code == 400
    assert act("confirm", {"satisfied": True}).json()["status"] == "confirmed"
    assert act("respond", {"note": "again"}).status_code == 400


def test_filters(api, project, firm_a):
    with tenant_context(firm_a):
        open_one = RepairRequestFactory(project=project)
        RepairRequestFactory(status=RepairRequest.Status.CANCELLED)
    rows = api.get(reverse("repair-request-list"), {"project": project.pk, "status": "open"}).json()["results"]
    assert [r["id"] for r in rows] == [open_one.pk]
    coverages = api.get(reverse("coverage-list"), {"expiring_before": "2099-12-31", "project": project.pk}).json()
    assert [c["name"] for c in coverages["results"]] == ["General works"]
    assert api.get(reverse("coverage-list"), {"expiring_before": "2030-01-01"}).json()["results"] == []


def test_staff_create_and_update_a_coverage(api, project, firm_a):
    created = api.post(
        reverse("coverage-list"),
        {
            "project": project.pk,
            "name": "Boiler",
            "area": "kitchen",
            "starts_on": "2027-01-31",
            "ends_on": "2030-01-31",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] in ("active", "not_started")
    pk = created.json()["id"]
    patched = api.patch(
        reverse("coverage-detail", args=[pk]), {"ends_on": "2031-01-31"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["ends_on"] == "2031-01-31"
    bad = api.patch(reverse("coverage-detail", args=[pk]), {"ends_on": "2020-01-01"}, content_type="application/json")
    assert bad.status_code == 400 and "ends_on" in bad.json()["error"]["fields"]
    with tenant_context(firm_a):
        assert Coverage.objects.get(pk=pk).ends_on == date(2031, 1, 31)


def test_another_firms_repair_and_project_are_not_found(api, firm_b):
    with tenant_context(firm_b):
        theirs = RepairRequestFactory()
        their_project = ProjectFactory()
    assert api.get(reverse("repair-request-detail", args=[theirs.pk])).status_code == 404
    assert (
        api.post(
            reverse("repair-request-respond", args=[theirs.pk]), {"note": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    refused = api.post(
        reverse("repair-request-list"),
        {"project": their_project.pk, "area": "kitchen", "description": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "project" in refused.json()["error"]["fields"]
