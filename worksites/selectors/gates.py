"""Reads for the gates construction passes in the trade's order (``worksites.services.gates`` writes).

The seeds are explicit: concealed works are accepted by homeowner, QC and site lead before anything covers
them; tiling waits for the closed-water test; QC pre-inspects a week before completion and only then is the
homeowner invited to the final acceptance; the handover waits for every phase and inspection. Each check
here returns every reason at once (an empty list when the way is clear), so a refusal lists what to do.
A gate a firm admin lifted with a written reason (``GateOverride``) no longer blocks that worksite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from renocrm.tenancy.context import require_current_tenant
from worksites.models import Gate, GateOverride, Inspection, Phase, PhaseKind, Worksite

K = Inspection.Kind
# A phase of these kinds in the worksite's schedule means the inspection of that kind must pass before handover.
INSPECTION_OF_PHASE = {
    PhaseKind.CONCEALED_WORKS_INSPECTION: K.CONCEALED_WORKS,
    PhaseKind.WATERPROOFING_TEST: K.WATERPROOFING_TEST,
    PhaseKind.MID_TERM_INSPECTION: K.MID_TERM,
    PhaseKind.QC_PRE_INSPECTION: K.QC_PRE_INSPECTION,
    PhaseKind.COMPLETION_ACCEPTANCE: K.FINAL_ACCEPTANCE,
}
# Finished with the handover itself, so never a reason to wait.
HANDOVER_PHASE_KINDS = {PhaseKind.COMPLETION_ACCEPTANCE}

COVERS_CONCEALED = gettext_lazy(
    "%(phase)s covers the concealed works: the concealed-works inspection must pass first "
    "(signed by the homeowner, QC and the site lead, with the circuit diagram)."
)
COVERS_WATERPROOFING = gettext_lazy("%(phase)s tiles over the waterproofing: the closed-water test must pass first.")


def lifted(worksite_id: int, gate: str) -> bool:
    return GateOverride.objects.filter(worksite_id=worksite_id, gate=gate).exists()


def passed_kinds(worksite_id: int) -> set[str]:
    return set(
        Inspection.objects.filter(worksite_id=worksite_id, result=Inspection.Result.PASSED).values_list(
            "kind", flat=True
        )
    )


def final_acceptance_date(worksite_id: int) -> date | None:
    """The day (firm time) the final acceptance passed, if it has."""
    decided = (
        Inspection.objects.filter(
            worksite_id=worksite_id, kind=Inspection.Kind.FINAL_ACCEPTANCE, result=Inspection.Result.PASSED
        )
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    return timezone.localtime(decided, require_current_tenant().zone).date() if decided else None


def phase_start_blockers(phase: Phase) -> list[ValidationError]:
    """Why ``phase`` may not start yet: it covers concealed works or waterproofing not yet accepted."""
    if not (phase.covers_concealed_works or phase.covers_waterproofing):
        return []
    passed, reasons = passed_kinds(phase.worksite_id), []
    gates = (
        (phase.covers_concealed_works, K.CONCEALED_WORKS, Gate.CONCEALED_WORKS, COVERS_CONCEALED),
        (phase.covers_waterproofing, K.WATERPROOFING_TEST, Gate.WATERPROOFING, COVERS_WATERPROOFING),
    )
    for covers, kind, gate, message in gates:
        if covers and kind not in passed and not lifted(phase.worksite_id, gate):
            reasons.append(ValidationError(message % {"phase": phase.name}, code=f"gate_{gate}"))
    return reasons


def final_acceptance_blockers(worksite_id: int) -> list[ValidationError]:
    """The homeowner is invited to the final acceptance only after QC's pre-inspection passed."""
    if K.QC_PRE_INSPECTION in passed_kinds(worksite_id) or lifted(worksite_id, Gate.PRE_INSPECTION):
        return []
    return [
        ValidationError(
            _("The QC pre-inspection must pass before the homeowner is invited to the final acceptance."),
            code=f"gate_{Gate.PRE_INSPECTION}",
        )
    ]


def required_inspections(phases) -> list[str]:
    """The inspections the worksite's schedule requires: one per inspection phase, the concealed-works and
    closed-water ones when a phase covers them, and always the final acceptance."""
    required = {K.FINAL_ACCEPTANCE}
    for phase in phases:
        if phase.kind in INSPECTION_OF_PHASE:
            required.add(INSPECTION_OF_PHASE[phase.kind])
        if phase.covers_concealed_works:
            required.add(K.CONCEALED_WORKS)
        if phase.covers_waterproofing:
            required.add(K.WATERPROOFING_TEST)
    return [kind for kind in K.values if kind in required]


