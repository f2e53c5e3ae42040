"""The busiest requests find their rows through an index that starts with the firm.

Each request runs through the test client exactly as users and partners send it; every SELECT it issues on
a firm table is then explained as the application role inside the firm, with sequential scans priced out
(``enable_seqscan = off``), so PostgreSQL picks an index whenever one can serve the query. With a firm of
50,000 customers among a million rows, a scan of a whole table — or a walk through all of a firm's rows to
keep a few — is what turns a 10 ms page into a multi-second one. (The API key look-up reads ``api_apikey``
by its prefix before the firm is known, through the ``apikey_prefix`` index; see docs/scaling.md.)
"""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.db import tenant_models, tenant_table_names
from tests.dashboard.conftest import NOW, TODAY, build, make_staff
from tests.worksites.factories import ProgressUpdateFactory

TENANT_TABLES = tenant_table_names()
COLUMNS = {model._meta.db_table: {field.column for field in model._meta.concrete_fields} for model in tenant_models()}

# Firm tables whose scans need no index of their own, with the reason.
SMALL_TABLES = {
    # One row per firm (a unique key on the tenant); the lookup is by tenant alone.
    "leads_leadsettings": "one row per firm",
    "callbacks_callbacksettings": "one row per firm",
    "contracts_contractsettings": "one row per firm",
    "aftercare_aftercaresettings": "one row per firm",
    "complaints_complaintsettings": "one row per firm",
    "privacy_privacysettings": "one row per firm",
}


def nodes(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def tables_of(sql: str) -> set[str]:
    return set(re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?', sql, flags=re.IGNORECASE)) & TENANT_TABLES


def explain(sql: str, firm) -> dict:
    with tenant_context(firm), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        [[document]] = cursor.fetchall()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def columns_in(expression: str, table: str) -> set[str]:
    # The row-level-security clause names only the tenant (and, for API keys, the prefix setting).
    expression = re.sub(r"current_setting\([^)]*\)", "", expression)
    return set(re.findall(r"\b[a-z_]+\b", expression)) & COLUMNS[table]


def firm_indexes() -> dict[str, list[list[str]]]:
    """Each firm table's indexes that start with the tenant, as column lists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s)",
            [sorted(TENANT_TABLES)],
        )
        found = {}
        for table, columns in cursor.fetchall():
            if columns and columns[0] == "tenant_id":
                found.setdefault(table, []).append(columns)
    return found


def problems(plan: dict, indexes: dict) -> list[str]:
    """What in a plan would read a whole table, or a whole firm's rows, to find a few.

    A sequential scan of a firm table is one. So is a scan whose index condition names the firm alone while
    a filter narrows on other columns, when no index of the table leads with the firm and one of those
    columns: the planner walks the firm's rows here only because the test tables are small, and with no
    such index it would have to at any size."""
    found = []
    flat = list(nodes(plan))
    for node in flat:
        table = node.get("Relation Name")
        if table not in TENANT_TABLES or table in SMALL_TABLES:
            continue
        if node["Node Type"] == "Seq Scan":
            found.append(f"{table}: sequential scan")
            continue
        condition = node.get("Index Cond", "") or node.get("Recheck Cond", "")
        if node["Node Type"] == "Bitmap Heap Scan":
            condition = " ".join(child.get("Index Cond", "") for child in nodes(node))
        narrowing = columns_in(node.get("Filter", ""), table) - {"tenant_id"}
        if columns_in(condition, table) - {"tenant_id"} or not narrowing:
            continue
        if not any(len(columns) > 1 and columns[1] in narrowing for columns in indexes.get(table, [])):
            found.append(f"{table}: the firm's rows are filtered on {sorted(narrowing)} with no index for it")
    return found


def request_problems(captured, firm) -> list[str]:
    """Each problem with its statement, for the captured SELECTs that read firm tables."""
    indexes = firm_indexes()
    found = []
    explained = 0
    for query in captured:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT") or not tables_of(sql):
            continue
        explained += 1
        found += [f"{problem}\n    in: {sql[:300]}" for problem in problems(explain(sql, firm), indexes)]
    assert explained, "the request read firm tables"
    return found


@pytest.fixture
def frozen():
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield NOW


@pytest.fixture
def firm(frozen, firm_a, firm_b):
    """Firm A's week of work (the dashboard fixture), the same in firm B, and a worksite's progress posts."""
    build(firm_b, make_staff(firm_b, "b"))
    staff = make_staff(firm_a, "a")
    records = build(firm_a, staff)
    with tenant_context(firm_a):
        for _ in range(3):
            ProgressUpdateFactory(worksite=records["worksites"][0])
    firm_a.staff = staff
    return firm_a


def request_problems_of(firm, send) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code in (200, 201), getattr(response, "content", b"")[:500]
    return request_problems(captured.captured_queries, firm), response


def test_partner_lead_list_pages(client, firm, partner):
    found, response = request_problems_of(
        firm, lambda: client.get("/api/v1/leads/", {"page_size": 3}, **partner.headers)
    )
    following = response.json()["next"]
    assert following, "a second page exists"
    more, _ = request_problems_of(firm, lambda: client.get(following, **partner.headers))
    assert found + more == [], "\n".join(found + more)


def test_partner_lead_detail(client, firm, partner):
    lead_id = client.get("/api/v1/leads/", **partner.headers).json()["results"][0]["id"]
    found, _ = request_problems_of(firm, lambda: client.get(f"/api/v1/leads/{lead_id}/", **partner.headers))
    assert found == [], "\n".join(found)


def test_partner_lead_create_with_an_idempotency_key(client, firm, partner):
    def send():
        return client.post(
            "/api/v1/leads/",
            {"name": "李雷", "mobile": "13900139000"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="lead-13900139000",
            **partner.headers,
        )

    found, _ = request_problems_of(firm, send)
    replayed, response = request_problems_of(firm, send)
    assert response.status_code == 201
    assert found + replayed == [], "\n".join(found + replayed)


def test_partner_worksite_progress_list(client, firm, partner):
    with tenant_context(firm):
        from worksites.models import ProgressUpdate

        worksite_id = ProgressUpdate.objects.values_list("worksite_id", flat=True).first()
    found, response = request_problems_of(
        firm, lambda: client.get("/api/v1/progress-updates/", {"worksite": worksite_id}, **partner.headers)
    )
    assert response.json()["results"]
    assert found == [], "\n".join(found)


def test_partner_callbacks_due_today(client, firm, partner):
    today = TODAY.isoformat()
    query = {"due_on__gte": today, "due_on__lte": today, "status": "open"}
    found, _ = request_problems_of(firm, lambda: client.get("/api/v1/callbacks/", query, **partner.headers))
    assert found == [], "\n".join(found)


def test_staff_lead_list_page(client, firm):
    client.force_login(firm.staff.admin)
    client.get("/leads/")  # the session and the firm's caches
    found, _ = request_problems_of(firm, lambda: client.get("/leads/"))
    assert found == [], "\n".join(found)


def test_customer_service_work_queue(client, firm):
    client.force_login(firm.staff.customer_service)
    client.get("/callbacks/")
    found, _ = request_problems_of(firm, lambda: client.get("/callbacks/"))
    assert found == [], "\n".join(found)


def test_general_manager_dashboard(client, firm):
    client.force_login(firm.staff.admin)
    client.get("/")
    found, _ = request_problems_of(firm, lambda: client.get("/"))
    assert found == [], "\n".join(found)
