from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.test_services import signed_contract
from tests.factories import ApiKeyFactory, MembershipFactory
from worksites.models import Inspection, MaterialArrival, Signoff, SiteProblem
from worksites.services import inspections as services
from worksites.services import schedule

SOLUTIONS = [
    {"description": "Build the wardrobe around the pillar"},
    {"description": "Move the wardrobe to the north wall", "cost_change": "1200.50", "extra_days": 3},
]


def member(firm, role):
    membership = MembershipFactory(tenant=firm, role=role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)
    client.user = membership.user
    return client


@pytest.fixture
def qc(firm_a):
    return member(firm_a, "qc")


@pytest.fixture
def foreman(firm_a):
    return member(firm_a, "project_manager")


@pytest.fixture
def worksite(firm_a):
    with tenant_context(firm_a):
        return schedule.worksite_open(contract=signed_contract())


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def fields(response):
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def png():
    out = BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, format="PNG")
    return SimpleUploadedFile("diagram.png", out.getvalue(), content_type="image/png")


def test_a_concealed_works_inspection_from_booking_to_pass(qc, foreman, worksite, firm_a):
    created = post(qc, "/api/v1/inspections/", {"worksite": worksite.pk, "kind": "concealed_works"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["required_signoffs"] == ["homeowner", "qc_inspector", "site_manager"]
    assert (body["result"], body["signoffs"], body["created_by"]) == ("pending", [], qc.user.pk)
    url = f"/api/v1/inspections/{body['id']}"

    signed = post(qc, f"{url}/sign/", {"role": "qc_inspector", "note": "Checked every run"})
    assert signed.status_code == 200, signed.content
    [signoff] = signed.json()["signoffs"]
    assert (signoff["role"], signoff["signed_by"], signoff["via_portal"], signoff["note"]) == (
        "qc_inspector",
        qc.user.pk,
        False,
        "Checked every run",
    )
    assert signed.json()["missing_signoffs"] == ["homeowner", "site_manager"]
    twice = fields(post(qc, f"{url}/sign/", {"role": "qc_inspector"}))
    assert "already signed" in twice["role"][0]

    missing = fields(post(qc, f"{url}/result/", {"passed": True}))
    assert "Homeowner" in missing["non_field_errors"][0] and "Site manager" in missing["non_field_errors"][0]
    assert post(foreman, f"{url}/sign/", {"role": "site_manager"}).status_code == 200
    refused = fields(post(foreman, f"{url}/sign/", {"role": "homeowner", "signed_name": "王芳"}))
    assert "Staff cannot sign for the homeowner" in refused["paper_photo"][0]
    on_paper = foreman.post(f"{url}/sign/", {"role": "homeowner", "signed_name": "王芳", "paper_photo": png()})
    assert on_paper.status_code == 200, on_paper.content
    [homeowner] = [s for s in on_paper.json()["signoffs"] if s["role"] == "homeowner"]
    assert (homeowner["signed_by"], homeowner["on_paper"]) == (foreman.user.pk, True)
    assert "circuit_diagram" in fields(post(qc, f"{url}/result/", {"passed": True}))

    uploaded = qc.post(f"{url}/circuit-diagram/", {"file": png()})
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["circuit_diagram_url"].startswith("http://testserver/media/")
    assert qc.get(uploaded.json()["circuit_diagram_url"]).status_code == 200

    passed = post(qc, f"{url}/result/", {"passed": True, "findings": "Conduits fine"})
    assert passed.status_code == 200, passed.content
    assert (passed.json()["result"], passed.json()["decided_by"], passed.json()["missing_signoffs"]) == (
        "passed",
        qc.user.pk,
        [],
    )
    with tenant_context(firm_a):
        [event] = OutboxEvent.objects.filter(event_type="inspection.passed")
    assert (event.payload["inspection_id"], event.payload["findings"]) == (body["id"], "Conduits fine")
    decided = fields(post(qc, f"{url}/sign/", {"role": "homeowner", "signed_name": "王芳"}))
    assert "already decided" in decided["non_field_errors"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "final_walkthrough"}, "kind"),
        ({"kind": "concealed_works", "scheduled_on": "2026-13-01"}, "scheduled_on"),
        ({}, "kind"),
    ],
)
def test_scheduling_with_bad_input_is_a_field_error(qc, worksite, body, field):
    assert field in fields(post(qc, "/api/v1/inspections/", {"worksite": worksite.pk, **body}))


