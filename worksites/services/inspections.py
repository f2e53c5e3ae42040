"""Writes for inspections and their sign-offs, material arrivals, site patrols and site problems. One
transaction each; a refusal is a ValidationError naming the field to blame where there is one."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, Instalment
from contracts.services.payments import instalments_fall_due
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.time import firm_now, firm_today
from renocrm.uploads import IMAGE, PDF, clean_upload
from worksites.models import (
    Inspection,
    MaterialArrival,
    Phase,
    PortalLink,
    ProblemSolution,
    Signoff,
    SitePatrol,
    SiteProblem,
    Worksite,
)
from worksites.selectors.gates import final_acceptance_blockers
from worksites.services import media
from worksites.services.gates import construction_settings_get
from worksites.services.schedule import CREW_ROLES
from worksites.services.signing import (
    ALL_STAFF,
    check_portal_link,
    display_name,
    labels,
    signoff_create,
)

PATROL_ROLES = {
    SitePatrol.Role.DESIGNER: CREW_ROLES["designer"],
    SitePatrol.Role.FOREMAN: CREW_ROLES["project_manager"],
    SitePatrol.Role.QC_INSPECTOR: CREW_ROLES["qc_inspector"],
}


def _check_phase(worksite: Worksite, phase: Phase | None) -> None:
    if phase is not None and phase.worksite_id != worksite.pk:
        raise ValidationError({"phase": _("That phase belongs to another worksite.")})


# Inspections ----------------------------------------------------------------------------------------------


@transaction.atomic
def inspection_schedule(
    *,
    worksite: Worksite,
    kind: str,
    created_by,
    scheduled_on: date | None = None,
    scheduled_time: time | None = None,
    phase=None,
):
    """Schedule an inspection. The final acceptance waits for QC's pre-inspection to pass; scheduling it
    invites the homeowner (``inspection.scheduled``). A pre-inspection the system planned is taken over."""
    if kind not in Inspection.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of inspection.")})
    if scheduled_time is not None and scheduled_on is None:
        raise ValidationError({"scheduled_on": _("Give the date as well as the time.")})
    _check_phase(worksite, phase)
    if kind == Inspection.Kind.FINAL_ACCEPTANCE:
        blockers = final_acceptance_blockers(worksite.pk)
        if blockers:
            raise ValidationError({"kind": blockers})
    # A failed inspection is redone by scheduling a new one; two open ones of a kind would split the
    # signatures between them.
    pending = Inspection.objects.select_for_update().filter(
        worksite=worksite, kind=kind, result=Inspection.Result.PENDING
    )
    planned = pending.filter(auto_scheduled=True).first()
    if planned is not None:
        planned.scheduled_on, planned.scheduled_time = scheduled_on, scheduled_time
        planned.phase, planned.created_by, planned.auto_scheduled = phase, created_by, False
        planned.save(update_fields=["scheduled_on", "scheduled_time", "phase", "created_by", "auto_scheduled"])
        return planned
    waiting = ValidationError(
        {"kind": _("A %(kind)s is already waiting for its result.") % {"kind": Inspection.Kind(kind).label}}
    )
    if pending.exists():
        raise waiting
    try:
        with transaction.atomic():  # the unique key decides between two requests at the same moment
            inspection = Inspection.objects.create(
                worksite=worksite,
                kind=kind,
                scheduled_on=scheduled_on,
                scheduled_time=scheduled_time,
                phase=phase,
                created_by=created_by,
            )
    except IntegrityError:
        raise waiting from None
    event_emit(
        event_type="inspection.scheduled",
        payload={
            "inspection_id": inspection.pk,
            "worksite_id": worksite.pk,
            "project_id": worksite.project_id,
            "kind": kind,
            "scheduled_on": scheduled_on.isoformat() if scheduled_on else None,
        },
    )
    return inspection


def _locked_inspection(inspection: Inspection) -> Inspection:
    return Inspection.objects.select_for_update(of=("self",)).select_related("worksite").get(pk=inspection.pk)


def _require_pending(inspection: Inspection) -> None:
    if inspection.result != Inspection.Result.PENDING:
        raise ValidationError(
            _("This inspection is already decided (%(result)s); schedule a new one to inspect again.")
            % {"result": inspection.get_result_display()}
        )


@transaction.atomic
def inspection_attach_circuit_diagram(*, inspection: Inspection, upload) -> Inspection:
    """The as-laid circuit diagram (a photo or a PDF); a later upload replaces it until the result."""
    inspection = _locked_inspection(inspection)
    _require_pending(inspection)
    try:
        cleaned = clean_upload(upload, accept={IMAGE, PDF})
    except ValidationError as error:
        raise ValidationError({"circuit_diagram": error.messages}) from None
    inspection.circuit_diagram.save(cleaned.content.name, cleaned.content, save=False)
    inspection.save(update_fields=["circuit_diagram"])
    return inspection


@transaction.atomic
def inspection_sign(
    *,
    inspection: Inspection,
    role: str,
    signed_name: str,
    user=None,
    portal_link: PortalLink | None = None,
    ip_address: str | None = None,
    note: str = "",
    paper_photo=None,
) -> Signoff:
    inspection = _locked_inspection(inspection)
    if role not in inspection.required_roles:
        raise ValidationError(
            {
                "role": _("A %(kind)s is signed by %(roles)s.")
                % {"kind": inspection.get_kind_display(), "roles": labels(inspection.required_roles)}
            }
        )
    _require_pending(inspection)
    return signoff_create(
        inspection,
        role=role,
        signed_name=signed_name,
        user=user,
        portal_link=portal_link,
        ip_address=ip_address,
        note=note,
        paper_photo=paper_photo,
    )


def missing_signoffs(inspection: Inspection, signed_roles) -> list[str]:
    signed = set(signed_roles)
    return [role for role in inspection.required_roles if role not in signed]


@transaction.atomic
def inspection_record_result(
    *, inspection: Inspection, passed: bool, findings: str, decided_by, water_hours: int | None = None
) -> Inspection:
    """Pass (every required party has signed; concealed works also need the circuit diagram, a closed-water
    test the hours the water stood, at least the firm's minimum) or fail (with what failed). A passed
    mid-term inspection makes the mid-term instalments due; a passed final acceptance those due after
    acceptance (the final payment, 验收后三日内交纳尾款)."""
    inspection = _locked_inspection(inspection)
    _require_pending(inspection)
    findings = (findings or "").strip()
    if inspection.kind == Inspection.Kind.WATERPROOFING_TEST:
        _check_water_hours(water_hours, passed=passed)
        inspection.water_hours = water_hours
    if passed:
        missing = missing_signoffs(inspection, inspection.signoffs.values_list("role", flat=True))
        if missing:
            raise ValidationError(
                _("It cannot pass before everyone has signed. Still to sign: %(roles)s.") % {"roles": labels(missing)}
            )
        if inspection.kind == Inspection.Kind.CONCEALED_WORKS and not inspection.circuit_diagram:
            raise ValidationError(
                {"circuit_diagram": _("Attach the circuit diagram before the concealed works can pass.")}
            )
    elif not findings:
        raise ValidationError({"findings": _("Record what failed, so it can be put right.")})
    inspection.result = Inspection.Result.PASSED if passed else Inspection.Result.FAILED
    inspection.findings, inspection.decided_at, inspection.decided_by = findings, timezone.now(), decided_by
    inspection.save(update_fields=["result", "findings", "decided_at", "decided_by", "water_hours"])
    event_emit(
        event_type="inspection.passed" if passed else "inspection.failed",
        payload={
            "inspection_id": inspection.pk,
            "worksite_id": inspection.worksite_id,
            "project_id": inspection.worksite.project_id,
            "kind": inspection.kind,
            "findings": findings,
            "decided_at": inspection.decided_at.isoformat(),
        },
    )
    trigger = INSTALMENT_TRIGGERS.get(inspection.kind)
    if passed and trigger:
        contract = Contract.objects.get(pk=inspection.worksite.contract_id)
        instalments_fall_due(contract=contract, trigger=trigger, on=firm_today())
    return inspection


# The payments an inspection passing makes due.
INSTALMENT_TRIGGERS = {
    Inspection.Kind.MID_TERM: Instalment.Trigger.MID_INSPECTION,
    Inspection.Kind.FINAL_ACCEPTANCE: Instalment.Trigger.ACCEPTANCE,
}


def _check_water_hours(hours: int | None, *, passed: bool) -> None:
    if hours is None:
        if passed:
            raise ValidationError({"water_hours": _("Record how many hours the water stood.")})
        return
    if not 0 <= hours <= 720:
        raise ValidationError({"water_hours": _("From 0 to 720 hours.")})
    minimum = construction_settings_get().closed_water_hours
    if passed and hours < minimum:
        raise ValidationError(
            {
                "water_hours": _("The water must stand at least %(hours)d hours before the test can pass.")
                % {"hours": minimum}
            }
        )


# Material arrivals ------------------------------------------------------------------------------------------


@transaction.atomic
def material_arrival_record(
    *, worksite: Worksite, material: str, quantity, unit: str, arrived_on: date, recorded_by, brand_model: str = ""
) -> MaterialArrival:
    errors = {}
    if not (material or "").strip():
        errors["material"] = _("Name the material.")
    if not (unit or "").strip():
        errors["unit"] = _("Give the unit.")
    try:
        quantity = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity <= 0:
        errors["quantity"] = _("The quantity must be more than zero.")
    if arrived_on > firm_today():
        errors["arrived_on"] = _("The arrival date is in the future.")
    if errors:
        raise ValidationError(errors)
    return MaterialArrival.objects.create(
        worksite=worksite,
        material=material.strip(),
        brand_model=(brand_model or "").strip(),
        quantity=quantity,
        unit=unit.strip(),
        arrived_on=arrived_on,
        recorded_by=recorded_by,
    )


def _locked_arrival(arrival: MaterialArrival) -> MaterialArrival:
    arrival = MaterialArrival.objects.select_for_update().get(pk=arrival.pk)
    if arrival.status != MaterialArrival.Status.AWAITING:
        raise ValidationError(
            _("This delivery is already %(status)s.") % {"status": arrival.get_status_display().lower()}
        )
    return arrival


@transaction.atomic
def material_arrival_sign(
    *,
    arrival: MaterialArrival,
    role: str,
    signed_name: str,
    user=None,
    portal_link: PortalLink | None = None,
    ip_address: str | None = None,
    paper_photo=None,
) -> Signoff:
    """The homeowner and the QC inspector accept a delivery before it is used; with both signatures it is
    accepted."""
    if role not in MaterialArrival.REQUIRED_SIGNOFFS:
        raise ValidationError(
            {
                "role": _("A material arrival is signed by %(roles)s.")
                % {"roles": labels(MaterialArrival.REQUIRED_SIGNOFFS)}
            }
        )
    arrival = _locked_arrival(arrival)
    signoff = signoff_create(
        arrival,
        role=role,
        signed_name=signed_name,
        user=user,
        portal_link=portal_link,
        ip_address=ip_address,
        paper_photo=paper_photo,
    )
    signed = set(arrival.signoffs.values_list("role", flat=True))
    if signed.issuperset(MaterialArrival.REQUIRED_SIGNOFFS):
        arrival.status, arrival.accepted_at = MaterialArrival.Status.ACCEPTED, timezone.now()
        arrival.save(update_fields=["status", "accepted_at"])
    return signoff


@transaction.atomic
def material_arrival_reject(
    *, arrival: MaterialArrival, reason: str, signed_name: str = "", user=None, portal_link: PortalLink | None = None
) -> MaterialArrival:
    """Refuse a delivery (wrong model, damaged, short): the reason goes into the notes with who and when."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the delivery is rejected.")})
    arrival = _locked_arrival(arrival)
    name = (signed_name or "").strip()
    if portal_link is not None:
        check_portal_link(portal_link, arrival.worksite_id)
        if not name:
            raise ValidationError({"signed_name": _("Give the name of the person signing.")})
    elif user is not None:
        require_staff_role(user, roles=ALL_STAFF, field="signed_name")
        name = name or display_name(user)
    else:
        raise ValidationError(_("A delivery is rejected by a staff member or through the homeowner's portal link."))
    line = f"{firm_now():%Y-%m-%d %H:%M} {name}: {reason}"
    arrival.status = MaterialArrival.Status.REJECTED
    arrival.notes = f"{arrival.notes}\n{line}".strip()
    arrival.save(update_fields=["status", "notes"])
    return arrival


