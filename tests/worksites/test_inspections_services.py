from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override
from PIL import Image

from contracts.models import Instalment
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.test_services import PAINT, TILES, WIRING, signed_contract
from tests.factories import MembershipFactory, TenantFactory
from tests.worksites.factories import PhaseFactory, PortalLinkFactory, WorksiteFactory
from worksites.models import Inspection, MaterialArrival, Signoff, SitePatrol, SiteProblem
from worksites.selectors import inspections as selectors
from worksites.services import inspections as services
from worksites.services import schedule

CONCEALED = Inspection.Kind.CONCEALED_WORKS


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a), override("en"):
        yield firm_a


@pytest.fixture
def crew(firm):
    """One member of the firm per role that signs or patrols."""
    return {
        role: MembershipFactory(tenant=firm, role=role).user for role in ("qc", "project_manager", "designer", "sales")
    }


@pytest.fixture
def worksite(firm):
    return schedule.worksite_open(contract=signed_contract())


def png(name="diagram.png"):
    out = BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def refusal(call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        call(**kwargs)
    return refused.value


def events(event_type):
    return list(OutboxEvent.objects.filter(event_type=event_type))


# Inspections -----------------------------------------------------------------------------------------------


def test_concealed_works_passes_only_with_all_three_signatures_and_the_circuit_diagram(worksite, crew):
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=crew["project_manager"])
    services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=crew["qc"])
    services.inspection_sign(
        inspection=inspection,
        role="homeowner",
        signed_name="王芳",
        user=crew["project_manager"],
        note="on site",
        paper_photo=png("signed-page.png"),
    )
    missing = refusal(
        services.inspection_record_result, inspection=inspection, passed=True, findings="", decided_by=crew["qc"]
    )
    assert "Site manager" in " ".join(missing.messages)
    assert "QC inspector" not in " ".join(missing.messages)

    services.inspection_sign(inspection=inspection, role="site_manager", signed_name="", user=crew["project_manager"])
    no_diagram = refusal(
        services.inspection_record_result, inspection=inspection, passed=True, findings="", decided_by=crew["qc"]
    )
    assert "circuit_diagram" in no_diagram.message_dict
    assert not events("inspection.passed")

    services.inspection_attach_circuit_diagram(inspection=inspection, upload=png())
    passed = services.inspection_record_result(
        inspection=inspection, passed=True, findings="All runs in conduit", decided_by=crew["qc"]
    )
    assert (passed.result, passed.decided_by) == ("passed", crew["qc"])
    assert passed.circuit_diagram.name.startswith(f"firms/{worksite.tenant_id}/")
    [event] = events("inspection.passed")
    assert event.payload == {
        "inspection_id": inspection.pk,
        "worksite_id": worksite.pk,
        "project_id": worksite.project_id,
        "kind": "concealed_works",
        "findings": "All runs in conduit",
        "decided_at": passed.decided_at.isoformat(),
    }
    homeowner = Signoff.objects.get(inspection=inspection, role="homeowner")
    assert (homeowner.signed_name, homeowner.signed_by, homeowner.note) == ("王芳", crew["project_manager"], "on site")
    assert homeowner.on_paper and homeowner.paper_photo.name.startswith(f"firms/{worksite.tenant_id}/")
    assert Signoff.objects.get(inspection=inspection, role="qc_inspector").signed_name == str(crew["qc"])
    assert not events("inspection.failed")


def test_staff_sign_only_for_the_role_they_hold(worksite, crew, firm):
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    wrong = refusal(
        services.inspection_sign, inspection=inspection, role="qc_inspector", signed_name="", user=crew["designer"]
    )
    assert "role" in wrong.message_dict and "QC inspector" in wrong.message_dict["role"][0]
    refusal(services.inspection_sign, inspection=inspection, role="site_manager", signed_name="", user=crew["qc"])
    outsider = MembershipFactory(role="qc", tenant=TenantFactory()).user  # a QC inspector of another firm
    refusal(services.inspection_sign, inspection=inspection, role="qc_inspector", signed_name="", user=outsider)
    not_required = refusal(
        services.inspection_sign, inspection=inspection, role="designer", signed_name="", user=crew["designer"]
    )
    assert "Homeowner, QC inspector, Site manager" in not_required.message_dict["role"][0]
    nobody = refusal(services.inspection_sign, inspection=inspection, role="homeowner", signed_name="王芳")
    assert "portal" in nobody.messages[0]
    unnamed = refusal(
        services.inspection_sign,
        inspection=inspection,
        role="homeowner",
        signed_name=" ",
        user=crew["qc"],
        paper_photo=png(),
    )
    assert "signed_name" in unnamed.message_dict
    assert not Signoff.objects.exists()
    admin = MembershipFactory(tenant=firm, role="admin").user  # a firm admin may hold any crew position
    assert services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=admin).pk