def test_bad_input_on_the_actions(qc, worksite, firm_a, firm_b):
    with tenant_context(firm_b):
        foreign = schedule.worksite_open(contract=signed_contract())
        foreign_phase = foreign.phases.first()
    assert "worksite" in fields(post(qc, "/api/v1/inspections/", {"worksite": foreign.pk, "kind": "mid_term"}))
    phase_elsewhere = {"worksite": worksite.pk, "kind": "mid_term", "phase": foreign_phase.pk}
    assert "phase" in fields(post(qc, "/api/v1/inspections/", phase_elsewhere))
    with tenant_context(firm_a):
        inspection = services.inspection_schedule(worksite=worksite, kind="concealed_works", created_by=None)
    url = f"/api/v1/inspections/{inspection.pk}"
    assert "role" in fields(post(qc, f"{url}/sign/", {"role": "boss"}))
    assert "Homeowner, QC inspector, Site manager" in fields(post(qc, f"{url}/sign/", {"role": "designer"}))["role"][0]
    assert "passed" in fields(post(qc, f"{url}/result/", {"findings": "x"}))
    assert "findings" in fields(post(qc, f"{url}/result/", {"passed": False}))
    assert "file" in fields(qc.post(f"{url}/circuit-diagram/", {}))
    text = SimpleUploadedFile("diagram.png", b"just text", content_type="image/png")
    assert "circuit_diagram" in fields(qc.post(f"{url}/circuit-diagram/", {"file": text}))
    with tenant_context(firm_a):
        assert not Signoff.objects.exists()
        assert Inspection.objects.get(pk=inspection.pk).result == "pending"


def test_a_partner_key_cannot_sign_for_anyone(api, worksite, firm_a):
    with tenant_context(firm_a):
        inspection = services.inspection_schedule(worksite=worksite, kind="mid_term", created_by=None)
    refused = fields(
        post(api, f"/api/v1/inspections/{inspection.pk}/sign/", {"role": "homeowner", "signed_name": "王芳"})
    )
    assert "portal" in refused["non_field_errors"][0]


def test_material_arrival_is_accepted_with_both_signatures_or_rejected_with_a_reason(qc, foreman, worksite, firm_a):
    with tenant_context(firm_a):
        today = firm_today().isoformat()
    delivery = {
        "worksite": worksite.pk,
        "material": "Floor tiles",
        "quantity": "42.5",
        "unit": "m²",
        "arrived_on": today,
    }
    assert "quantity" in fields(post(foreman, "/api/v1/material-arrivals/", {**delivery, "quantity": "0"}))
    created = post(foreman, "/api/v1/material-arrivals/", delivery)
    assert created.status_code == 201, created.content
    assert (created.json()["status"], created.json()["recorded_by"]) == ("awaiting", foreman.user.pk)
    url = f"/api/v1/material-arrivals/{created.json()['id']}"
    assert "role" in fields(post(foreman, f"{url}/sign/", {"role": "site_manager"}))
    assert "role" in fields(post(foreman, f"{url}/sign/", {"role": "qc_inspector"}))
    after_qc = post(qc, f"{url}/sign/", {"role": "qc_inspector"})
    assert after_qc.json()["status"] == "awaiting"
    assert "paper_photo" in fields(post(foreman, f"{url}/sign/", {"role": "homeowner", "signed_name": "王芳"}))
    accepted = foreman.post(f"{url}/sign/", {"role": "homeowner", "signed_name": "王芳", "paper_photo": png()})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["accepted_at"]
    assert [s["role"] for s in accepted.json()["signoffs"]] == ["qc_inspector", "homeowner"]
    assert "already" in fields(post(qc, f"{url}/reject/", {"reason": "late"}))["non_field_errors"][0]

    other = post(foreman, "/api/v1/material-arrivals/", {**delivery, "material": "Wall paint"}).json()
    other_url = f"/api/v1/material-arrivals/{other['id']}"
    assert "reason" in fields(post(foreman, f"{other_url}/reject/", {"reason": " "}))
    assert "reason" in fields(post(foreman, f"{other_url}/reject/", {}))
    rejected = post(foreman, f"{other_url}/reject/", {"reason": "Wrong colour", "signed_name": "王芳"})
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["status"] == "rejected" and "王芳: Wrong colour" in rejected.json()["notes"]
    listed = foreman.get("/api/v1/material-arrivals/", {"status": "rejected"}).json()["results"]
    assert [row["id"] for row in listed] == [other["id"]]


