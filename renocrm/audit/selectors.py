"""Reads of the audit trail. Pages go by keyset (newest first by time, then id), so no page ever counts or
skips over the whole table, however long a firm's trail grows."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from renocrm.accounts.models import Membership
from renocrm.tenancy.db import tenant_models

from .models import AuditEvent

PAGE_SIZE = 50
# The trail keeps whatever the row held; these columns are secrets or digests of secrets and are not shown.
HIDDEN_VALUE_MARKERS = ("password", "hashed", "secret", "token")
HIDDEN = "••••••"
# Columns the list already shows in their own cells.
NOISE_FIELDS = frozenset({"tenant_id", "id"})
EMPTY_VALUES = (None, "", [], {})
MAX_VALUE_LENGTH = 200


@dataclass(frozen=True)
class AuditFilters:
    table: str = ""
    actor_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str | None


@dataclass
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def audited_tables() -> dict[str, str]:
    """Table name → the model's (translated) name, for every table the audit trigger watches."""
    return {
        model._meta.db_table: str(model._meta.verbose_name)
        for model in sorted(tenant_models(), key=lambda m: m._meta.db_table)
        if model.audited
    }


def audit_actor_choices(*, tenant) -> list[tuple[int, str]]:
    """Everyone who is or was a member of the firm, including people who have since left."""
    memberships = Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    return [(m.user_id, f"{m.user} ({m.user.username})" if m.user.name else m.user.username) for m in memberships]


def encode_cursor(event: AuditEvent) -> str:
    raw = json.dumps([event.at.isoformat(), event.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, pk = json.loads(raw)
        at = datetime.fromisoformat(at)
        if at.tzinfo is None or not isinstance(pk, int):
            return None
        return at, pk
    except (ValueError, TypeError, binascii.Error):
        return None


def _display(value) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def audit_changes(event: AuditEvent) -> list[Change]:
    """The changed fields: old → new for an update; the row's non-empty values for an insert (new) or a
    delete (old)."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    result = []
    for name in sorted(changes):
        if name in NOISE_FIELDS:
            continue
        value = changes[name]
        if event.action != AuditEvent.Action.UPDATE and value in EMPTY_VALUES:
            continue
        if event.action == AuditEvent.Action.UPDATE:
            old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
        elif event.action == AuditEvent.Action.DELETE:
            old, new = value, None
        else:
            old, new = None, value
        if any(marker in name for marker in HIDDEN_VALUE_MARKERS):
            old, new = (HIDDEN if old is not None else None), (HIDDEN if new is not None else None)
        else:
            old, new = _display(old), _display(new)
        result.append(Change(field=name, old=old, new=new))
    return result


def audit_event_page(*, filters: AuditFilters, cursor: str = "", size: int = PAGE_SIZE) -> AuditPage:
    """One page of the current firm's audit events, newest first, after ``cursor`` (from the previous page)."""
    events = AuditEvent.objects.select_related("actor", "api_key")
    if filters.table:
        events = events.filter(table_name=filters.table)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        events = events.filter(at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__lt=filters.until)
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        at, pk = position
        events = events.filter(Q(at__lt=at) | Q(at=at, pk__lt=pk))
    rows = list(events.order_by("-at", "-pk")[: size + 1])
    page, more = rows[:size], len(rows) > size
    tables = audited_tables()
    for event in page:
        event.changed_fields = audit_changes(event)
        event.table_label = tables.get(event.table_name, event.table_name)
    return AuditPage(events=page, next_cursor=encode_cursor(page[-1]) if more else None)
