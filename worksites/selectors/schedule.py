"""Reads for worksites: the board by current phase and the planned-against-actual timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef, Q, Subquery

from renocrm.paging import keyset_page
from worksites.models import GateOverride, Phase, PhaseKind, Worksite


def worksites_with_current_phase(worksites=None):
    """Worksites annotated with their current phase — the first not yet finished, in schedule order — as
    ``current_phase`` (its name), ``current_kind`` and ``current_planned_end``; None once all are done."""
    current = Phase.objects.filter(
        worksite=OuterRef("pk"), status__in=[Phase.Status.PLANNED, Phase.Status.IN_PROGRESS]
    ).order_by("position")
    return (Worksite.objects.all() if worksites is None else worksites).annotate(
        current_phase=Subquery(current.values("name")[:1]),
        current_kind=Subquery(current.values("kind")[:1]),
        current_planned_end=Subquery(current.values("planned_end")[:1]),
    )


def crew_filter(user, prefix: str = "") -> Q:
    """What "my worksites" means on the worksite list, the board and the dashboards: the user is on the crew
    as foreman, designer or QC. ``prefix`` reaches the worksite from a related model (``"worksite__"``)."""
    return (
        Q(**{f"{prefix}project_manager": user})
        | Q(**{f"{prefix}designer": user})
        | Q(**{f"{prefix}qc_inspector": user})
    )


def _listed(*, mine=None):
    """The worksites of the list and the board: with their current phase, customer and foreman, narrowed
    to those ``mine`` works on when given."""
    worksites = worksites_with_current_phase().select_related("project__customer", "project_manager")
    if mine is not None:
        worksites = worksites.filter(crew_filter(mine))
    return worksites


def worksite_page(*, status: str = "", phase: str = "", mine=None, lifted: bool = False, before: int | None = None):
    """Worksites newest first with their current phase and its planned end, keyset-paged by id; ``lifted``
    keeps those where a firm admin lifted a gate."""
    worksites = _listed(mine=mine)
    if status:
        worksites = worksites.filter(status=status)
    if phase:
        worksites = worksites.filter(current_kind=phase)
    if lifted:
        worksites = worksites.filter(Exists(GateOverride.objects.filter(worksite=OuterRef("pk"))))
    return keyset_page(worksites, before=before)


@dataclass(frozen=True)
class BoardColumn:
    kind: str
    label: str
    worksites: list
    count: int


BOARD_CARDS_PER_COLUMN = 50


def worksite_board(*, today: date, mine=None) -> list[BoardColumn]:
    """Worksites not yet handed over, in one column per current phase (schedule order of the phase kinds),
    the most pressing planned end first. One query however many worksites there are."""
    worksites = (
        _listed(mine=mine)
        .exclude(status=Worksite.Status.HANDED_OVER)
        .order_by(F("current_planned_end").asc(nulls_last=True), "id")
    )
    by_kind: dict[str, list] = {}
    for worksite in worksites:
        worksite.is_late = worksite.current_planned_end is not None and worksite.current_planned_end < today
        by_kind.setdefault(worksite.current_kind or PhaseKind.COMPLETION_ACCEPTANCE, []).append(worksite)
    return [
        BoardColumn(kind=kind, label=str(label), worksites=rows[:BOARD_CARDS_PER_COLUMN], count=len(rows))
        for kind, label in PhaseKind.choices
        for rows in [by_kind.get(kind, [])]
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True)
class TimelineRow:
    phase: Phase
    y: float
    planned: Bar
    actual: Bar | None
    late: bool

    # Where the template draws the label and the two bars of this row.
    @property
    def label_y(self) -> float:
        return self.y + 14

    @property
    def planned_y(self) -> float:
        return self.y + 3

    @property
    def actual_y(self) -> float:
        return self.y + 13


@dataclass(frozen=True)
class Timeline:
    rows: list[TimelineRow]
    width: float
    height: float
    label_width: float
    today_x: float | None
    months: list[tuple[float, date]]  # x of each month's first day, and the day


def worksite_timeline(*, phases: list[Phase], today: date, day_width: float = 8.0) -> Timeline:
    """Geometry for a Gantt chart drawn as SVG in the template: a planned bar and, once started, an actual
    bar per phase (an unfinished phase's actual bar runs to today)."""
    label_width, row_height, top = 150.0, 28.0, 24.0
    if not phases:
        return Timeline([], label_width, top, label_width, None, [])
    first = min(min(p.planned_start, p.actual_start or p.planned_start) for p in phases)
    last = max(max(p.planned_end, p.actual_end or today if p.actual_start else p.planned_end) for p in phases)
    last = max(last, today) if first <= today else last

    def x(day: date) -> float:
        return label_width + (day - first).days * day_width

    rows = []
    for n, phase in enumerate(phases):
        planned = Bar(x(phase.planned_start), (phase.planned_end - phase.planned_start).days * day_width + day_width)
        actual = None
        if phase.actual_start:
            end = phase.actual_end or today
            actual = Bar(x(phase.actual_start), max((end - phase.actual_start).days + 1, 1) * day_width)
        late = (phase.actual_end or today) > phase.planned_end and phase.status != Phase.Status.PLANNED
        late = late or (phase.status == Phase.Status.PLANNED and today > phase.planned_start)
        rows.append(TimelineRow(phase, top + n * row_height, planned, actual, late))
    months, day = [], first.replace(day=1)
    while day <= last:
        if day >= first:
            months.append((x(day), day))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    width = x(last) + day_width + 10
    today_x = x(today) if first <= today <= last else None
    return Timeline(rows, width, top + len(phases) * row_height + 8, label_width, today_x, months)


# Receivables by project manager (the dashboard) ------------------------------------------------------------


def project_managers(*, project_ids) -> dict[int, object]:
    """Project id → the project manager of its worksite, for the projects of ``project_ids`` that have one."""
    worksites = Worksite.objects.filter(project__in=project_ids, project_manager__isnull=False).select_related(
        "project_manager"
    )
    return {worksite.project_id: worksite.project_manager for worksite in worksites}


def projects_managed_by(*, user):
    """The ids of the projects whose worksite ``user`` manages, as a subquery for a filter."""
    return Worksite.objects.filter(project_manager=user).values("project_id")
