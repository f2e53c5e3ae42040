"""The construction gates in the trade's order, through the services, the API and the pages: covered works
wait for their inspection, tiling waits for the closed-water test, the final acceptance waits for QC's
pre-inspection and invites the homeowner, the handover waits for every phase and inspection — and only a
firm admin lifts a gate, with a reason."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.translation import override
from PIL import Image

from contracts.models import Instalment
from renocrm.audit.models import AuditEvent
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.test_services import signed_contract
from tests.factories import MembershipFactory, TenantFactory
from tests.worksites.factories import finish_construction
from worksites.models import GateOverride, Handover, Inspection, Phase, PhaseKind
from worksites.selectors import gates as selectors
from worksites.services import gates, handover, inspections, schedule

pytestmark = pytest.mark.usefixtures("english")

K = Inspection.Kind
SCHEDULE = [
    {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
    {"kind": "final", "amount": "5616.63", "trigger": "acceptance", "due_days_after_trigger": 3},
]


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a), override("en"):
        yield firm_a


@pytest.fixture
def crew(firm):
    roles = ("qc", "project_manager", "designer", "admin", "sales", "finance")
    return {role: MembershipFactory(tenant=firm, role=role).user for role in roles}


@pytest.fixture
def worksite(firm):
    return schedule.worksite_open(contract=signed_contract())


def png(name="signed.png"):
    out = BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def phase(worksite, kind) -> Phase:
    return worksite.phases.get(kind=kind)


def refusal(call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        call(**kwargs)
    return refused.value


def pass_inspection(worksite, kind, crew, *, water_hours=None, homeowner=True):
    """Schedule ``kind``, have each party sign (the homeowner on paper, recorded by the foreman) and pass it."""
    inspection = inspections.inspection_schedule(worksite=worksite, kind=kind, created_by=crew["project_manager"])
    signer = {"qc_inspector": crew["qc"], "site_manager": crew["project_manager"], "designer": crew["designer"]}
    for role in inspection.required_roles:
        if role == "homeowner":
            if homeowner:
                inspections.inspection_sign(
                    inspection=inspection,
                    role=role,
                    signed_name="王芳",
                    user=crew["project_manager"],
                    paper_photo=png(),
                )
        else:
            inspections.inspection_sign(inspection=inspection, role=role, signed_name="", user=signer[role])
    if kind == K.CONCEALED_WORKS:
        inspections.inspection_attach_circuit_diagram(inspection=inspection, upload=png("circuits.png"))
    return inspections.inspection_record_result(
        inspection=inspection, passed=True, findings="", decided_by=crew["qc"], water_hours=water_hours
    )


# Covered works wait for their inspection -------------------------------------------------------------------


def test_tiling_waits_for_the_concealed_works_and_the_closed_water_test(worksite, crew):
    tiling = phase(worksite, PhaseKind.MASONRY)
    assert (tiling.covers_concealed_works, tiling.covers_waterproofing) == (True, True)
    refused = refusal(schedule.phase_start, phase=tiling)
    assert [error.code for error in refused.error_list] == ["gate_concealed_works", "gate_waterproofing"]
    assert "the concealed-works inspection must pass first" in refused.messages[0]

    pass_inspection(worksite, K.CONCEALED_WORKS, crew)
    refused = refusal(schedule.phase_start, phase=tiling)
    assert [error.code for error in refused.error_list] == ["gate_waterproofing"]
    carpentry = schedule.phase_start(phase=phase(worksite, PhaseKind.CARPENTRY))  # covers concealed works only
    assert carpentry.status == Phase.Status.IN_PROGRESS

    pass_inspection(worksite, K.WATERPROOFING_TEST, crew, water_hours=48)
    assert schedule.phase_start(phase=tiling).status == Phase.Status.IN_PROGRESS


def test_finishing_a_planned_covering_phase_is_held_by_the_same_gate(worksite, crew):
    painting = phase(worksite, PhaseKind.PAINTING)
    assert "gate_concealed_works" in [e.code for e in refusal(schedule.phase_complete, phase=painting).error_list]
    painting.refresh_from_db()
    assert painting.status == Phase.Status.PLANNED and painting.actual_start is None


def test_the_closed_water_test_passes_only_after_the_firms_minimum_hours(worksite, crew):
    with pytest.raises(ValidationError) as refused:
        pass_inspection(worksite, K.WATERPROOFING_TEST, crew, water_hours=None)
    assert "water_hours" in refused.value.message_dict
    pending = Inspection.objects.get(kind=K.WATERPROOFING_TEST, result="pending")
    short = refusal(
        inspections.inspection_record_result,
        inspection=pending,
        passed=True,
        findings="",
        decided_by=crew["qc"],
        water_hours=24,
    )
    assert "at least 48 hours" in short.message_dict["water_hours"][0]
    gates.construction_settings_update(closed_water_hours=72, pre_inspection_days_before=7)
    assert (
        "at least 72 hours"
        in refusal(
            inspections.inspection_record_result,
            inspection=pending,
            passed=True,
            findings="",
            decided_by=crew["qc"],
            water_hours=48,
        ).message_dict["water_hours"][0]
    )
    # A test that leaked fails with what was seen, hours or not.
    failed = inspections.inspection_record_result(
        inspection=pending, passed=False, findings="Damp patch under the basin", decided_by=crew["qc"]
    )
    assert failed.result == "failed" and failed.water_hours is None
    passed = pass_inspection(worksite, K.WATERPROOFING_TEST, crew, water_hours=72)
    assert (passed.result, passed.water_hours) == ("passed", 72)


def test_construction_settings_are_checked(firm):
    refused = refusal(gates.construction_settings_update, closed_water_hours=12, pre_inspection_days_before=0)
    assert set(refused.message_dict) == {"closed_water_hours", "pre_inspection_days_before"}
    assert gates.construction_settings_get().closed_water_hours == 48


def test_the_mid_term_inspection_is_signed_by_homeowner_foreman_designer_and_qc(worksite, crew):
    inspection = inspections.inspection_schedule(worksite=worksite, kind=K.MID_TERM, created_by=None)
    assert set(inspection.required_roles) == {"homeowner", "site_manager", "designer", "qc_inspector"}
    inspections.inspection_sign(inspection=inspection, role="designer", signed_name="", user=crew["designer"])
    inspections.inspection_sign(
        inspection=inspection, role="site_manager", signed_name="", user=crew["project_manager"]
    )
    inspections.inspection_sign(inspection=inspection, role="qc_inspector", signed_name="", user=crew["qc"])
    missing = refusal(
        inspections.inspection_record_result, inspection=inspection, passed=True, findings="", decided_by=crew["qc"]
    )
    assert "Still to sign: Homeowner." in missing.messages[0]


# The QC pre-inspection and the final acceptance --------------------------------------------------------------


def test_the_pre_inspection_is_planned_before_completion_and_moves_with_the_schedule(worksite, crew):
    planned = Inspection.objects.get(worksite=worksite, kind=K.QC_PRE_INSPECTION)
    last = worksite.phases.order_by("-planned_end").first()
    assert (planned.auto_scheduled, planned.scheduled_on) == (True, last.planned_end - timedelta(days=7))
    assert not OutboxEvent.objects.filter(event_type="inspection.scheduled").exists()

    schedule.phase_reschedule(
        phase=last, planned_start=last.planned_start + timedelta(days=10), planned_end=last.planned_end + timedelta(10)
    )
    planned.refresh_from_db()
    assert planned.scheduled_on == last.planned_end + timedelta(days=3)

    # Staff who schedule it themselves take it over: the same row, their date, no longer moved.
    day = firm_today() + timedelta(days=20)
    taken = inspections.inspection_schedule(
        worksite=worksite, kind=K.QC_PRE_INSPECTION, created_by=crew["qc"], scheduled_on=day
    )
    assert (taken.pk, taken.auto_scheduled, taken.scheduled_on) == (planned.pk, False, day)
    schedule.phase_reschedule(phase=last, planned_start=last.planned_start, planned_end=last.planned_end)
    taken.refresh_from_db()
    assert taken.scheduled_on == day
    assert Inspection.objects.filter(worksite=worksite, kind=K.QC_PRE_INSPECTION).count() == 1


def test_the_final_acceptance_waits_for_the_pre_inspection_and_invites_the_homeowner(
    worksite, crew, django_capture_on_commit_callbacks
):
    refused = refusal(
        inspections.inspection_schedule, worksite=worksite, kind=K.FINAL_ACCEPTANCE, created_by=crew["qc"]
    )
    assert "QC pre-inspection must pass" in refused.message_dict["kind"][0]
    pass_inspection(worksite, K.QC_PRE_INSPECTION, crew)
    day = firm_today() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        final = inspections.inspection_schedule(
            worksite=worksite, kind=K.FINAL_ACCEPTANCE, created_by=crew["project_manager"], scheduled_on=day
        )
    assert set(final.required_roles) == {"homeowner", "qc_inspector", "site_manager", "designer"}
    [invite] = Notification.objects.filter(idempotency_key=f"final-acceptance-invite:{final.pk}")
    assert invite.recipient == worksite.project.customer.mobile
    assert day.isoformat() in invite.body and "/portal/" in invite.body
    # Dispatching the event again sends nothing more.
    [event] = OutboxEvent.objects.filter(event_type="inspection.scheduled", payload__inspection_id=final.pk)
    from worksites.services.portal import on_inspection_scheduled

    on_inspection_scheduled(event)
    assert Notification.objects.filter(idempotency_key__startswith="final-acceptance-invite:").count() == 1


# The handover waits for construction -----------------------------------------------------------------------


def test_the_handover_lists_unfinished_phases_and_missing_inspections_until_construction_is_done(firm, crew):
    worksite = schedule.worksite_open(contract=signed_contract(instalments=SCHEDULE))
    started = handover.handover_start(worksite=worksite, started_by=crew["project_manager"])
    reasons = selectors.handover_gate_blockers(worksite)
    assert [r.code for r in reasons] == ["phases_unfinished", "inspections_not_passed"]
    assert "11 of 12 phases are not finished" in reasons[0].messages[0]

    finish_construction(worksite)
    assert selectors.handover_gate_blockers(worksite) == []
    final = Instalment.objects.get(contract=worksite.contract, kind="final")
    assert final.due_on == firm_today() + timedelta(days=3), "due 3 days after the final acceptance"
    for item in started.items.all():
        handover.acceptance_item_check(item=item, passed=True, checked_by=crew["qc"])
    from tests.worksites.test_handover_services import add_required_documents

    add_required_documents(started, crew["project_manager"])
    done = handover.handover_complete(handover=started, completed_by=crew["project_manager"])
    assert done.handed_over_on == firm_today()
    [event] = OutboxEvent.objects.filter(event_type="project.handed_over")
    assert event.payload["accepted_on"] == firm_today().isoformat()


def test_a_phase_awaiting_the_homeowners_sign_off_is_not_finished(firm, crew):
    worksite = schedule.worksite_open(contract=signed_contract())
    finish_construction(worksite)
    signed_off = worksite.phases.filter(requires_acceptance=True).exclude(kind=PhaseKind.COMPLETION_ACCEPTANCE)
    signed_off.filter(kind=PhaseKind.TECHNICAL_HANDOVER).update(status=Phase.Status.DONE, accepted_at=None)
    [reason] = selectors.handover_gate_blockers(worksite)
    assert reason.code == "phases_unfinished" and "1 of 12" in reason.messages[0]


# Only a firm admin lifts a gate --------------------------------------------------------------------------------


def test_only_a_firm_admin_lifts_a_gate_with_a_reason(worksite, crew):
    reason = "Floor tiles laid dry on the homeowner's written request"
    for role in ("project_manager", "qc", "designer", "sales", "finance"):
        refused = refusal(gates.gate_override, worksite=worksite, gate="waterproofing", reason=reason, by=crew[role])
        assert refused.message_dict["gate"] == ["Only a firm admin may lift a gate."], role
    assert (
        "gate"
        in refusal(gates.gate_override, worksite=worksite, gate="waterproofing", reason=reason, by=None).message_dict
    )
    outsider = MembershipFactory(role="admin", tenant=TenantFactory()).user  # another firm's admin
    refusal(gates.gate_override, worksite=worksite, gate="waterproofing", reason=reason, by=outsider)
    short = refusal(gates.gate_override, worksite=worksite, gate="waterproofing", reason=" ok ", by=crew["admin"])
    assert "reason" in short.message_dict
    assert (
        "gate"
        in refusal(gates.gate_override, worksite=worksite, gate="roof", reason=reason, by=crew["admin"]).message_dict
    )
    assert not GateOverride.objects.exists()

    pass_inspection(worksite, K.CONCEALED_WORKS, crew)
    override = gates.gate_override(worksite=worksite, gate="waterproofing", reason=reason, by=crew["admin"])
    assert schedule.phase_start(phase=phase(worksite, PhaseKind.MASONRY)).status == Phase.Status.IN_PROGRESS
    again = refusal(gates.gate_override, worksite=worksite, gate="waterproofing", reason=reason, by=crew["admin"])
    assert "already lifted" in again.message_dict["gate"][0]
    [event] = OutboxEvent.objects.filter(event_type="worksite.gate_overridden")
    assert event.payload == {
        "worksite_id": worksite.pk,
        "project_id": worksite.project_id,
        "gate": "waterproofing",
        "reason": reason,
    }
    assert AuditEvent.objects.filter(table_name="worksites_gateoverride", row_id=str(override.pk)).exists()
    [row] = [r for r in selectors.gate_rows(worksite, list(worksite.phases.all())) if r.gate == "waterproofing"]
    assert (row.state, row.override) == ("lifted", override)


def test_a_lifted_handover_gate_leaves_the_checklist_and_documents(firm, crew):
    worksite = schedule.worksite_open(contract=signed_contract())
    started = handover.handover_start(worksite=worksite, started_by=crew["project_manager"])
    gates.gate_override(
        worksite=worksite, gate="handover", reason="Homeowner moved in; snagging agreed in writing", by=crew["admin"]
    )
    refused = refusal(handover.handover_complete, handover=started, completed_by=crew["admin"])
    assert [e.code for e in refused.error_list] == ["unchecked", "documents_missing"]
    assert Handover.objects.get(pk=started.pk).status == Handover.Status.IN_PROGRESS


def test_gate_rows_show_each_gates_state(worksite, crew):
    rows = {row.gate: row for row in selectors.gate_rows(worksite, list(worksite.phases.all()))}
    assert {gate: row.state for gate, row in rows.items()} == {
        "concealed_works": "waiting",
        "waterproofing": "waiting",
        "pre_inspection": "waiting",
        "handover": "waiting",
    }
    assert phase(worksite, PhaseKind.MASONRY).name in rows["waterproofing"].reasons[0]
    pass_inspection(worksite, K.CONCEALED_WORKS, crew)
    rows = {row.gate: row for row in selectors.gate_rows(worksite, list(worksite.phases.all()))}
    assert rows["concealed_works"].state == "clear" and rows["concealed_works"].reasons == []


# Through the API and the pages ---------------------------------------------------------------------------------


def staff_client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_api_refuses_a_gated_start_and_lists_overrides_read_only(firm_a, partner):
    with tenant_context(firm_a):
        worksite = schedule.worksite_open(contract=signed_contract())
        tiling = phase(worksite, PhaseKind.MASONRY)
        admin = MembershipFactory(tenant=firm_a, role="admin").user
        gates.gate_override(
            worksite=worksite, gate="concealed_works", reason="Surveyed by the building's own QC", by=admin
        )
        waterproofing = inspections.inspection_schedule(worksite=worksite, kind=K.WATERPROOFING_TEST, created_by=None)
    api = Client(HTTP_ACCEPT_LANGUAGE="en", **partner.headers)
    started = api.post(f"/api/v1/phases/{tiling.pk}/start/", {}, content_type="application/json")
    assert started.status_code == 400
    assert "closed-water test must pass first" in started.json()["error"]["fields"]["non_field_errors"][0]
    listed = api.get("/api/v1/gate-overrides/", {"worksite": worksite.pk}).json()["results"]
    assert [(o["gate"], o["overridden_by"]) for o in listed] == [("concealed_works", admin.pk)]
    created = api.post(
        "/api/v1/gate-overrides/", {"worksite": worksite.pk, "gate": "handover", "reason": "x" * 20}, "application/json"
    )
    assert created.status_code == 405
    result = api.post(
        f"/api/v1/inspections/{waterproofing.pk}/result/",
        {"passed": True, "water_hours": -1},
        content_type="application/json",
    )
    assert result.status_code == 400 and "water_hours" in result.json()["error"]["fields"]


def test_the_worksite_page_shows_the_gates_and_only_an_admin_lifts_one(firm_a):
    with tenant_context(firm_a):
        worksite = schedule.worksite_open(contract=signed_contract())
        tiling = phase(worksite, PhaseKind.MASONRY)
        admin = MembershipFactory(tenant=firm_a, role="admin").user
        foreman = MembershipFactory(tenant=firm_a, role="project_manager").user
    page = staff_client(foreman).get(f"/worksites/{worksite.pk}/")
    assert page.status_code == 200 and b'data-testid="gate-waterproofing"' in page.content
    assert b"Lift a gate" not in page.content
    lift = {"gate": "waterproofing", "reason": "Floor tiles laid dry at the homeowner request, in writing"}
    assert staff_client(foreman).post(f"/worksites/{worksite.pk}/gates/lift/", lift).status_code == 403
    refused = staff_client(foreman).post(f"/worksites/phases/{tiling.pk}/start/", follow=True)
    assert b"the concealed-works inspection must pass first" in refused.content

    as_admin = staff_client(admin)
    assert b"Lift a gate" in as_admin.get(f"/worksites/{worksite.pk}/").content
    short = as_admin.post(f"/worksites/{worksite.pk}/gates/lift/", {**lift, "reason": "ok"}, follow=True)
    assert b"at least 10 characters" in short.content
    lifted = as_admin.post(f"/worksites/{worksite.pk}/gates/lift/", lift, follow=True)
    assert lifted.status_code == 200 and lift["reason"].encode() in lifted.content
    with tenant_context(firm_a):
        assert GateOverride.objects.get().overridden_by == admin


def test_the_construction_settings_page_is_the_admins(firm_a):
    with tenant_context(firm_a):
        admin = MembershipFactory(tenant=firm_a, role="admin").user
        foreman = MembershipFactory(tenant=firm_a, role="project_manager").user
    url = "/worksites/construction-settings/"
    settings = {
        "closed_water_hours": 72,
        "pre_inspection_days_before": 5,
        "inspection_notice_days": 2,
        "inspection_staff_reminder_days": 1,
    }
    assert staff_client(foreman).post(url, settings).status_code == 403
    bad = staff_client(admin).post(url, {**settings, "closed_water_hours": 12})
    assert bad.status_code == 200 and bad.context["form"].errors["closed_water_hours"]
    unknown = staff_client(admin).post(url, {**settings, "inspection_notice": "See you {when}"})
    assert "{when}" in unknown.context["form"].errors["inspection_notice"][0]
    assert staff_client(admin).post(url, settings).status_code == 302
    with tenant_context(firm_a):
        saved = gates.construction_settings_get()
        assert (saved.closed_water_hours, saved.inspection_notice_days, saved.inspection_notice) == (72, 2, "")


def test_a_handed_over_worksite_shows_what_was_not_recorded_not_what_waits(worksite, crew):
    pass_inspection(worksite, K.CONCEALED_WORKS, crew)
    gates.gate_override(
        worksite=worksite, gate="handover", reason="Records kept on paper before RenoCRM", by=crew["admin"]
    )
    worksite.status = worksite.Status.HANDED_OVER
    worksite.save(update_fields=["status"])
    rows = {row.gate: row for row in selectors.gate_rows(worksite, list(worksite.phases.all()))}
    assert {gate: row.state for gate, row in rows.items()} == {
        "concealed_works": "clear",
        "waterproofing": "unrecorded",
        "pre_inspection": "unrecorded",
        "handover": "lifted",
    }
    assert rows["waterproofing"].reasons == []