def test_site_patrols_are_recorded_by_the_person_in_their_role(qc, api, worksite, firm_a):
    with tenant_context(firm_a):
        today = firm_today().isoformat()
    patrol = {"worksite": worksite.pk, "role": "qc_inspector", "patrolled_on": today, "findings": "Bags uncovered"}
    assert "role" in fields(post(qc, "/api/v1/site-patrols/", {**patrol, "role": "foreman"}))
    assert "role" in fields(post(qc, "/api/v1/site-patrols/", {**patrol, "role": "janitor"}))
    assert "non_field_errors" in fields(post(api, "/api/v1/site-patrols/", patrol))
    created = post(qc, "/api/v1/site-patrols/", {**patrol, "issues_found": True})
    assert created.status_code == 201, created.content
    assert (created.json()["patrolled_by"], created.json()["issues_found"]) == (qc.user.pk, True)
    assert [r["id"] for r in api.get("/api/v1/site-patrols/", {"worksite": worksite.pk}).json()["results"]] == [
        created.json()["id"]
    ]
    assert api.get("/api/v1/site-patrols/", {"role": "designer"}).json()["results"] == []


def test_site_problem_with_solutions_the_homeowners_choice_and_resolution(foreman, worksite, firm_a):
    problem = {"worksite": worksite.pk, "title": "Pillar where the wardrobe goes"}
    assert "solutions" in fields(post(foreman, "/api/v1/site-problems/", {**problem, "solutions": SOLUTIONS[:1]}))
    assert "solutions" in fields(post(foreman, "/api/v1/site-problems/", problem))
    bad_cost = [SOLUTIONS[0], {**SOLUTIONS[1], "cost_change": "a lot"}]
    assert "solutions" in fields(post(foreman, "/api/v1/site-problems/", {**problem, "solutions": bad_cost}))
    created = post(foreman, "/api/v1/site-problems/", {**problem, "solutions": SOLUTIONS})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["raised_by"]) == ("awaiting_choice", foreman.user.pk)
    assert [(s["position"], s["cost_change"], s["extra_days"]) for s in body["solutions"]] == [
        (1, "0.00", 0),
        (2, "1200.50", 3),
    ]
    other = post(foreman, "/api/v1/site-problems/", {**problem, "title": "Low beam", "solutions": SOLUTIONS}).json()
    url = f"/api/v1/site-problems/{body['id']}"
    assert "non_field_errors" in fields(post(foreman, f"{url}/resolve/"))
    foreign_choice = {"solution": other["solutions"][0]["id"], "chosen_name": "王芳"}
    assert "solution" in fields(post(foreman, f"{url}/choose/", foreign_choice))
    assert "chosen_name" in fields(post(foreman, f"{url}/choose/", {"solution": body["solutions"][1]["id"]}))
    chosen = post(foreman, f"{url}/choose/", {"solution": body["solutions"][1]["id"], "chosen_name": "王芳"})
    assert chosen.status_code == 200, chosen.content
    assert (chosen.json()["status"], chosen.json()["chosen_solution"], chosen.json()["chosen_via_portal"]) == (
        "chosen",
        body["solutions"][1]["id"],
        False,
    )
    again = post(foreman, f"{url}/choose/", {"solution": body["solutions"][0]["id"], "chosen_name": "王芳"})
    assert "already" in fields(again)["non_field_errors"][0]
    resolved = post(foreman, f"{url}/resolve/")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    awaiting = foreman.get("/api/v1/site-problems/", {"status": "awaiting_choice"}).json()["results"]
    assert [row["id"] for row in awaiting] == [other["id"]]


def test_inspection_filters(qc, worksite, firm_a):
    with tenant_context(firm_a):
        failed = services.inspection_schedule(worksite=worksite, kind="waterproofing_test", created_by=None)
        services.inspection_record_result(inspection=failed, passed=False, findings="Leak", decided_by=None)
        pending = services.inspection_schedule(worksite=worksite, kind="mid_term", created_by=None)
        elsewhere = schedule.worksite_open(contract=signed_contract(number="HT-2"))
        services.inspection_schedule(worksite=elsewhere, kind="mid_term", created_by=None)

    def ids(**params):
        return [row["id"] for row in qc.get("/api/v1/inspections/", params).json()["results"]]

    assert ids(result="failed") == [failed.pk]
    assert ids(worksite=worksite.pk, kind="mid_term") == [pending.pk]
    assert len(ids(kind="mid_term")) == 2
    assert qc.get("/api/v1/inspections/", {"result": "great"}).status_code == 400


