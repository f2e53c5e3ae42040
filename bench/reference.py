"""The reference: the least work a server can do for the partner API's lead pages, served by gunicorn with
the same worker configuration as the app. No framework: one psycopg2 connection per worker thread, ONE
SELECT per request, JSON by orjson.

``GET /leads/?firm=<tenant id>[&cursor=<last id>][&page_size=50]`` returns the page the partner lead list
returns — the same columns (the lead's own plus the customer's name), newest first, keyset on the id,
``{"next": …, "previous": null, "results": […]}``. ``GET /leads/<id>/?firm=<tenant id>`` returns one lead.
``GET /callbacks/?firm=<tenant id>&due_on__gte=<day>&due_on__lte=<day>`` returns the page of the callbacks
due those days, with the customer's name and each one's survey nested, as the partner API does.

It connects as the database owner (REFERENCE_DATABASE_URL) and filters with ``WHERE tenant_id = %s``:
no row-level-security setting, no transaction, no authentication — the machine's limit for that page.
"""

import os
import re
import threading
from urllib.parse import parse_qs

import orjson
import psycopg2

COLUMNS = (
    "l.id, l.customer_id, c.name, l.property_id, l.channel, l.referrer_id, l.household, l.living_habits,"
    " l.style_preferences, l.budget_min::text, l.budget_max::text, l.core_needs, l.assigned_to_id, l.designer_id,"
    " l.status, l.lost_reason, l.next_follow_up_on, l.created_at, l.updated_at"
)
FIELDS = (
    "id",
    "customer",
    "customer_name",
    "property",
    "channel",
    "referrer",
    "household",
    "living_habits",
    "style_preferences",
    "budget_min",
    "budget_max",
    "core_needs",
    "assigned_to",
    "designer",
    "status",
    "lost_reason",
    "next_follow_up_on",
    "created_at",
    "updated_at",
)
FROM = "FROM leads_lead l JOIN leads_customer c ON c.id = l.customer_id"
FIRST_PAGE = f"SELECT {COLUMNS} {FROM} WHERE l.tenant_id = %s ORDER BY l.id DESC LIMIT %s"  # noqa: S608
NEXT_PAGE = f"SELECT {COLUMNS} {FROM} WHERE l.tenant_id = %s AND l.id < %s ORDER BY l.id DESC LIMIT %s"  # noqa: S608
ONE = f"SELECT {COLUMNS} {FROM} WHERE l.tenant_id = %s AND l.id = %s"  # noqa: S608
# The callbacks due on a day, with the customer's name and the survey (null until submitted) nested as the
# API nests it, in the same one statement.
CALLBACK_COLUMNS = (
    "cb.id, cb.project_id, cb.worksite_id, cb.customer_id, c.name, cb.step_id, cb.name, cb.due_on, cb.method,"
    " cb.status, cb.assigned_to_id, cb.released_at, cb.attempts, cb.next_attempt_at, cb.appointment_at,"
    " cb.completed_at, cb.completed_by_id, cb.closed_reason, cb.created_at, sv.survey"
)
CALLBACK_FIELDS = (
    "id",
    "project",
    "worksite",
    "customer",
    "customer_name",
    "step",
    "name",
    "due_on",
    "method",
    "status",
    "assigned_to",
    "released_at",
    "attempts",
    "next_attempt_at",
    "appointment_at",
    "completed_at",
    "completed_by",
    "closed_reason",
    "created_at",
    "survey",
)
CALLBACKS_DUE = (
    f"SELECT {CALLBACK_COLUMNS} FROM callbacks_callback cb JOIN leads_customer c ON c.id = cb.customer_id"  # noqa: S608
    " LEFT JOIN LATERAL (SELECT to_jsonb(s) || jsonb_build_object("
    "  'defects', (SELECT coalesce(jsonb_agg(jsonb_build_object('trade', d.trade, 'kind', d.kind, 'note', d.note)"
    "   ORDER BY d.id), '[]') FROM callbacks_surveydefect d WHERE d.survey_id = s.id),"
    "  'demands', (SELECT coalesce(jsonb_agg(m.kind ORDER BY m.id), '[]') FROM callbacks_surveydemand m"
    "   WHERE m.survey_id = s.id)) AS survey"
    " FROM callbacks_survey s WHERE s.callback_id = cb.id ORDER BY s.id LIMIT 1) sv ON true"
    " WHERE cb.tenant_id = %s AND cb.due_on >= %s AND cb.due_on <= %s AND cb.id < %s ORDER BY cb.id DESC LIMIT %s"
)
DETAIL_PATH = re.compile(r"^/leads/(\d+)/$")
MAX_PAGE_SIZE = 200

_local = threading.local()


def _cursor():
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = psycopg2.connect(os.environ["REFERENCE_DATABASE_URL"])
        connection.autocommit = True  # one statement per request: nothing to wrap in a transaction
        _local.connection = connection
    return connection.cursor()


def _row(values) -> dict:
    row = dict(zip(FIELDS, values, strict=True))
    row["linked_existing_customer"] = False
    return row


def _answer(start_response, status: str, body: dict):
    payload = orjson.dumps(body)
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        firm = int(query["firm"][0])
        size = min(int(query.get("page_size", ["50"])[0]), MAX_PAGE_SIZE)
        cursor_id = int(query["cursor"][0]) if "cursor" in query else None
    except (KeyError, ValueError):
        return _answer(start_response, "400 Bad Request", {"error": "firm, page_size and cursor are integers"})
    path = environ.get("PATH_INFO", "")
    with _cursor() as cursor:
        detail = DETAIL_PATH.match(path)
        if detail:
            cursor.execute(ONE, [firm, int(detail.group(1))])
            row = cursor.fetchone()
            if row is None:
                return _answer(start_response, "404 Not Found", {"error": "not found"})
            return _answer(start_response, "200 OK", _row(row))
        if path == "/callbacks/":
            return _callbacks(cursor, start_response, environ, query, firm, size, cursor_id)
        if path != "/leads/":
            return _answer(start_response, "404 Not Found", {"error": "not found"})
        if cursor_id is None:
            cursor.execute(FIRST_PAGE, [firm, size + 1])
        else:
            cursor.execute(NEXT_PAGE, [firm, cursor_id, size + 1])
        rows = cursor.fetchall()
    results = [_row(row) for row in rows[:size]]
    following = None
    if len(rows) > size:
        host = environ.get("HTTP_HOST", "127.0.0.1")
        following = f"http://{host}/leads/?firm={firm}&page_size={size}&cursor={results[-1]['id']}"
    return _answer(start_response, "200 OK", {"next": following, "previous": None, "results": results})


def _callbacks(cursor, start_response, environ, query, firm, size, cursor_id):
    try:
        day_from, day_to = query["due_on__gte"][0], query["due_on__lte"][0]
    except KeyError:
        return _answer(start_response, "400 Bad Request", {"error": "due_on__gte and due_on__lte are required"})
    cursor.execute(CALLBACKS_DUE, [firm, day_from, day_to, cursor_id or 2**62, size + 1])
    rows = cursor.fetchall()
    results = [dict(zip(CALLBACK_FIELDS, row, strict=True)) for row in rows[:size]]
    following = None
    if len(rows) > size:
        host = environ.get("HTTP_HOST", "127.0.0.1")
        following = (
            f"http://{host}/callbacks/?firm={firm}&due_on__gte={day_from}&due_on__lte={day_to}"
            f"&page_size={size}&cursor={results[-1]['id']}"
        )
    return _answer(start_response, "200 OK", {"next": following, "previous": None, "results": results})