def test_signing_twice_for_a_party_is_refused_with_who_signed(worksite, crew, firm):
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="Wang QC", user=crew["qc"])
    second_qc = MembershipFactory(tenant=firm, role="qc").user
    again = refusal(
        services.inspection_sign, inspection=inspection, role="qc_inspector", signed_name="", user=second_qc
    )
    assert "already signed" in again.message_dict["role"][0] and "Wang QC" in again.message_dict["role"][0]
    assert Signoff.objects.filter(inspection=inspection).count() == 1


def test_the_homeowner_signs_through_their_own_portal_link_only(worksite, crew, firm):
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    link = PortalLinkFactory(worksite=worksite)
    elsewhere = PortalLinkFactory(worksite=WorksiteFactory())
    expired = PortalLinkFactory(worksite=worksite, expires_at=timezone.now() - timedelta(minutes=1))
    refusal(
        services.inspection_sign, inspection=inspection, role="homeowner", signed_name="王芳", portal_link=elsewhere
    )
    refusal(services.inspection_sign, inspection=inspection, role="homeowner", signed_name="王芳", portal_link=expired)
    as_qc = refusal(
        services.inspection_sign, inspection=inspection, role="qc_inspector", signed_name="王芳", portal_link=link
    )
    assert "role" in as_qc.message_dict
    signoff = services.inspection_sign(
        inspection=inspection, role="homeowner", signed_name=" 王芳 ", portal_link=link, ip_address="203.0.113.9"
    )
    assert (signoff.signed_name, signoff.portal_link, signoff.ip_address, signoff.signed_by) == (
        "王芳",
        link,
        "203.0.113.9",
        None,
    )


def test_failing_needs_findings_and_a_failed_inspection_is_redone_by_a_new_one(worksite, crew):
    inspection = services.inspection_schedule(
        worksite=worksite, kind=Inspection.Kind.WATERPROOFING_TEST, created_by=crew["qc"]
    )
    again = refusal(services.inspection_schedule, worksite=worksite, kind="waterproofing_test", created_by=crew["qc"])
    assert "kind" in again.message_dict
    blank = refusal(
        services.inspection_record_result, inspection=inspection, passed=False, findings="  ", decided_by=crew["qc"]
    )
    assert "findings" in blank.message_dict
    failed = services.inspection_record_result(
        inspection=inspection, passed=False, findings="Seepage under the shower tray", decided_by=crew["qc"]
    )
    assert failed.result == "failed"
    [event] = events("inspection.failed")
    assert event.payload["findings"] == "Seepage under the shower tray"
    assert (event.payload["inspection_id"], event.payload["kind"]) == (inspection.pk, "waterproofing_test")
    assert not events("inspection.passed")
    refusal(services.inspection_sign, inspection=inspection, role="qc_inspector", signed_name="", user=crew["qc"])
    refusal(services.inspection_record_result, inspection=inspection, passed=False, findings="x", decided_by=crew["qc"])
    refusal(services.inspection_attach_circuit_diagram, inspection=inspection, upload=png())
    redo = services.inspection_schedule(worksite=worksite, kind="waterproofing_test", created_by=crew["qc"])
    assert redo.result == "pending" and redo.pk != inspection.pk


def test_a_phase_of_another_worksite_and_a_non_file_are_refused(worksite, crew):
    foreign_phase = PhaseFactory(worksite=WorksiteFactory())
    refused = refusal(
        services.inspection_schedule, worksite=worksite, kind=CONCEALED, created_by=None, phase=foreign_phase
    )
    assert "phase" in refused.message_dict
    own_phase = worksite.phases.get(kind="concealed_works_inspection")
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None, phase=own_phase)
    text = SimpleUploadedFile("diagram.png", b"not a picture at all", content_type="image/png")
    bad = refusal(services.inspection_attach_circuit_diagram, inspection=inspection, upload=text)
    assert "circuit_diagram" in bad.message_dict
    inspection.refresh_from_db()
    assert not inspection.circuit_diagram


