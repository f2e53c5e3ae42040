"""Every firm-scoped list endpoint answers in a number of SQL queries that does not grow with its rows.
Routes come from the URL conf, so a new list endpoint is measured without being named here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renocrm.tenancy.context import tenant_context
from tests.api.test_isolation import LIST_ROUTES, make_row


@pytest.mark.parametrize(("name", "cls"), LIST_ROUTES, ids=[name for name, _ in LIST_ROUTES])
def test_list_query_count_does_not_grow_with_rows(name, cls, firm_a, staff_client):
    url = reverse(name)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(url)
        assert response.status_code == 200, response.content
        return len(captured.captured_queries), len(response.json()["results"])

    make_row(cls.model, firm_a)
    few, few_rows = queries()
    for _ in range(6):
        make_row(cls.model, firm_a)
    many, many_rows = queries()
    assert many_rows > few_rows, "the added rows are listed"
    assert many <= few, f"{name}: {few} queries for {few_rows} rows but {many} for {many_rows}"
    with tenant_context(firm_a):
        assert cls.model.objects.count() >= 7
