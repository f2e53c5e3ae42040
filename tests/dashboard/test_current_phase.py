"""The dashboards' "by current phase" chart counts from the open phases; it must say exactly what the worksite
selector says (each worksite under the kind of its first unfinished phase), for the firm and for a crew."""

from renocrm.dashboard.selectors import _worksites_by_current_phase
from renocrm.tenancy.context import tenant_context
from tests.worksites.factories import PhaseFactory
from worksites.models import Phase
from worksites.selectors import dashboard as worksites


def test_counts_match_the_worksite_selector_for_the_firm_and_for_each_crew(two_firms):
    staff, records = two_firms
    with tenant_context(staff.firm):
        # A finished phase before an open one, and an open one after another open one: neither may count twice.
        site = records["worksites"][0]
        last = Phase.objects.filter(worksite=site).order_by("-position").first()
        PhaseFactory(worksite=site, position=last.position + 1, kind="painting", status=Phase.Status.PLANNED)
        for mine in (None, staff.project_manager, staff.designer, staff.qc, staff.sales):
            expected = worksites.worksites_by_phase(mine=mine)
            assert _worksites_by_current_phase(mine=mine) == expected
        assert sum(row["count"] for row in _worksites_by_current_phase(mine=None)) > 0