def test_a_passed_mid_term_inspection_makes_the_mid_term_instalment_due(firm, crew):
    plan = [
        {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "midterm", "amount": "3000.00", "trigger": "mid_inspection", "due_days_after_trigger": 3},
        {"kind": "final", "amount": "2616.63", "trigger": "acceptance", "due_days_after_trigger": 3},
    ]
    contract = signed_contract((TILES, WIRING, PAINT), instalments=plan)
    worksite = schedule.worksite_open(contract=contract)
    midterm = Instalment.objects.get(contract=contract, kind="midterm")

    first = services.inspection_schedule(worksite=worksite, kind=Inspection.Kind.MID_TERM, created_by=None)
    services.inspection_sign(inspection=first, role="qc_inspector", signed_name="", user=crew["qc"])
    refusal(services.inspection_record_result, inspection=first, passed=True, findings="", decided_by=crew["qc"])
    services.inspection_record_result(inspection=first, passed=False, findings="Cracked screed", decided_by=crew["qc"])
    midterm.refresh_from_db()
    assert midterm.due_on is None
    assert not OutboxEvent.objects.filter(event_type="payment.due", payload__instalment_id=midterm.pk).exists()

    second = services.inspection_schedule(worksite=worksite, kind=Inspection.Kind.MID_TERM, created_by=None)
    services.inspection_sign(inspection=second, role="qc_inspector", signed_name="", user=crew["qc"])
    services.inspection_sign(inspection=second, role="site_manager", signed_name="", user=crew["project_manager"])
    services.inspection_sign(inspection=second, role="designer", signed_name="", user=crew["designer"])
    services.inspection_sign(
        inspection=second, role="homeowner", signed_name="王芳", user=crew["qc"], paper_photo=png("signed.png")
    )
    services.inspection_record_result(inspection=second, passed=True, findings="", decided_by=crew["qc"])
    midterm.refresh_from_db()
    assert midterm.due_on == firm_today() + timedelta(days=3)
    assert Instalment.objects.get(contract=contract, kind="final").due_on is None
    [due] = OutboxEvent.objects.filter(event_type="payment.due", payload__instalment_id=midterm.pk)
    assert due.payload["amount"] == str(Decimal("3000.00"))


def test_passing_another_kind_makes_nothing_due(worksite, crew):
    inspection = services.inspection_schedule(worksite=worksite, kind="qc_pre_inspection", created_by=None)
    services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=crew["qc"])
    services.inspection_sign(inspection=inspection, role="site_manager", signed_name="", user=crew["project_manager"])
    services.inspection_record_result(inspection=inspection, passed=True, findings="", decided_by=crew["qc"])
    assert not Instalment.objects.filter(trigger="mid_inspection", due_on__isnull=False).exists()


# Material arrivals ------------------------------------------------------------------------------------------


def record_tiles(worksite, **kwargs):
    return services.material_arrival_record(
        worksite=worksite,
        material="Floor tiles 800×800",
        brand_model="Marco Polo",
        quantity=Decimal("42.5"),
        unit="m²",
        arrived_on=firm_today(),
        recorded_by=None,
        **kwargs,
    )


def test_material_is_accepted_only_once_the_homeowner_and_qc_have_signed(worksite, crew):
    bad = refusal(
        services.material_arrival_record,
        worksite=worksite,
        material=" ",
        quantity=0,
        unit="m²",
        arrived_on=firm_today() + timedelta(days=1),
        recorded_by=None,
    )
    assert {"material", "quantity", "arrived_on"} <= set(bad.message_dict)
    arrival = record_tiles(worksite)
    refusal(services.material_arrival_sign, arrival=arrival, role="site_manager", signed_name="", user=crew["qc"])
    refusal(services.material_arrival_sign, arrival=arrival, role="qc_inspector", signed_name="", user=crew["designer"])
    services.material_arrival_sign(arrival=arrival, role="qc_inspector", signed_name="", user=crew["qc"])
    arrival.refresh_from_db()
    assert (arrival.status, arrival.accepted_at) == ("awaiting", None)
    twice = refusal(
        services.material_arrival_sign, arrival=arrival, role="qc_inspector", signed_name="", user=crew["qc"]
    )
    assert "already signed" in twice.message_dict["role"][0]
    link = PortalLinkFactory(worksite=worksite)
    services.material_arrival_sign(arrival=arrival, role="homeowner", signed_name="王芳", portal_link=link)
    arrival.refresh_from_db()
    assert arrival.status == "accepted" and arrival.accepted_at is not None
    refusal(services.material_arrival_reject, arrival=arrival, reason="Wrong colour", user=crew["qc"])


