"""The EXPLAIN check: run each top endpoint once in this process (Django's test client against the bench
database), capture its SQL, and EXPLAIN every SELECT under the firm's row-level-security setting. A
sequential scan of a table with more than ``BIG_TABLE_ROWS`` rows is reported as "no index"."""

from __future__ import annotations

from django.db import DatabaseError, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

BIG_TABLE_ROWS = 10_000
# A SELECT the planner costs above this is listed as "costly" even when it uses an index: an index that
# matches only the firm and then reads on through the firm's rows (a range on a column behind another one
# the query does not filter on, say) shows here, not as a sequential scan.
COSTLY_PLAN = 1_000


def _seq_scans(plan: dict) -> list[dict]:
    found = []
    if plan.get("Node Type") == "Seq Scan":
        found.append({"table": plan.get("Relation Name"), "filter": plan.get("Filter", "")})
    for child in plan.get("Plans", []):
        found.extend(_seq_scans(child))
    return found


def _indexes(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if plan.get("Index Name") else set()
    for child in plan.get("Plans", []):
        found |= _indexes(child)
    return found


def _table_rows(tables: set[str]) -> dict[str, int]:
    if not tables:
        return {}
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relkind IN ('r', 'p')"
            " AND relnamespace = 'public'::regnamespace AND relname = ANY(%s)",
            [sorted(tables)],
        )
        return dict(cursor.fetchall())


def _is_select(sql: str) -> bool:
    head = sql.lstrip().upper()
    return head.startswith(("SELECT", "WITH")) and not head.startswith("SELECT SET_CONFIG")


def explain_endpoint(tenant, name: str, path: str, *, method: str = "get", data=None, **headers) -> dict:
    """One endpoint's queries and the large tables any of them scans sequentially."""
    from renocrm.tenancy.context import tenant_context

    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    connection = connections["default"]
    with CaptureQueriesContext(connection) as captured:
        if method == "post":
            response = client.post(path, data=data, content_type="application/json", **headers)
        else:
            response = client.get(path, **headers)
    selects = [query["sql"] for query in captured.captured_queries if _is_select(query["sql"])]
    plans = []
    errors = []
    with tenant_context(tenant), connection.cursor() as cursor:
        for sql in selects:
            try:
                with transaction.atomic():
                    # The captured text has its parameters inlined already; no params, so no %-formatting.
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                    plans.append((sql, cursor.fetchone()[0][0]["Plan"]))
            except DatabaseError as error:
                errors.append({"query": sql, "error": str(error).strip()})
    scans = [(sql, scan) for sql, plan in plans for scan in _seq_scans(plan)]
    rows = _table_rows({scan["table"] for _sql, scan in scans})
    missing = [
        {"table": scan["table"], "rows": rows.get(scan["table"], 0), "filter": scan["filter"], "query": sql}
        for sql, scan in scans
        if rows.get(scan["table"], 0) > BIG_TABLE_ROWS
    ]
    costly = [
        {"cost": round(plan["Total Cost"]), "indexes": sorted(_indexes(plan)), "query": sql}
        for sql, plan in plans
        if plan.get("Total Cost", 0) > COSTLY_PLAN
    ]
    return {
        "endpoint": name,
        "path": path,
        "status": response.status_code,
        "queries": len(captured.captured_queries),
        "selects": len(selects),
        "seq_scans": [{"table": scan["table"], "rows": rows.get(scan["table"], 0)} for _sql, scan in scans],
        "no_index": missing,
        "costly": costly,
        "explain_errors": errors,
    }
