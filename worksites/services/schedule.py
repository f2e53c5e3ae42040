"""Writes for worksites: opening one when a contract is signed, the crew, the phase schedule and its
template, stage acceptance and the technical handover. One transaction each."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, Instalment, Project
from contracts.services.payments import instalments_fall_due
from renocrm.accounts.roles import AGENT_ROLES, Role
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.defaults import firm_copy_get
from renocrm.tenancy.time import firm_today
from worksites.models import Inspection, Phase, PhaseKind, PhaseTemplate, TechnicalHandover, Worksite
from worksites.selectors.gates import phase_start_blockers
from worksites.services.gates import construction_settings_get

K = PhaseKind
# The schedule a firm starts with: (kind, days, the homeowner signs off). Firms edit their own copy.
DEFAULT_TEMPLATE = [
    (K.TECHNICAL_HANDOVER, 1, True),
    (K.DEMOLITION, 5, False),
    (K.PLUMBING_ELECTRICAL, 10, False),
    (K.CONCEALED_WORKS_INSPECTION, 1, True),
    (K.WATERPROOFING_TEST, 3, True),
    (K.MASONRY, 15, False),
    (K.CARPENTRY, 12, False),
    (K.MID_TERM_INSPECTION, 1, False),
    (K.PAINTING, 10, False),
    (K.INSTALLATION, 7, False),
    (K.QC_PRE_INSPECTION, 2, False),
    (K.COMPLETION_ACCEPTANCE, 1, True),
]
# What the default phases cover (concealed works, waterproofing): they wait for that inspection to pass.
DEFAULT_COVERS = {K.MASONRY: (True, True), K.CARPENTRY: (True, False), K.PAINTING: (True, False)}
COVER_FIELDS = ("covers_concealed_works", "covers_waterproofing")


def phase_templates_get() -> list[PhaseTemplate]:
    """The firm's template, created from the default the first time it is needed."""
    return firm_copy_get(
        PhaseTemplate,
        default=lambda: [
            PhaseTemplate(
                position=n,
                kind=kind,
                name=str(K(kind).label),
                duration_days=days,
                requires_acceptance=sign,
                **dict(zip(COVER_FIELDS, DEFAULT_COVERS.get(kind, (False, False)), strict=True)),
            )
            for n, (kind, days, sign) in enumerate(DEFAULT_TEMPLATE, start=1)
        ],
    )


@transaction.atomic
def phase_templates_replace(*, rows: list[dict]) -> list[PhaseTemplate]:
    """Replace the firm's template; worksites already open keep their phases."""
    if not rows:
        raise ValidationError(_("A schedule needs at least one phase."))
    for row in rows:
        if not 1 <= int(row["duration_days"]) <= 365:
            raise ValidationError({"duration_days": _("A phase lasts from 1 to 365 days.")})
    PhaseTemplate.objects.all().delete()
    return PhaseTemplate.objects.bulk_create(
        [
            PhaseTemplate(
                position=n,
                kind=row["kind"],
                name=row["name"],
                duration_days=row["duration_days"],
                requires_acceptance=row.get("requires_acceptance", False),
                covers_concealed_works=row.get("covers_concealed_works", False),
                covers_waterproofing=row.get("covers_waterproofing", False),
            )
            for n, row in enumerate(rows, start=1)
        ]
    )


def _schedule(start: date, templates: list[PhaseTemplate]) -> list[Phase]:
    """Phases one after another from the planned start, each taking its template's days (calendar days:
    crews work weekends)."""
    phases, day = [], start
    for template in templates:
        end = day + timedelta(days=template.duration_days - 1)
        phases.append(
            Phase(
                position=template.position,
                kind=template.kind,
                name=template.name,
                planned_start=day,
                planned_end=end,
                requires_acceptance=template.requires_acceptance,
                covers_concealed_works=template.covers_concealed_works,
                covers_waterproofing=template.covers_waterproofing,
            )
        )
        day = end + timedelta(days=1)
    return phases


@transaction.atomic
def worksite_open(*, contract: Contract) -> Worksite:
    """Open the contract's worksite with its phase schedule. Safe to call twice: the project has one
    worksite (a unique key), and a second call returns it."""
    existing = Worksite.objects.filter(project_id=contract.project_id).first()
    if existing is not None:
        return existing
    lead = contract.project.lead
    try:
        with transaction.atomic():
            worksite = Worksite.objects.create(
                project_id=contract.project_id, contract=contract, designer=lead.designer
            )
    except IntegrityError:
        return Worksite.objects.get(project_id=contract.project_id)
    phases = _schedule(contract.planned_start, phase_templates_get())
    for phase in phases:
        phase.worksite = worksite
    Phase.objects.bulk_create(phases)
    _pre_inspection_plan(worksite)
    return worksite


def _pre_inspection_plan(worksite: Worksite) -> None:
    """QC pre-inspects the works a set number of days before the planned completion (工程竣工前一周，质检
    进行预验收). Scheduled when the worksite opens and moved with the schedule while it waits; staff who
    schedule it themselves take it over."""
    span = worksite.phases.aggregate(start=Min("planned_start"), end=Max("planned_end"))
    if span["end"] is None:
        return
    day = max(span["start"], span["end"] - timedelta(days=construction_settings_get().pre_inspection_days_before))
    pre_inspections = worksite.inspections.filter(kind=Inspection.Kind.QC_PRE_INSPECTION)
    if not pre_inspections.exists():
        Inspection.objects.create(
            worksite=worksite, kind=Inspection.Kind.QC_PRE_INSPECTION, scheduled_on=day, auto_scheduled=True
        )
    else:
        pre_inspections.filter(result=Inspection.Result.PENDING, auto_scheduled=True).exclude(scheduled_on=day).update(
            scheduled_on=day
        )