def test_rejecting_a_delivery_needs_a_reason_and_keeps_it_with_who(worksite, crew):
    arrival = record_tiles(worksite)
    blank = refusal(services.material_arrival_reject, arrival=arrival, reason=" ", user=crew["qc"])
    assert "reason" in blank.message_dict
    refusal(services.material_arrival_reject, arrival=arrival, reason="Chipped edges")  # nobody
    rejected = services.material_arrival_reject(
        arrival=arrival, reason="Chipped edges on 6 boxes", signed_name="王芳", user=crew["project_manager"]
    )
    assert rejected.status == "rejected"
    assert "王芳: Chipped edges on 6 boxes" in rejected.notes
    refusal(services.material_arrival_sign, arrival=arrival, role="qc_inspector", signed_name="", user=crew["qc"])
    assert MaterialArrival.objects.get(pk=arrival.pk).status == "rejected"


# Patrols and problems ---------------------------------------------------------------------------------------


def test_a_patrol_is_recorded_in_the_role_the_person_holds(worksite, crew):
    today = firm_today()
    wrong = refusal(
        services.site_patrol_record,
        worksite=worksite,
        role="qc_inspector",
        patrolled_on=today,
        findings="Tidy",
        patrolled_by=crew["designer"],
    )
    assert "role" in wrong.message_dict
    empty = refusal(
        services.site_patrol_record,
        worksite=worksite,
        role="designer",
        patrolled_on=today,
        findings=" ",
        patrolled_by=crew["designer"],
    )
    assert "findings" in empty.message_dict
    patrol = services.site_patrol_record(
        worksite=worksite,
        role="foreman",
        patrolled_on=today,
        findings="Cement bags left uncovered",
        patrolled_by=crew["project_manager"],
        issues_found=True,
    )
    assert (patrol.role, patrol.issues_found) == (SitePatrol.Role.FOREMAN, True)


SOLUTIONS = [
    {"description": "Build the wardrobe around the pillar", "cost_change": Decimal("0"), "extra_days": 0},
    {"description": "Move the wardrobe to the north wall", "cost_change": Decimal("1200.50"), "extra_days": 3},
]


def test_a_problem_needs_two_solutions_and_the_homeowner_chooses_one_of_its_own(worksite, crew):
    one = refusal(
        services.site_problem_raise,
        worksite=worksite,
        title="Pillar where the wardrobe goes",
        raised_by=crew["designer"],
        solutions=SOLUTIONS[:1] + [{"description": "  "}],
    )
    assert "solutions" in one.message_dict
    assert not SiteProblem.objects.exists()
    problem = services.site_problem_raise(
        worksite=worksite, title="Pillar where the wardrobe goes", raised_by=crew["designer"], solutions=SOLUTIONS
    )
    other = services.site_problem_raise(
        worksite=worksite, title="Low beam in the hall", raised_by=crew["designer"], solutions=SOLUTIONS
    )
    cheap, dear = problem.solutions.all()
    assert (dear.position, dear.cost_change, dear.extra_days) == (2, Decimal("1200.50"), 3)

    early = refusal(services.site_problem_resolve, problem=problem)
    assert "choose" in early.messages[0]
    foreign = refusal(
        services.site_problem_choose,
        problem=problem,
        solution=other.solutions.first(),
        chosen_name="王芳",
        user=crew["designer"],
    )
    assert "solution" in foreign.message_dict
    link = PortalLinkFactory(worksite=worksite)
    chosen = services.site_problem_choose(problem=problem, solution=dear, chosen_name="王芳", portal_link=link)
    assert (chosen.status, chosen.chosen_solution, chosen.chosen_name, chosen.chosen_via) == (
        "chosen",
        dear,
        "王芳",
        link,
    )
    assert chosen.chosen_at is not None
    twice = refusal(services.site_problem_choose, problem=problem, solution=cheap, chosen_name="王芳", portal_link=link)
    assert "already" in twice.messages[0]
    assert SiteProblem.objects.get(pk=problem.pk).chosen_solution == dear
    resolved = services.site_problem_resolve(problem=problem)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    refusal(services.site_problem_resolve, problem=problem)


