"""The worksite reads the dashboards share with the worksite pages."""

from renocrm.accounts.roles import Role
from tests.factories import StaffFactory
from tests.worksites.factories import PhaseFactory, WorksiteFactory
from worksites.models import Phase, PhaseKind, Worksite
from worksites.selectors.dashboard import worksites_by_phase
from worksites.selectors.schedule import worksite_page

DONE, PLANNED, IN_PROGRESS = Phase.Status.DONE, Phase.Status.PLANNED, Phase.Status.IN_PROGRESS


def _site(*phases, **crew):
    worksite = WorksiteFactory(**crew)
    for position, (kind, status) in enumerate(phases, start=1):
        PhaseFactory(worksite=worksite, position=position, kind=kind, status=status)
    return worksite


def _counts(rows) -> dict[str, int]:
    return {row["kind"]: row["count"] for row in rows if row["count"]}


def test_worksites_by_phase_counts_each_worksite_once_under_its_first_unfinished_phase(in_firm, firm_a, firm_b):
    with in_firm(firm_b):
        _site((PhaseKind.DEMOLITION, IN_PROGRESS))  # another firm's worksite counts nowhere here
    with in_firm(firm_a):
        foreman = StaffFactory(membership__role=Role.PROJECT_MANAGER)
        qc = StaffFactory(membership__role=Role.QC)
        # A finished phase before an open one, and an open one after another open one: neither counts twice.
        _site((PhaseKind.DEMOLITION, DONE), (PhaseKind.MASONRY, IN_PROGRESS), (PhaseKind.PAINTING, PLANNED))
        _site((PhaseKind.DEMOLITION, PLANNED), (PhaseKind.PAINTING, PLANNED), project_manager=foreman)
        _site((PhaseKind.MASONRY, DONE), (PhaseKind.PAINTING, IN_PROGRESS), qc_inspector=qc)
        # Every phase finished: no current phase, counted nowhere.
        _site((PhaseKind.COMPLETION_ACCEPTANCE, Phase.Status.ACCEPTED), status=Worksite.Status.HANDED_OVER)

        everyone = worksites_by_phase()
        assert [row["kind"] for row in everyone] == list(PhaseKind.values)
        assert _counts(everyone) == {PhaseKind.DEMOLITION: 1, PhaseKind.MASONRY: 1, PhaseKind.PAINTING: 1}
        assert _counts(worksites_by_phase(mine=foreman)) == {PhaseKind.DEMOLITION: 1}
        assert _counts(worksites_by_phase(mine=qc)) == {PhaseKind.PAINTING: 1}

        # Each count is what the worksite list shows under the same phase filter, for the firm and for a crew.
        for mine in (None, foreman, qc):
            for row in worksites_by_phase(mine=mine):
                listed, _older = worksite_page(phase=row["kind"], mine=mine)
                assert len(listed) == row["count"], (mine, row["kind"])
