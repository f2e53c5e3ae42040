"""The complaints API: list with filters, take a complaint in, the handling actions, errors."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.urls import reverse

from complaints.models import Complaint
from renocrm.tenancy.context import tenant_context
from tests.complaints.factories import ComplaintFactory
from tests.complaints.test_services import open_complaint
from tests.contracts.factories import ProjectFactory

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_create_takes_the_complaint_in_through_the_api_channel(api, firm_a, team):
    with time_machine.travel(T0, tick=False):
        response = api.post(
            reverse("complaint-list"),
            {
                "customer": team.customer.pk,
                "project": team.project.pk,
                "category": "materials",
                "trade": "main_materials",
                "description": "Wrong floor colour delivered",
                "responsible": team.pm.pk,
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["channel"], data["level"], data["status"], data["owner"]) == ("api", 1, "open", team.agent.pk)
    assert datetime.fromisoformat(data["respond_by"]) == T0 + timedelta(hours=4)
    assert data["sla_state"] == "on_time"
    assert [e["kind"] for e in data["entries"]] == ["opened"]


def test_create_refuses_with_field_errors(api, firm_a, firm_b, team):
    with tenant_context(firm_b):
        foreign = ProjectFactory()
    with tenant_context(firm_a):
        other = ProjectFactory()
    url = reverse("complaint-list")
    response = api.post(
        url,
        {"customer": team.customer.pk, "project": foreign.pk, "category": "price", "description": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "project" in str(response.json())
    response = api.post(
        url,
        {"customer": team.customer.pk, "project": other.pk, "category": "price", "description": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "This project belongs to another customer." in str(response.json())
    with tenant_context(firm_a):
        assert not Complaint.objects.exists()


def test_list_filters(api, firm_a, team):
    with tenant_context(firm_a):
        price = ComplaintFactory(category="price", level=2)
        ComplaintFactory(category="quality", status=Complaint.Status.CLOSED)
        mine = ComplaintFactory(project=team.project, customer=team.customer)
    url = reverse("complaint-list")
    assert [c["id"] for c in api.get(url, {"category": "price"}).json()["results"]] == [price.pk]
    assert [c["id"] for c in api.get(url, {"level": 2}).json()["results"]] == [price.pk]
    assert [c["id"] for c in api.get(url, {"project": team.project.pk}).json()["results"]] == [mine.pk]
    assert [c["id"] for c in api.get(url, {"customer": team.customer.pk}).json()["results"]] == [mine.pk]
    assert len(api.get(url, {"status": "closed"}).json()["results"]) == 1


def test_actions_walk_the_complaint_through_and_refusals_are_400(api, firm_a, team):
    with tenant_context(firm_a):
        complaint = open_complaint(team)

    def post(action, data=None):
        return api.post(
            reverse(f"complaint-{action}", args=[complaint.pk]), data or {}, content_type="application/json"
        )

    refused = post("report")
    assert refused.status_code == 400
    assert "Only a resolved complaint can be reported to the customer." in str(refused.json())
    assert post("note", {}).status_code == 400
    assert post("escalate", {}).status_code == 400

    assert post("respond", {"text": "Called"}).json()["status"] == "in_progress"
    assert post("note", {"text": "Visit on Friday"}).status_code == 200
    escalated = post("escalate", {"reason": "Customer insists"}).json()
    # Escalating moves who answers for it up; the response given and the status it reached stand.
    assert (escalated["level"], escalated["owner"], escalated["status"]) == (2, team.head.pk, "in_progress")
    assert escalated["responded_at"] is not None and escalated["sla_state"] != "stopped"
    resolved = post("resolve", {"resolution": "New tiles", "root_cause": "material_defect"}).json()
    assert resolved["status"] == "resolved" and resolved["sla_state"] == "stopped"
    assert post("report", {"text": "Phoned"}).json()["reported_at"] is not None
    reopened = post("verdict", {"verdict": "not_satisfied", "comment": "Still cracked"}).json()
    assert (reopened["status"], reopened["cycle"], reopened["level"]) == ("open", 2, 2)
    kinds = [e["kind"] for e in reopened["entries"]]
    assert kinds == ["opened", "responded", "note", "escalated", "resolved", "reported", "verdict", "reopened"]


def test_sla_state_in_the_list(api, firm_a):
    with tenant_context(firm_a):
        late = ComplaintFactory(opened_at=T0 - timedelta(hours=5))
    with time_machine.travel(T0, tick=False):
        row = api.get(reverse("complaint-detail", args=[late.pk])).json()
    assert row["sla_state"] == "overdue"