# Selectors -------------------------------------------------------------------------------------------------


def test_open_items_are_what_still_waits_for_the_homeowner(worksite, crew):
    waiting = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    services.inspection_sign(inspection=waiting, role="qc_inspector", signed_name="", user=crew["qc"])
    signed = services.inspection_schedule(worksite=worksite, kind="mid_term", created_by=None)
    services.inspection_sign(
        inspection=signed, role="homeowner", signed_name="王芳", user=crew["qc"], paper_photo=png("signed.png")
    )
    services.inspection_schedule(worksite=worksite, kind="qc_pre_inspection", created_by=None)  # no homeowner
    open_arrival = record_tiles(worksite)
    homeowner_done = record_tiles(worksite)
    services.material_arrival_sign(
        arrival=homeowner_done, role="homeowner", signed_name="王芳", user=crew["qc"], paper_photo=png("signed.png")
    )
    rejected = record_tiles(worksite)
    services.material_arrival_reject(arrival=rejected, reason="Wrong model", user=crew["qc"])
    problem = services.site_problem_raise(worksite=worksite, title="Pillar", raised_by=None, solutions=SOLUTIONS)
    chosen = services.site_problem_raise(worksite=worksite, title="Beam", raised_by=None, solutions=SOLUTIONS)
    services.site_problem_choose(problem=chosen, solution=chosen.solutions.first(), chosen_name="王芳", user=crew["qc"])
    elsewhere = WorksiteFactory()
    services.inspection_schedule(worksite=elsewhere, kind=CONCEALED, created_by=None)

    items = selectors.open_items_for_homeowner(worksite=worksite)
    [inspection] = items["inspections"]
    assert inspection == waiting and [s.role for s in inspection.signoffs.all()] == ["qc_inspector"]
    assert list(items["material_arrivals"]) == [open_arrival]
    [open_problem] = items["problems"]
    assert open_problem == problem and len(open_problem.solutions.all()) == 2


# Nobody signs as another party ---------------------------------------------------------------------------------


def test_staff_cannot_sign_for_the_homeowner_without_the_signed_page(worksite, crew):
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    refused = refusal(
        services.inspection_sign, inspection=inspection, role="homeowner", signed_name="王芳", user=crew["qc"]
    )
    assert "Staff cannot sign for the homeowner" in refused.message_dict["paper_photo"][0]
    not_a_photo = SimpleUploadedFile("signed.png", b"not an image", content_type="image/png")
    assert (
        "paper_photo"
        in refusal(
            services.inspection_sign,
            inspection=inspection,
            role="homeowner",
            signed_name="王芳",
            user=crew["qc"],
            paper_photo=not_a_photo,
        ).message_dict
    )
    assert not Signoff.objects.exists()
    link = PortalLinkFactory(worksite=worksite)
    through_link = services.inspection_sign(
        inspection=inspection, role="homeowner", signed_name="王芳", portal_link=link
    )
    assert not through_link.on_paper and not through_link.paper_photo


def test_one_person_signs_for_one_party_only(worksite, crew, firm):
    admin = MembershipFactory(tenant=firm, role="admin").user
    inspection = services.inspection_schedule(worksite=worksite, kind=CONCEALED, created_by=None)
    services.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=admin)
    twice = refusal(services.inspection_sign, inspection=inspection, role="site_manager", signed_name="", user=admin)
    assert "already signed as QC inspector" in twice.message_dict["role"][0]
    services.inspection_sign(inspection=inspection, role="site_manager", signed_name="", user=crew["project_manager"])
    # Recording the homeowner's paper signature is not signing as them.
    services.inspection_sign(
        inspection=inspection, role="homeowner", signed_name="王芳", user=admin, paper_photo=png("signed.png")
    )
    assert inspection.signoffs.count() == 3
