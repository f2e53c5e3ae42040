from datetime import date

import pytest

from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_services import signed_contract
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.worksites.factories import PhaseFactory
from worksites.models import Phase, PhaseKind, PhaseTemplate, TechnicalHandover, Worksite
from worksites.services import schedule as services


@pytest.fixture
def worksite(firm_a):
    """A signed contract's worksite with the default schedule, planned from 1 December 2026."""
    with tenant_context(firm_a):
        return services.worksite_open(contract=signed_contract())


@pytest.fixture
def foreign_phase(firm_b):
    with tenant_context(firm_b):
        return PhaseFactory(requires_acceptance=True, status=Phase.Status.DONE)


def post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", **headers)


def phase_of(worksite, kind):
    with tenant_context(worksite.tenant):
        return worksite.phases.get(kind=kind)


def test_worksite_list_shows_the_customer_and_current_phase(api, worksite, firm_a):
    response = api.get("/api/v1/worksites/")
    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["id"] == worksite.pk and row["contract"] == worksite.contract_id
    with tenant_context(firm_a):
        assert row["customer_name"] == worksite.project.customer.name
    assert (row["current_phase_kind"], row["current_phase_planned_end"]) == ("technical_handover", "2026-12-01")
    assert "phases" not in row
    assert api.get("/api/v1/worksites/", {"status": "in_progress"}).json()["results"] == []


def test_worksite_detail_nests_the_schedule_in_order(api, worksite):
    body = api.get(f"/api/v1/worksites/{worksite.pk}/").json()
    assert [p["kind"] for p in body["phases"]] == [kind for kind, _, _ in services.DEFAULT_TEMPLATE]
    assert body["phases"][1]["planned_end"] == "2026-12-06"


def test_phase_list_filters(api, worksite, firm_a):
    with tenant_context(firm_a):
        elsewhere = PhaseFactory(planned_start=date(2027, 6, 1), planned_end=date(2027, 6, 5))
    listed = api.get("/api/v1/phases/", {"worksite": worksite.pk, "kind": "masonry"}).json()["results"]
    assert [p["kind"] for p in listed] == ["masonry"]
    early = api.get("/api/v1/phases/", {"worksite": worksite.pk, "planned_end__lte": "2026-12-06"})
    assert {p["kind"] for p in early.json()["results"]} == {"technical_handover", "demolition"}
    late = api.get("/api/v1/phases/", {"planned_end__gte": "2027-06-01"}).json()["results"]
    assert [p["id"] for p in late] == [elsewhere.pk]
    assert api.get("/api/v1/phases/", {"status": "done"}).json()["results"] == []


def test_starting_completing_and_accepting_a_phase(staff_client, worksite, firm_a):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages are translated
    phase = phase_of(worksite, PhaseKind.WATERPROOFING_TEST)
    url = f"/api/v1/phases/{phase.pk}"
    refused = post(staff_client, f"{url}/accept/", {"name": "王芳"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "finished" in refused.json()["error"]["fields"]["non_field_errors"][0]

    started = post(staff_client, f"{url}/start/", {"on": "2027-01-03"})
    assert started.status_code == 200, started.content
    assert (started.json()["status"], started.json()["actual_start"]) == ("in_progress", "2027-01-03")
    assert staff_client.get(f"/api/v1/worksites/{worksite.pk}/").json()["status"] == "in_progress"

    done = post(staff_client, f"{url}/complete/", {"on": "2027-01-05", "notes": "48 h test, no leaks"})
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["actual_end"], done.json()["notes"]) == (
        "done",
        "2027-01-05",
        "48 h test, no leaks",
    )
    with tenant_context(firm_a):
        event = OutboxEvent.objects.get(event_type="worksite.phase_completed")
    assert event.payload["phase_id"] == phase.pk and event.payload["awaiting_acceptance"] is True

    accepted = post(staff_client, f"{url}/accept/", {"name": "王芳"})
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["accepted_name"]) == ("accepted", "王芳")


