"""The home dashboard of each role, composed from the lifecycle apps' selectors.

A dashboard is a list of cards; a card holds figures (a label, a value and the link to the list that shows
exactly those rows), charts of figures, and a short list of the most pressing records. Every figure is counted
by the database (one aggregate query per selector), so a dashboard costs the same number of queries whatever
the firm's size — see ``tests/dashboard/test_queries.py`` for each role's budget."""

from __future__ import annotations

from datetime import date

from renocrm.accounts.roles import Role
from renocrm.periods import Period

from .cards import Dashboard
from .finance import finance
from .on_site import designer, project_manager, qc
from .overview import admin
from .pipeline import sales
from .queues import customer_service

ROLE_DASHBOARDS = {
    Role.SALES: sales,
    Role.DESIGNER: designer,
    Role.PROJECT_MANAGER: project_manager,
    Role.QC: qc,
    Role.FINANCE: finance,
    Role.CUSTOMER_SERVICE: customer_service,
    Role.ADMIN: admin,
}


def dashboard_for(*, role: str, user, period: Period, today: date) -> Dashboard:
    """The home dashboard of ``role`` for ``user``: figures in the firm's ``period`` as of its ``today``."""
    build = ROLE_DASHBOARDS.get(role, lambda **kwargs: [])
    return Dashboard(role=role, period=period, today=today, cards=build(user=user, period=period, today=today))
