"""The worksite's inspections & site page and its action forms through the Django test client."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.test_services import signed_contract
from tests.factories import MembershipFactory
from tests.worksites.factories import PortalLinkFactory
from worksites.models import Inspection, MaterialArrival, Signoff, SitePatrol, SiteProblem
from worksites.services import inspections as services
from worksites.services import schedule

pytestmark = pytest.mark.usefixtures("english")

SOLUTIONS = [
    {"description": "Build around the pillar", "cost_change": Decimal("0"), "extra_days": 0},
    {"description": "Move the wardrobe", "cost_change": Decimal("800"), "extra_days": 2},
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


def concealed(worksite):
    with tenant_context(worksite.tenant):
        return services.inspection_schedule(worksite=worksite, kind="concealed_works", created_by=None)


def today_in(firm):
    with tenant_context(firm):
        return firm_today()


def text(page):
    return page.content.decode()


def png():
    out = BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, format="PNG")
    return SimpleUploadedFile("diagram.png", out.getvalue(), content_type="image/png")


def test_each_person_gets_sign_buttons_for_their_own_role_only(qc, foreman, worksite, firm_a):
    inspection = concealed(worksite)
    url = f"/worksites/{worksite.pk}/site/"
    qc_page = text(qc.get(url))
    assert "Concealed-works inspection" in qc_page
    assert 'name="role" value="qc_inspector"' in qc_page and 'name="role" value="site_manager"' not in qc_page
    foreman_page = text(foreman.get(url))
    assert 'name="role" value="site_manager"' in foreman_page and 'name="role" value="qc_inspector"' not in foreman_page
    assert f"/worksites/inspections/{inspection.pk}/sign/?role=homeowner" in foreman_page
    service_agent = member(firm_a, "customer_service")
    read_only = service_agent.get(url)
    assert read_only.status_code == 200 and "/sign/" not in text(read_only)
    assert (
        service_agent.post(f"/worksites/inspections/{inspection.pk}/sign/", {"role": "qc_inspector"}).status_code == 403
    )


def test_signing_from_the_page_and_a_refusal_shown_on_the_form(qc, foreman, worksite, firm_a):
    inspection = concealed(worksite)
    sign_url = f"/worksites/inspections/{inspection.pk}/sign/"
    signed = qc.post(sign_url, {"role": "qc_inspector"})
    assert signed.status_code == 302 and signed.url.endswith(f"/site/#inspection-{inspection.pk}")
    refused = foreman.post(sign_url, {"role": "qc_inspector"})
    assert refused.status_code == 200
    assert "QC inspector" in refused.context["form"].errors["role"][0]
    twice = qc.post(sign_url, {"role": "qc_inspector"})
    assert "already signed" in twice.context["form"].errors["role"][0]
    with tenant_context(firm_a):
        signoff = Signoff.objects.get(inspection=inspection)
    assert (signoff.role, signoff.signed_by) == ("qc_inspector", qc.user)
    assert f"✓ {qc.user}" in text(qc.get(f"/worksites/{worksite.pk}/site/"))


def test_staff_record_the_homeowners_signature_with_their_name(foreman, worksite, firm_a):
    inspection = concealed(worksite)
    url = f"/worksites/inspections/{inspection.pk}/sign/"
    form = foreman.get(url, {"role": "homeowner"}).context["form"]
    with tenant_context(firm_a):
        customer = worksite.project.customer.name
    assert (form.initial["role"], form.initial["signed_name"]) == ("homeowner", customer)
    no_photo = foreman.post(url, {"role": "homeowner", "signed_name": "王芳"})
    assert "Staff cannot sign for the homeowner" in no_photo.context["form"].errors["paper_photo"][0]
    unnamed = foreman.post(url, {"role": "homeowner", "signed_name": " ", "paper_photo": png()})
    assert unnamed.context["form"].errors["signed_name"]
    signed = {"role": "homeowner", "signed_name": "王芳", "note": "in the hall", "paper_photo": png()}
    assert foreman.post(url, signed).status_code == 302
    with tenant_context(firm_a):
        signoff = Signoff.objects.get(inspection=inspection)
    assert (signoff.signed_name, signoff.signed_by, signoff.note) == ("王芳", foreman.user, "in the hall")
    assert signoff.on_paper and signoff.paper_photo


def test_the_result_form_says_who_still_has_to_sign_and_needs_the_diagram(qc, foreman, worksite, firm_a):
    inspection = concealed(worksite)
    result_url = f"/worksites/inspections/{inspection.pk}/result/"
    qc.post(f"/worksites/inspections/{inspection.pk}/sign/", {"role": "qc_inspector"})
    missing = qc.post(result_url, {"outcome": "passed"})
    assert missing.status_code == 200
    errors = " ".join(missing.context["form"].non_field_errors())
    assert "Homeowner" in errors and "Site manager" in errors and "QC inspector" not in errors
    assert qc.post(result_url, {}).context["form"].errors["outcome"]
    foreman.post(f"/worksites/inspections/{inspection.pk}/sign/", {"role": "site_manager"})
    foreman.post(
        f"/worksites/inspections/{inspection.pk}/sign/",
        {"role": "homeowner", "signed_name": "王芳", "paper_photo": png()},
    )
    no_diagram = qc.post(result_url, {"outcome": "passed"})
    assert "circuit diagram" in " ".join(no_diagram.context["form"].non_field_errors())

    upload_url = f"/worksites/inspections/{inspection.pk}/circuit-diagram/"
    bad = qc.post(upload_url, {"file": SimpleUploadedFile("d.png", b"plain text", content_type="image/png")})
    assert bad.status_code == 200 and "not a file type accepted" in " ".join(bad.context["form"].non_field_errors())
    assert qc.post(upload_url, {"file": png()}).status_code == 302
    assert qc.post(result_url, {"outcome": "passed", "findings": "Conduits fine"}).status_code == 302
    with tenant_context(firm_a):
        assert Inspection.objects.get(pk=inspection.pk).result == "passed"
    page = text(qc.get(f"/worksites/{worksite.pk}/site/"))
    assert "/media/" in page and "Conduits fine" in page and result_url not in page


def test_failing_needs_findings_on_the_form(qc, worksite, firm_a):
    inspection = concealed(worksite)
    url = f"/worksites/inspections/{inspection.pk}/result/"
    assert qc.post(url, {"outcome": "failed", "findings": ""}).context["form"].errors["findings"]
    assert qc.post(url, {"outcome": "failed", "findings": "Live wire without conduit"}).status_code == 302
    with tenant_context(firm_a):
        assert Inspection.objects.get(pk=inspection.pk).result == "failed"
    scheduled = qc.post(f"/worksites/{worksite.pk}/inspections/new/", {"kind": "concealed_works"})
    assert scheduled.status_code == 302
    twice = qc.post(f"/worksites/{worksite.pk}/inspections/new/", {"kind": "concealed_works"})
    assert twice.context["form"].errors["kind"]


def test_material_delivery_record_sign_and_reject(qc, foreman, worksite, firm_a):
    url = f"/worksites/{worksite.pk}/materials/new/"
    today = today_in(firm_a).isoformat()
    bad = foreman.post(url, {"material": "Tiles", "quantity": "0", "unit": "m²", "arrived_on": today})
    assert bad.context["form"].errors["quantity"]
    ok = {"material": "Floor tiles", "brand_model": "Marco Polo", "quantity": "42", "unit": "m²", "arrived_on": today}
    assert foreman.post(url, ok).status_code == 302
    assert foreman.post(url, {**ok, "material": "Wall paint"}).status_code == 302
    with tenant_context(firm_a):
        tiles, paint = MaterialArrival.objects.order_by("id")
    assert qc.post(f"/worksites/materials/{tiles.pk}/sign/", {"role": "qc_inspector"}).status_code == 302
    homeowner = {"role": "homeowner", "signed_name": "王芳"}
    assert foreman.post(f"/worksites/materials/{tiles.pk}/sign/", homeowner).status_code == 200  # no photo
    signed = foreman.post(f"/worksites/materials/{tiles.pk}/sign/", {**homeowner, "paper_photo": png()})
    assert signed.status_code == 302
    no_reason = foreman.post(f"/worksites/materials/{paint.pk}/reject/", {"reason": ""})
    assert no_reason.context["form"].errors["reason"]
    assert foreman.post(f"/worksites/materials/{paint.pk}/reject/", {"reason": "Wrong colour"}).status_code == 302
    with tenant_context(firm_a):
        assert MaterialArrival.objects.get(pk=tiles.pk).status == "accepted"
        assert MaterialArrival.objects.get(pk=paint.pk).status == "rejected"
    page = text(foreman.get(f"/worksites/{worksite.pk}/site/"))
    assert "Wrong colour" in page and "Accepted" in page


def test_patrol_in_the_wrong_role_is_refused_on_the_form(foreman, worksite, firm_a):
    url = f"/worksites/{worksite.pk}/patrols/new/"
    assert foreman.get(url).context["form"].initial["role"] == SitePatrol.Role.FOREMAN
    today = today_in(firm_a).isoformat()
    wrong = foreman.post(url, {"role": "qc_inspector", "patrolled_on": today, "findings": "Tidy"})
    assert wrong.context["form"].errors["role"]
    future = (today_in(firm_a) + timedelta(days=2)).isoformat()
    assert foreman.post(url, {"role": "foreman", "patrolled_on": future, "findings": "x"}).context["form"].errors
    done = foreman.post(url, {"role": "foreman", "patrolled_on": today, "findings": "Bags open", "issues_found": "on"})
    assert done.status_code == 302
    with tenant_context(firm_a):
        patrol = SitePatrol.objects.get()
    assert (patrol.patrolled_by, patrol.issues_found) == (foreman.user, True)


def problem_post(*descriptions, title="Pillar where the wardrobe goes"):
    data = {"title": title, "solutions-TOTAL_FORMS": "3", "solutions-INITIAL_FORMS": "0"}
    for n, description in enumerate(descriptions):
        data[f"solutions-{n}-description"] = description
        data[f"solutions-{n}-cost_change"] = str(100 * n)
        data[f"solutions-{n}-extra_days"] = str(n)
    return data


def test_raise_a_problem_record_the_choice_and_resolve(foreman, worksite, firm_a):
    url = f"/worksites/{worksite.pk}/problems/new/"
    page = foreman.get(url)
    assert page.context["formset"].total_form_count() >= 2 and 'data-testid="solutions"' in text(page)
    one = foreman.post(url, problem_post("Build around it"))
    assert one.status_code == 200 and "at least two" in " ".join(one.context["formset"].non_form_errors())
    half = foreman.post(url, {**problem_post("Build around it"), "solutions-1-cost_change": "50"})
    assert half.context["formset"].forms[1].errors["description"]
    assert foreman.post(url, problem_post("Build around it", "Move the wardrobe")).status_code == 302
    with tenant_context(firm_a):
        problem = SiteProblem.objects.get()
        first, second = problem.solutions.all()
    assert (second.cost_change, second.extra_days) == (Decimal("100.00"), 1)

    resolve_url = f"/worksites/problems/{problem.pk}/resolve/"
    early = foreman.post(resolve_url, follow=True)
    assert "choose" in " ".join(str(m) for m in early.context["messages"])
    choose_url = f"/worksites/problems/{problem.pk}/choose/"
    assert foreman.post(choose_url, {"solution": second.pk, "chosen_name": ""}).context["form"].errors["chosen_name"]
    assert foreman.post(choose_url, {"solution": second.pk, "chosen_name": "王芳"}).status_code == 302
    again = foreman.post(choose_url, {"solution": first.pk, "chosen_name": "王芳"})
    assert "already" in " ".join(again.context["form"].non_field_errors())
    assert foreman.post(resolve_url).status_code == 302
    with tenant_context(firm_a):
        problem.refresh_from_db()
    assert (problem.status, problem.chosen_solution_id, problem.chosen_name) == ("resolved", second.pk, "王芳")


def test_another_firms_records_are_404_on_every_action(worksite, firm_a, firm_b):
    inspection = concealed(worksite)
    with tenant_context(firm_a):
        arrival = services.material_arrival_record(
            worksite=worksite, material="Tiles", quantity=1, unit="m²", arrived_on=firm_today(), recorded_by=None
        )
        problem = services.site_problem_raise(worksite=worksite, title="Pillar", raised_by=None, solutions=SOLUTIONS)
    outsider = member(firm_b, "admin")
    for url in [
        f"/worksites/{worksite.pk}/site/",
        f"/worksites/{worksite.pk}/inspections/new/",
        f"/worksites/{worksite.pk}/materials/new/",
        f"/worksites/{worksite.pk}/patrols/new/",
        f"/worksites/{worksite.pk}/problems/new/",
        f"/worksites/inspections/{inspection.pk}/sign/",
        f"/worksites/inspections/{inspection.pk}/result/",
        f"/worksites/inspections/{inspection.pk}/circuit-diagram/",
        f"/worksites/materials/{arrival.pk}/sign/",
        f"/worksites/materials/{arrival.pk}/reject/",
        f"/worksites/problems/{problem.pk}/choose/",
    ]:
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/worksites/problems/{problem.pk}/resolve/").status_code == 404
    assert outsider.post(f"/worksites/inspections/{inspection.pk}/sign/", {"role": "qc_inspector"}).status_code == 404
    with tenant_context(firm_a):
        assert not Signoff.objects.exists()


def fill(worksite, qc_user, n):
    """n of everything the site page lists, in each of its states: inspections on a phase with the QC's
    sign-off (all but the last failed), deliveries signed by QC and every other one by the homeowner through
    the portal, patrols, and problems on a phase awaiting the choice, chosen or resolved in turn."""
    with tenant_context(worksite.tenant):
        phase = worksite.phases.first()
        link = PortalLinkFactory(worksite=worksite)
        # The QC pre-inspection is already planned (one more row) and the final acceptance waits for it.
        kinds = [Inspection.Kind.CONCEALED_WORKS, Inspection.Kind.WATERPROOFING_TEST, Inspection.Kind.MID_TERM]
        for i in range(n):
            inspection = services.inspection_schedule(
                worksite=worksite, kind=kinds[i % len(kinds)], created_by=qc_user, phase=phase
            )
            services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=qc_user)
            if i < n - 1:  # failed, so a later one may be of the same kind
                services.inspection_record_result(inspection=inspection, passed=False, findings="x", decided_by=qc_user)
            arrival = services.material_arrival_record(
                worksite=worksite, material="Tiles", quantity=1, unit="m²", arrived_on=firm_today(), recorded_by=None
            )
            services.material_arrival_sign(arrival=arrival, role="qc_inspector", signed_name="", user=qc_user)
            if i % 2:
                services.material_arrival_sign(arrival=arrival, role="homeowner", signed_name="王芳", portal_link=link)
            services.site_patrol_record(
                worksite=worksite, role="qc_inspector", patrolled_on=firm_today(), findings="ok", patrolled_by=qc_user
            )
            problem = services.site_problem_raise(
                worksite=worksite, title="Pillar", raised_by=qc_user, solutions=SOLUTIONS, phase=phase
            )
            if i % 3:
                services.site_problem_choose(
                    problem=problem, solution=problem.solutions.first(), chosen_name="王芳", user=qc_user
                )
            if i % 3 == 2:
                services.site_problem_resolve(problem=problem)


def test_the_site_page_query_count_does_not_grow_with_rows(qc, worksite, firm_a):
    with tenant_context(firm_a):
        larger = schedule.worksite_open(contract=signed_contract(number="HT-002"))

    def queries(site):
        with CaptureQueriesContext(connection) as captured:
            response = qc.get(f"/worksites/{site.pk}/site/")
        assert response.status_code == 200
        return len(captured.captured_queries), response

    fill(worksite, qc.user, 1)
    fill(larger, qc.user, 5)
    few, _ = queries(worksite)
    many, response = queries(larger)
    assert len(response.context["inspections"]) == 5 + 1 and len(response.context["problems"]) == 5
    assert len(response.context["material_arrivals"]) == 5 and len(response.context["patrols"]) == 5
    assert {i.result for i in response.context["inspections"]} == {"failed", "pending"}
    assert {a.status for a in response.context["material_arrivals"]} == {"awaiting", "accepted"}
    assert {p.status for p in response.context["problems"]} == {"awaiting_choice", "chosen", "resolved"}
    assert many == few, f"{few} queries with one row of each, {many} with five"


def test_a_paper_signature_is_flagged_with_its_photo_on_the_site_page(foreman, worksite, firm_a):
    inspection = concealed(worksite)
    url = f"/worksites/inspections/{inspection.pk}/sign/"
    foreman.post(url, {"role": "homeowner", "signed_name": "王芳", "paper_photo": png()})
    page = foreman.get(f"/worksites/{worksite.pk}/site/").content.decode()
    assert 'data-testid="on-paper"' in page and "signed on paper" in page