# Site patrols ------------------------------------------------------------------------------------------------


@transaction.atomic
def site_patrol_record(
    *, worksite: Worksite, role: str, patrolled_on: date, findings: str, patrolled_by, issues_found: bool = False
) -> SitePatrol:
    """A designer, foreman or QC inspector walked the site; the role is the one the person holds."""
    if role not in SitePatrol.Role.values:
        raise ValidationError({"role": _("Choose the role you patrolled in.")})
    if patrolled_by is None:
        raise ValidationError(_("A patrol is recorded by the staff member who walked the site."))
    try:
        require_staff_role(patrolled_by, roles=PATROL_ROLES[role], field="role")
    except ValidationError:
        raise ValidationError(
            {
                "role": _("%(user)s does not hold the %(role)s role.")
                % {"user": patrolled_by, "role": SitePatrol.Role(role).label}
            }
        ) from None
    errors = {}
    if not (findings or "").strip():
        errors["findings"] = _("Record what you found.")
    if patrolled_on > firm_today():
        errors["patrolled_on"] = _("The patrol date is in the future.")
    if errors:
        raise ValidationError(errors)
    return SitePatrol.objects.create(
        worksite=worksite,
        role=role,
        patrolled_on=patrolled_on,
        findings=findings.strip(),
        patrolled_by=patrolled_by,
        issues_found=bool(issues_found),
    )