def test_another_firms_records_are_404_on_every_action(api, firm_b):
    with tenant_context(firm_b):
        foreign = schedule.worksite_open(contract=signed_contract())
        inspection = services.inspection_schedule(worksite=foreign, kind="mid_term", created_by=None)
        arrival = services.material_arrival_record(
            worksite=foreign, material="Tiles", quantity=1, unit="m²", arrived_on=firm_today(), recorded_by=None
        )
        problem = services.site_problem_raise(worksite=foreign, title="Pillar", raised_by=None, solutions=SOLUTIONS)
    for url, body in [
        (f"/api/v1/inspections/{inspection.pk}/sign/", {"role": "homeowner", "signed_name": "x"}),
        (f"/api/v1/inspections/{inspection.pk}/result/", {"passed": False, "findings": "x"}),
        (f"/api/v1/material-arrivals/{arrival.pk}/sign/", {"role": "homeowner", "signed_name": "x"}),
        (f"/api/v1/material-arrivals/{arrival.pk}/reject/", {"reason": "x"}),
        (f"/api/v1/site-problems/{problem.pk}/choose/", {"solution": 1, "chosen_name": "x"}),
        (f"/api/v1/site-problems/{problem.pk}/resolve/", {}),
    ]:
        assert post(api, url, body).status_code == 404, url
    with tenant_context(firm_b):
        assert Inspection.objects.get(pk=inspection.pk).result == "pending"
        assert MaterialArrival.objects.get(pk=arrival.pk).status == "awaiting"
        assert SiteProblem.objects.get(pk=problem.pk).status == "awaiting_choice"


def test_a_read_only_key_reads_but_cannot_act(client, worksite, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["worksites:read"])
        inspection = services.inspection_schedule(worksite=worksite, kind="mid_term", created_by=None)
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key.raw_key}"
    assert client.get("/api/v1/inspections/").status_code == 200
    assert post(client, "/api/v1/inspections/", {"worksite": worksite.pk, "kind": "concealed_works"}).status_code == 403
    assert post(client, f"/api/v1/inspections/{inspection.pk}/result/", {"passed": False}).status_code == 403
    assert post(client, "/api/v1/site-problems/", {"worksite": worksite.pk, "title": "x"}).status_code == 403


def fill(worksite, qc_user, n):
    with tenant_context(worksite.tenant):
        for _ in range(n):
            inspection = services.inspection_schedule(worksite=worksite, kind="mid_term", created_by=qc_user)
            services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=qc_user)
            services.inspection_sign(
                inspection=inspection, role="homeowner", signed_name="王芳", user=qc_user, paper_photo=png()
            )
            services.inspection_record_result(inspection=inspection, passed=False, findings="x", decided_by=qc_user)
            arrival = services.material_arrival_record(
                worksite=worksite, material="Tiles", quantity=1, unit="m²", arrived_on=firm_today(), recorded_by=None
            )
            services.material_arrival_sign(arrival=arrival, role="qc_inspector", signed_name="", user=qc_user)
            services.site_patrol_record(
                worksite=worksite, role="qc_inspector", patrolled_on=firm_today(), findings="ok", patrolled_by=qc_user
            )
            services.site_problem_raise(worksite=worksite, title="Pillar", raised_by=qc_user, solutions=SOLUTIONS)


@pytest.mark.parametrize("path", ["inspections", "material-arrivals", "site-patrols", "site-problems"])
def test_list_query_counts_do_not_grow_with_rows(qc, worksite, path):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = qc.get(f"/api/v1/{path}/")
        assert response.status_code == 200, response.content
        return len(captured.captured_queries), len(response.json()["results"])

    fill(worksite, qc.user, 1)
    few, few_rows = queries()
    fill(worksite, qc.user, 5)
    many, many_rows = queries()
    planned = 1 if path == "inspections" else 0  # the QC pre-inspection planned when the worksite opened
    assert (few_rows, many_rows) == (1 + planned, 6 + planned)
    assert many == few, f"{path}: {few} queries for one row, {many} for six"