def _finished(phase: Phase) -> bool:
    if phase.requires_acceptance:
        return phase.status == Phase.Status.ACCEPTED
    return phase.status in (Phase.Status.DONE, Phase.Status.ACCEPTED)


def handover_gate_blockers(worksite: Worksite) -> list[ValidationError]:
    """Construction's part of the handover: every phase finished (signed off where the homeowner signs) and
    every required inspection passed, the final acceptance included."""
    if lifted(worksite.pk, Gate.HANDOVER):
        return []
    return _handover_reasons(worksite, list(worksite.phases.order_by("position")), passed_kinds(worksite.pk))


def _handover_reasons(worksite: Worksite, phases: list[Phase], passed: set[str]) -> list[ValidationError]:
    reasons = []
    unfinished = [p.name for p in phases if p.kind not in HANDOVER_PHASE_KINDS and not _finished(p)]
    if unfinished:
        shown = "; ".join(unfinished[:5]) + ("…" if len(unfinished) > 5 else "")
        reasons.append(
            ValidationError(
                _("%(count)d of %(total)d phases are not finished: %(phases)s.")
                % {"count": len(unfinished), "total": len(phases), "phases": shown},
                code="phases_unfinished",
            )
        )
    missing = [kind for kind in required_inspections(phases) if kind not in passed]
    if missing:
        reasons.append(
            ValidationError(
                _("Inspections not passed: %(kinds)s.")
                % {"kinds": pgettext("list separator", ", ").join(str(K(k).label) for k in missing)},
                code="inspections_not_passed",
            )
        )
    return reasons


@dataclass(frozen=True)
class GateRow:
    gate: str
    label: str
    state: str  # "clear", "waiting", "lifted", "not_needed" or "unrecorded" (handed over without it)
    reasons: list[str]
    override: GateOverride | None


def gate_rows(worksite: Worksite, phases: list[Phase]) -> list[GateRow]:
    """Each gate of the worksite (its ``phases`` in order) as its page shows it: passed, waiting (with why)
    or lifted (with who and why). Two queries whatever the size of the schedule."""
    overrides = {o.gate: o for o in worksite.gate_overrides.select_related("overridden_by")}
    passed = passed_kinds(worksite.pk)
    handed_over = worksite.status == Worksite.Status.HANDED_OVER
    planned = Phase.Status.PLANNED

    def waiting_for(kind, attr) -> list[str]:
        names = [p.name for p in phases if getattr(p, attr) and p.status == planned]
        listed = pgettext("list separator", ", ").join(names)
        return [_("Waiting: %(phases)s.") % {"phases": listed}] if names and kind not in passed else []

    checks = {
        Gate.CONCEALED_WORKS: (
            any(p.covers_concealed_works for p in phases),
            K.CONCEALED_WORKS in passed,
            waiting_for(K.CONCEALED_WORKS, "covers_concealed_works"),
        ),
        Gate.WATERPROOFING: (
            any(p.covers_waterproofing for p in phases),
            K.WATERPROOFING_TEST in passed,
            waiting_for(K.WATERPROOFING_TEST, "covers_waterproofing"),
        ),
        Gate.PRE_INSPECTION: (True, K.QC_PRE_INSPECTION in passed, []),
    }
    handover = [str(message) for error in _handover_reasons(worksite, phases, passed) for message in error.messages]
    checks[Gate.HANDOVER] = (True, not handover, handover)
    return [
        _gate_row(gate, overrides.get(gate), applies=applies, clear=clear, reasons=reasons, handed_over=handed_over)
        for gate, (applies, clear, reasons) in checks.items()
    ]


def _gate_row(gate, override, *, applies: bool, clear: bool, reasons: list[str], handed_over: bool) -> GateRow:
    if override is not None:
        state = "lifted"
    elif not applies:
        state = "not_needed"
    elif clear:
        state = "clear"
    else:
        # Nothing waits on a worksite already handed over: the record simply lacks it.
        state = "unrecorded" if handed_over else "waiting"
    return GateRow(gate, str(Gate(gate).label), state, reasons if state == "waiting" else [], override)