# Site problems ---------------------------------------------------------------------------------------------


def _solution_rows(solutions: list[dict]) -> list[ProblemSolution]:
    rows = []
    for position, row in enumerate((s for s in solutions if (s.get("description") or "").strip()), start=1):
        try:
            cost = Decimal(str(row.get("cost_change") if row.get("cost_change") not in (None, "") else "0"))
            days = int(row.get("extra_days") or 0)
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError({"solutions": _("Give each solution's cost and extra days as numbers.")}) from None
        if not cost.is_finite() or abs(cost) >= Decimal("1e10") or not -999 <= days <= 999:
            raise ValidationError({"solutions": _("A solution's cost or extra days is out of range.")})
        rows.append(
            ProblemSolution(
                position=position,
                description=row["description"].strip(),
                cost_change=cost.quantize(Decimal("0.01")),
                extra_days=days,
            )
        )
    return rows


@transaction.atomic
def site_problem_raise(
    *,
    worksite: Worksite,
    title: str,
    raised_by,
    solutions: list[dict],
    description: str = "",
    phase=None,
    files: list | None = None,
) -> SiteProblem:
    """Something on site needs the homeowner's decision: at least two proposed solutions, each with what it
    costs the homeowner and how many days it adds, and the photos that show it (optional)."""
    if not (title or "").strip():
        raise ValidationError({"title": _("Say what the problem is.")})
    _check_phase(worksite, phase)
    rows = _solution_rows(solutions or [])
    if len(rows) < 2:
        raise ValidationError({"solutions": _("Propose at least two solutions for the homeowner to choose from.")})
    problem = SiteProblem.objects.create(
        worksite=worksite,
        phase=phase,
        title=title.strip(),
        description=(description or "").strip(),
        raised_by=raised_by,
    )
    for row in rows:
        row.problem = problem
    ProblemSolution.objects.bulk_create(rows)
    if any(files or []):
        media.site_media_add(subject=problem, files=files, uploaded_by=raised_by)
    return problem