def test_a_phase_cannot_finish_before_it_started(api, worksite, firm_a):
    phase = phase_of(worksite, PhaseKind.DEMOLITION)
    url = f"/api/v1/phases/{phase.pk}"
    assert post(api, f"{url}/start/", {"on": "2026-12-03"}).status_code == 200
    refused = post(api, f"{url}/complete/", {"on": "2026-12-02"})
    assert refused.status_code == 400
    assert "on" in refused.json()["error"]["fields"]
    assert post(api, f"{url}/start/", {}).status_code == 400  # already started
    with tenant_context(firm_a):
        phase.refresh_from_db()
        assert (phase.status, phase.actual_end) == ("in_progress", None)
        assert not OutboxEvent.objects.filter(event_type="worksite.phase_completed").exists()


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("start", {"on": "not-a-date"}, "on"),
        ("complete", {"on": "2026-13-01"}, "on"),
        ("accept", {"name": "  "}, "name"),
        ("reschedule", {"planned_start": "2026-12-01"}, "planned_end"),
    ],
)
def test_wrong_types_are_field_errors(api, worksite, action, body, field):
    phase = phase_of(worksite, PhaseKind.TECHNICAL_HANDOVER)
    response = post(api, f"/api/v1/phases/{phase.pk}/{action}/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_reschedule(api, worksite, firm_a):
    phase = phase_of(worksite, PhaseKind.MASONRY)
    url = f"/api/v1/phases/{phase.pk}/reschedule/"
    refused = post(api, url, {"planned_start": "2027-01-10", "planned_end": "2027-01-09"})
    assert refused.status_code == 400
    assert "planned_end" in refused.json()["error"]["fields"]
    moved = post(api, url, {"planned_start": "2027-01-10", "planned_end": "2027-01-30"})
    assert moved.status_code == 200, moved.content
    assert (moved.json()["planned_start"], moved.json()["planned_end"]) == ("2027-01-10", "2027-01-30")


def test_assign_crew_takes_members_of_this_firm_only(staff_client, worksite, firm_a, firm_b):
    foreman = MembershipFactory(tenant=firm_a, role="project_manager").user
    qc = MembershipFactory(tenant=firm_a, role="qc").user
    agent = MembershipFactory(tenant=firm_a, role="customer_service").user
    outsider = MembershipFactory(tenant=firm_b, role="project_manager").user
    url = f"/api/v1/worksites/{worksite.pk}/assign-crew/"
    crew = {"designer": None, "project_manager": foreman.pk, "qc_inspector": qc.pk, "customer_service": agent.pk}

    refused = post(staff_client, url, {**crew, "project_manager": outsider.pk})
    assert refused.status_code == 400
    assert "project_manager" in refused.json()["error"]["fields"]
    wrong_role = post(staff_client, url, {**crew, "qc_inspector": foreman.pk})
    assert wrong_role.status_code == 400
    assert "qc_inspector" in wrong_role.json()["error"]["fields"]
    not_an_agent = post(staff_client, url, {**crew, "customer_service": foreman.pk})
    assert not_an_agent.status_code == 400
    assert "customer_service" in not_an_agent.json()["error"]["fields"]
    with tenant_context(firm_a):
        assert Worksite.objects.get(pk=worksite.pk).project_manager_id is None

    assigned = post(staff_client, url, crew)
    assert assigned.status_code == 200, assigned.content
    body = assigned.json()
    assert (body["designer"], body["project_manager"], body["qc_inspector"]) == (None, foreman.pk, qc.pk)
    assert body["customer_service"] == agent.pk
    assert len(body["phases"]) == len(services.DEFAULT_TEMPLATE)


def test_phase_template_defaults_then_replace(api, firm_a):
    listed = api.get("/api/v1/phase-templates/").json()["results"]
    assert [row["kind"] for row in listed] == [kind for kind, _, _ in services.DEFAULT_TEMPLATE]

    url = "/api/v1/phase-templates/replace/"
    rows = [
        {"kind": "demolition", "name": "拆改", "duration_days": 3},
        {"kind": "carpentry", "name": "木工", "duration_days": 20, "requires_acceptance": True},
    ]
    too_long = post(api, url, {"phases": [{**rows[0], "duration_days": 400}]})
    assert too_long.status_code == 400
    assert post(api, url, {"phases": []}).status_code == 400
    replaced = post(api, url, {"phases": rows})
    assert replaced.status_code == 200, replaced.content
    assert [(row["position"], row["name"]) for row in replaced.json()] == [(1, "拆改"), (2, "木工")]
    listed = api.get("/api/v1/phase-templates/").json()["results"]
    assert [(row["name"], row["duration_days"], row["requires_acceptance"]) for row in listed] == [
        ("拆改", 3, False),
        ("木工", 20, True),
    ]


def test_technical_handover_is_recorded_once(staff_client, worksite, firm_a):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = {
        "worksite": worksite.pk,
        "held_on": "2026-12-01",
        "foreman_present": False,
        "other_attendees": "物业 Li",
        "existing_facilities": "墙面空鼓两处",
        "drawings_given": True,
    }
    created = post(staff_client, "/api/v1/technical-handovers/", body)
    assert created.status_code == 201, created.content
    assert created.json()["recorded_by"] == staff_client.membership.user.pk
    assert created.json()["foreman_present"] is False and created.json()["homeowner_present"] is True
    again = post(staff_client, "/api/v1/technical-handovers/", body, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400
    assert "already recorded" in again.json()["error"]["fields"]["non_field_errors"][0]
    with tenant_context(firm_a):
        assert TechnicalHandover.objects.count() == 1


def test_technical_handover_of_another_firms_worksite_is_refused(api, firm_b):
    with tenant_context(firm_b):
        foreign = services.worksite_open(contract=signed_contract())
    body = {"worksite": foreign.pk, "held_on": "2026-12-01", "existing_facilities": "x"}
    response = post(api, "/api/v1/technical-handovers/", body)
    assert response.status_code == 400
    assert "worksite" in response.json()["error"]["fields"]
    with tenant_context(firm_b):
        assert not TechnicalHandover.objects.exists()


def test_another_firms_worksite_and_phase_are_404_and_stay_unchanged(api, foreign_phase, firm_b):
    assert api.get(f"/api/v1/worksites/{foreign_phase.worksite_id}/").status_code == 404
    assert api.get(f"/api/v1/phases/{foreign_phase.pk}/").status_code == 404
    for action, body in [
        ("start", {}),
        ("complete", {}),
        ("accept", {"name": "王芳"}),
        ("reschedule", {"planned_start": "2027-01-01", "planned_end": "2027-01-02"}),
    ]:
        assert post(api, f"/api/v1/phases/{foreign_phase.pk}/{action}/", body).status_code == 404
    crew = {"designer": None, "project_manager": None, "qc_inspector": None, "customer_service": None}
    url = f"/api/v1/worksites/{foreign_phase.worksite_id}/assign-crew/"
    assert post(api, url, crew).status_code == 404
    with tenant_context(firm_b):
        phase = Phase.objects.get(pk=foreign_phase.pk)
        assert (phase.status, phase.accepted_name, phase.planned_start) == (
            "done",
            "",
            foreign_phase.planned_start,
        )


def test_a_key_without_worksites_write_reads_but_cannot_act(client, worksite, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["worksites:read"])
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key.raw_key}"
    phase = phase_of(worksite, PhaseKind.DEMOLITION)
    assert client.get("/api/v1/phases/").status_code == 200
    assert post(client, f"/api/v1/phases/{phase.pk}/start/", {}).status_code == 403
    template = {"phases": [{"kind": "other", "name": "x", "duration_days": 1}]}
    assert post(client, "/api/v1/phase-templates/replace/", template).status_code == 403
    crew = {"designer": None, "project_manager": None, "qc_inspector": None, "customer_service": None}
    assert post(client, f"/api/v1/worksites/{worksite.pk}/assign-crew/", crew).status_code == 403
    with tenant_context(firm_a):
        assert Phase.objects.get(pk=phase.pk).status == "planned"
        assert not PhaseTemplate.objects.filter(name="x").exists()


def test_a_sales_user_reads_but_cannot_start_a_phase(client, worksite, firm_a):
    sales = MembershipFactory(tenant=firm_a, role="sales")
    client.force_login(sales.user)
    phase = phase_of(worksite, PhaseKind.DEMOLITION)
    assert client.get(f"/api/v1/phases/{phase.pk}/").status_code == 200
    assert post(client, f"/api/v1/phases/{phase.pk}/start/").status_code == 403


@pytest.mark.parametrize("size", [1, 6])
def test_worksite_list_query_count_does_not_grow(staff_client, firm_a, django_assert_max_num_queries, size):
    with tenant_context(firm_a):
        for n in range(size):
            services.worksite_open(contract=signed_contract(number=f"HT-{n}"))
    with django_assert_max_num_queries(10):
        response = staff_client.get("/api/v1/worksites/")
    assert [row["current_phase_kind"] for row in response.json()["results"]] == ["technical_handover"] * size
