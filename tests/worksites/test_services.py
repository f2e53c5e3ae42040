from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contracts.models import Instalment, Project
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_services import PAINT, TILES, WIRING, signed_contract
from tests.factories import MembershipFactory
from worksites.models import Phase, PhaseKind, PhaseTemplate, Worksite
from worksites.services import schedule as services

START = date(2026, 12, 1)  # signed_contract plans the work from 1 December 2026


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def test_signing_opens_the_worksite_with_the_default_schedule(firm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = signed_contract()
    worksite = Worksite.objects.get(project=contract.project)
    phases = list(worksite.phases.all())
    assert [p.kind for p in phases] == [kind for kind, _, _ in services.DEFAULT_TEMPLATE]
    assert phases[0].planned_start == START and phases[0].planned_end == START
    # Back to back: each phase starts the day after the previous one ends.
    assert all(b.planned_start == a.planned_end + timedelta(days=1) for a, b in zip(phases, phases[1:]))
    assert phases[1].planned_end == START + timedelta(days=5)  # demolition: 5 days from 2 December
    assert [p.kind for p in phases if p.requires_acceptance] == [
        PhaseKind.TECHNICAL_HANDOVER,
        PhaseKind.CONCEALED_WORKS_INSPECTION,
        PhaseKind.WATERPROOFING_TEST,
        PhaseKind.COMPLETION_ACCEPTANCE,
    ]


def test_opening_twice_creates_one_worksite(firm):
    contract = signed_contract()
    first = services.worksite_open(contract=contract)
    assert services.worksite_open(contract=contract) == first
    assert Worksite.objects.count() == 1 and Phase.objects.count() == len(services.DEFAULT_TEMPLATE)


def test_a_firms_edited_template_shapes_the_next_worksite_only(firm):
    running = services.worksite_open(contract=signed_contract(number="HT-1"))
    services.phase_templates_replace(
        rows=[
            {"kind": "demolition", "name": "拆改", "duration_days": 3},
            {"kind": "carpentry", "name": "木工", "duration_days": 20, "requires_acceptance": True},
        ]
    )
    fresh = services.worksite_open(contract=signed_contract(number="HT-2"))
    assert [(p.name, p.planned_start, p.planned_end) for p in fresh.phases.all()] == [
        ("拆改", START, START + timedelta(days=2)),
        ("木工", START + timedelta(days=3), START + timedelta(days=22)),
    ]
    assert running.phases.count() == len(services.DEFAULT_TEMPLATE)
    with pytest.raises(ValidationError):
        services.phase_templates_replace(rows=[{"kind": "demolition", "name": "x", "duration_days": 0}])
    assert PhaseTemplate.objects.count() == 2


def test_starting_work_moves_the_project_into_construction(firm):
    worksite = services.worksite_open(contract=signed_contract())
    phase = worksite.phases.get(position=2)
    services.phase_start(phase=phase, on=date(2026, 12, 2))
    worksite.refresh_from_db()
    assert worksite.status == "in_progress"
    assert Project.objects.get(pk=worksite.project_id).status == Project.Status.IN_CONSTRUCTION
    with pytest.raises(ValidationError):
        services.phase_start(phase=phase)


def test_completing_a_phase_emits_the_event_and_refuses_an_end_before_the_start(firm):
    worksite = services.worksite_open(contract=signed_contract())
    phase = worksite.phases.get(kind=PhaseKind.DEMOLITION)
    services.phase_start(phase=phase, on=date(2026, 12, 3))
    with pytest.raises(ValidationError):
        services.phase_complete(phase=phase, on=date(2026, 12, 2))
    services.phase_complete(phase=phase, on=date(2026, 12, 8))
    phase.refresh_from_db()
    assert (phase.status, phase.actual_end) == ("done", date(2026, 12, 8))
    event = OutboxEvent.objects.get(event_type="worksite.phase_completed")
    assert event.payload["phase_id"] == phase.pk and event.payload["awaiting_acceptance"] is False
    with pytest.raises(ValidationError):
        services.phase_complete(phase=phase)


def test_stage_acceptance_makes_the_tied_instalment_due(firm):
    schedule = [
        {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "midterm", "amount": "3000.00", "trigger": "phase_acceptance", "trigger_phase": "waterproofing_test"},
        {"kind": "final", "amount": "2616.63", "trigger": "acceptance", "due_days_after_trigger": 3},
    ]
    contract = signed_contract((TILES, WIRING, PAINT), instalments=schedule)
    worksite = services.worksite_open(contract=contract)
    waterproofing = worksite.phases.get(kind=PhaseKind.WATERPROOFING_TEST)
    demolition = worksite.phases.get(kind=PhaseKind.DEMOLITION)
    with pytest.raises(ValidationError):
        services.phase_accept(phase=demolition, name="王芳")  # needs no sign-off
    with pytest.raises(ValidationError):
        services.phase_accept(phase=waterproofing, name="王芳")  # not finished yet
    services.phase_complete(phase=waterproofing, on=date(2027, 1, 5))
    services.phase_accept(phase=waterproofing, name="王芳", on=date(2027, 1, 6))
    midterm = Instalment.objects.get(contract=contract, kind="midterm")
    assert midterm.due_on == date(2027, 1, 6)
    assert Instalment.objects.get(contract=contract, kind="final").due_on is None
    payload = OutboxEvent.objects.filter(event_type="payment.due").latest("id").payload
    assert (payload["instalment_id"], payload["amount"]) == (midterm.pk, str(Decimal("3000.00")))


def test_a_phase_acceptance_instalment_must_name_its_phase(firm):
    schedule = [
        {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "final", "amount": "5616.63", "trigger": "phase_acceptance"},
    ]
    with pytest.raises(ValidationError) as refused:
        signed_contract((TILES, WIRING, PAINT), instalments=schedule)
    assert "instalments" in refused.value.message_dict


def test_crew_must_be_firm_members_in_fitting_roles(firm, firm_b):
    worksite = services.worksite_open(contract=signed_contract())
    foreman = MembershipFactory(tenant=firm, role="project_manager").user
    outsider = MembershipFactory(tenant=firm_b, role="project_manager").user
    qc = MembershipFactory(tenant=firm, role="qc").user
    with pytest.raises(ValidationError) as refused:
        services.worksite_assign_crew(worksite=worksite, project_manager=outsider)
    assert "project_manager" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.worksite_assign_crew(worksite=worksite, project_manager=qc)
    services.worksite_assign_crew(worksite=worksite, project_manager=foreman, qc_inspector=qc)
    worksite.refresh_from_db()
    assert (worksite.project_manager, worksite.qc_inspector) == (foreman, qc)


def test_technical_handover_is_recorded_once(firm):
    worksite = services.worksite_open(contract=signed_contract())
    with pytest.raises(ValidationError):
        services.technical_handover_record(worksite=worksite, held_on=START, existing_facilities=" ")
    services.technical_handover_record(
        worksite=worksite, held_on=START, existing_facilities="墙面空鼓两处", drawings_given=True, quotation_given=True
    )
    with pytest.raises(ValidationError):
        services.technical_handover_record(worksite=worksite, held_on=START, existing_facilities="again")


@pytest.mark.parametrize(("language", "name"), [("zh-hans", "拆改"), ("en", "Demolition")])
def test_the_default_template_is_written_in_the_firms_language(firm_a, language, name):
    firm_a.language = language
    firm_a.save()
    with tenant_context(firm_a):
        templates = services.phase_templates_get()
    assert templates[1].name == name