@transaction.atomic
def site_problem_choose(
    *, problem: SiteProblem, solution: ProblemSolution, chosen_name: str, user=None, portal_link=None
) -> SiteProblem:
    """The homeowner's choice, made in the portal or recorded by staff with the homeowner's name."""
    problem = SiteProblem.objects.select_for_update().get(pk=problem.pk)
    if problem.status != SiteProblem.Status.AWAITING_CHOICE:
        raise ValidationError(_("A solution to this problem has already been chosen."))
    if solution is None or solution.problem_id != problem.pk:
        raise ValidationError({"solution": _("Choose one of this problem's solutions.")})
    if portal_link is not None:
        check_portal_link(portal_link, problem.worksite_id)
    elif user is not None:
        require_staff_role(user, roles=ALL_STAFF, field="chosen_name")
    else:
        raise ValidationError(_("A choice is made through the homeowner's portal link or recorded by staff."))
    name = (chosen_name or "").strip()
    if not name:
        raise ValidationError({"chosen_name": _("Give the name of the homeowner who chose.")})
    problem.status, problem.chosen_solution = SiteProblem.Status.CHOSEN, solution
    problem.chosen_at, problem.chosen_name, problem.chosen_via = timezone.now(), name[:100], portal_link
    problem.save(update_fields=["status", "chosen_solution", "chosen_at", "chosen_name", "chosen_via"])
    return problem


@transaction.atomic
def site_problem_resolve(*, problem: SiteProblem) -> SiteProblem:
    problem = SiteProblem.objects.select_for_update().get(pk=problem.pk)
    if problem.status == SiteProblem.Status.RESOLVED:
        raise ValidationError(_("This problem is already resolved."))
    if problem.status != SiteProblem.Status.CHOSEN:
        raise ValidationError(_("The homeowner has to choose a solution before the problem is resolved."))
    problem.status, problem.resolved_at = SiteProblem.Status.RESOLVED, timezone.now()
    problem.save(update_fields=["status", "resolved_at"])
    return problem
