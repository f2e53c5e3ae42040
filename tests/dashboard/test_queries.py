"""Each role's dashboard runs the same number of SQL queries whatever the firm's size: measured with the
fixture's records, then again after adding five more of every kind."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dashboard.conftest import ROLES, grow

# The whole page, session and firm included; the figures themselves take one query each.
BUDGET = {
    "admin": 21,
    "sales": 11,
    "designer": 14,
    "project_manager": 14,
    "qc": 12,
    "customer_service": 13,
    "finance": 11,
}


def page_queries(client, period="month") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:home"), {"period": period})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_costs_the_same_queries_at_two_sizes(client, two_firms, role):
    staff, records = two_firms
    client.force_login(staff.of(role))
    page_queries(client)  # warms the session and the firm's caches

    small = page_queries(client)
    grow(staff.firm, staff, records, 5)
    large = page_queries(client)

    assert small == large
    assert large <= BUDGET[role]


def test_the_figures_grow_with_the_records(client, two_firms):
    """The larger firm of the query test really shows more: the queries stayed, the rows did not."""
    staff, records = two_firms
    client.force_login(staff.admin)
    before = client.get(reverse("dashboard:home")).context["dashboard"]
    grow(staff.firm, staff, records, 5)
    after = client.get(reverse("dashboard:home")).context["dashboard"]

    assert (before.figure("leads-created").value, after.figure("leads-created").value) == (7, 17)
    assert (before.figure("contracts-signed").value, after.figure("contracts-signed").value) == (2, 7)
    assert (before.figure("complaints-opened").value, after.figure("complaints-opened").value) == (4, 9)