def on_contract_signed(event) -> None:
    """Outbox handler: a signed contract opens its worksite."""
    contract = Contract.objects.select_related("project__lead").filter(pk=event.payload["contract_id"]).first()
    if contract is not None:
        worksite_open(contract=contract)


CREW_ROLES = {
    "designer": {Role.DESIGNER, Role.ADMIN},
    "project_manager": {Role.PROJECT_MANAGER, Role.ADMIN},
    "qc_inspector": {Role.QC, Role.ADMIN},
    "customer_service": AGENT_ROLES,
}


@transaction.atomic
def worksite_assign_crew(
    *, worksite: Worksite, designer=None, project_manager=None, qc_inspector=None, customer_service=None
) -> Worksite:
    """The project's team. The customer-service agent is who aftercare (callbacks, repairs, complaints) goes to."""
    crew = {
        "designer": designer,
        "project_manager": project_manager,
        "qc_inspector": qc_inspector,
        "customer_service": customer_service,
    }
    for field, user in crew.items():
        require_staff_role(user, roles=CREW_ROLES[field], field=field)
    for field, user in crew.items():
        setattr(worksite, field, user)
    worksite.save(update_fields=list(crew))
    return worksite


def _locked(phase: Phase) -> Phase:
    return Phase.objects.select_for_update().select_related("worksite").get(pk=phase.pk)


@transaction.atomic
def phase_reschedule(*, phase: Phase, planned_start: date, planned_end: date) -> Phase:
    if planned_end < planned_start:
        raise ValidationError({"planned_end": _("The planned end is before the planned start.")})
    phase = _locked(phase)
    phase.planned_start, phase.planned_end = planned_start, planned_end
    phase.save(update_fields=["planned_start", "planned_end"])
    _pre_inspection_plan(phase.worksite)
    return phase


@transaction.atomic
def phase_start(*, phase: Phase, on: date | None = None) -> Phase:
    phase = _locked(phase)
    if phase.status != Phase.Status.PLANNED:
        raise ValidationError(_("This phase has already started."))
    blockers = phase_start_blockers(phase)
    if blockers:
        raise ValidationError(blockers)
    phase.status, phase.actual_start = Phase.Status.IN_PROGRESS, on or firm_today()
    phase.save(update_fields=["status", "actual_start"])
    worksite = Worksite.objects.select_for_update().get(pk=phase.worksite_id)
    if worksite.status == Worksite.Status.NOT_STARTED:
        worksite.status = Worksite.Status.IN_PROGRESS
        worksite.save(update_fields=["status"])
        Project.objects.filter(pk=worksite.project_id, status=Project.Status.SIGNED).update(
            status=Project.Status.IN_CONSTRUCTION
        )
    return phase


@transaction.atomic
def phase_complete(*, phase: Phase, on: date | None = None, notes: str = "") -> Phase:
    """The crew finishes a phase. A phase that needs the homeowner's sign-off then waits for it."""
    phase = _locked(phase)
    if phase.status == Phase.Status.PLANNED:
        phase = phase_start(phase=phase, on=on)
    if phase.status != Phase.Status.IN_PROGRESS:
        raise ValidationError(_("This phase is already finished."))
    end = on or firm_today()
    if end < phase.actual_start:
        raise ValidationError({"on": _("A phase cannot finish before it started.")})
    phase.status, phase.actual_end = Phase.Status.DONE, end
    if notes:
        phase.notes = notes
    phase.save(update_fields=["status", "actual_end", "notes"])
    event_emit(
        event_type="worksite.phase_completed",
        payload={
            "worksite_id": phase.worksite_id,
            "phase_id": phase.pk,
            "kind": phase.kind,
            "name": phase.name,
            "actual_end": end.isoformat(),
            "awaiting_acceptance": phase.requires_acceptance,
        },
    )
    return phase


@transaction.atomic
def phase_accept(*, phase: Phase, name: str, on: date | None = None) -> Phase:
    """Stage acceptance (节点验收): the homeowner signs a finished phase off; instalments tied to the
    phase fall due."""
    phase = _locked(phase)
    if not phase.requires_acceptance:
        raise ValidationError(_("This phase does not need the homeowner's sign-off."))
    if phase.status != Phase.Status.DONE:
        raise ValidationError(_("Only a finished phase can be accepted."))
    if not name.strip():
        raise ValidationError({"name": _("Give the name of the person signing off.")})
    phase.status, phase.accepted_at, phase.accepted_name = Phase.Status.ACCEPTED, timezone.now(), name.strip()
    phase.save(update_fields=["status", "accepted_at", "accepted_name"])
    contract = Contract.objects.get(pk=phase.worksite.contract_id)
    instalments_fall_due(
        contract=contract, trigger=Instalment.Trigger.PHASE_ACCEPTANCE, on=on or firm_today(), phase=phase.kind
    )
    return phase


@transaction.atomic
def technical_handover_record(*, worksite: Worksite, held_on: date, existing_facilities: str, by=None, **fields):
    if TechnicalHandover.objects.filter(worksite=worksite).exists():
        raise ValidationError(_("The technical handover of this worksite is already recorded."))
    if not existing_facilities.strip():
        raise ValidationError({"existing_facilities": _("Record the state of the existing facilities.")})
    try:
        with transaction.atomic():
            return TechnicalHandover.objects.create(
                worksite=worksite, held_on=held_on, existing_facilities=existing_facilities, recorded_by=by, **fields
            )
    except IntegrityError:  # recorded by someone else a moment ago
        raise ValidationError(_("The technical handover of this worksite is already recorded.")) from None
