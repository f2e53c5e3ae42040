"""Incremental sync for partners' mirrors: every list reads by ``updated_after`` and pages by
``ordering=updated_at`` (``renocrm.api.pagination``), and the deletions feed says what is gone.

A list's records are rows of one model; ``updated_at`` (the tenancy base) moves on every change of the row.
What a list serves is found from the URLconf, so a new list endpoint is in the feed with no list to keep: after
every ``migrate`` its table gets the ``(tenant_id, updated_at, id)`` index the sync pages read and a trigger
recording each deleted row in ``api_deletion`` under the endpoint's name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from django.db import connections
from psycopg2 import sql

logger = logging.getLogger(__name__)

API_PREFIX = "api/v1/"


@dataclass(frozen=True)
class Resource:
    name: str  # the list's path under /api/v1/: "leads"
    model: type
    permission_group: str


@cache
def listed_resources() -> dict[str, Resource]:
    """Every list endpoint of the API by name, with the model it lists. A model two lists serve (instalments
    and receivables) is recorded under the first."""
    from django.urls import URLResolver, get_resolver

    found: dict[str, Resource] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            view = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None) or {}
            if view is None or actions.get("get") != "list" or not route.startswith(API_PREFIX):
                continue
            name = route.removeprefix(API_PREFIX).strip("^$").rstrip("/")
            model = getattr(view, "model", None)
            if model is None or "(" in name or name in found:
                continue
            found[name] = Resource(name, model, view.permission_group)

    walk(get_resolver().url_patterns, "")
    return found


def resource_of(model) -> str | None:
    for resource in listed_resources().values():
        if resource.model is model:
            return resource.name
    return None


def deletions_record(model, ids: list[int], *, reason: str) -> None:
    """Records that stay as rows but must leave every mirror (a person erased on request): in the deletions
    feed under the list that serves ``model``, if one does."""
    from .models import Deletion

    name = resource_of(model)
    if name is not None and ids:
        Deletion.objects.bulk_create([Deletion(resource=name, object_id=pk, reason=reason) for pk in ids])


DELETION_FUNCTION = """
CREATE OR REPLACE FUNCTION renocrm_record_deletion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0]: the list endpoint the row was served by. No other column of the row is kept.
    INSERT INTO api_deletion (tenant_id, resource, object_id, reason, updated_at)
    VALUES (OLD.tenant_id, TG_ARGV[0], OLD.id, 'deleted', clock_timestamp());
    RETURN NULL;
END;
$$;
"""


def sync_listed_tables(using: str = "owner") -> None:
    """The sync index and the deletion trigger on every listed model's table (idempotent)."""
    from renocrm.tenancy.db import ensure_touch_trigger, tenant_table_names

    from .models import Deletion

    tenant_tables = tenant_table_names()
    models = {}
    for resource in listed_resources().values():
        # The feed itself gets the index, but no record of deleting its rows.
        models.setdefault(resource.model._meta.db_table, None if resource.model is Deletion else resource.name)
    with connections[using].cursor() as cursor:
        cursor.execute(DELETION_FUNCTION)
        for table, name in sorted(models.items()):
            t = sql.Identifier(table)
            cursor.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (tenant_id, updated_at, id)").format(
                    sql.Identifier(f"{table}_sync"[:63]), t
                )
            )
            if table not in tenant_tables:  # the tenancy's sync keeps the firm-owned tables' own
                ensure_touch_trigger(cursor, table)
            cursor.execute(sql.SQL("DROP TRIGGER IF EXISTS renocrm_deletion ON {}").format(t))
            if name is None:
                continue
            cursor.execute(
                sql.SQL(
                    "CREATE TRIGGER renocrm_deletion AFTER DELETE ON {} FOR EACH ROW "
                    "EXECUTE FUNCTION renocrm_record_deletion({})"
                ).format(t, sql.Literal(name))
            )
    logger.info("api: sync index and deletion trigger on %d listed tables", len(models))
