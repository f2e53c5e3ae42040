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
from .records import RecordNames, Shown, field_name, model_for_table, model_name, related_model, show_value

PAGE_SIZE = 50
# The trail keeps whatever the row held; these columns are secrets or digests of secrets and are not shown.
HIDDEN_VALUE_MARKERS = ("password", "hashed", "secret", "token")
HIDDEN = "••••••"
# Columns the list already shows in their own cells.
NOISE_FIELDS = frozenset({"tenant_id", "id"})
EMPTY_VALUES = (None, "", [], {})


@dataclass(frozen=True)
class AuditFilters:
    table: str = ""
    actor_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class Change:
    field: str  # the column, as stored
    old: str | None  # the values in words
    new: str | None
    label: str = ""  # the field's name
    old_url: str = ""  # the page of the record an old or new foreign key names
    new_url: str = ""


@dataclass
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def audited_tables() -> dict[str, str]:
    """Table name → the model's (translated) name, for every table the audit trigger watches, by name."""
    tables = {model._meta.db_table: model_name(model) for model in tenant_models() if model.audited}
    return dict(sorted(tables.items(), key=lambda item: (item[1].casefold(), item[0])))


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


def _pairs(event: AuditEvent):
    """(column, old, new) of each change worth showing: old → new for an update; the row's non-empty values
    for an insert (new) or a delete (old)."""
    changes = event.changes if isinstance(event.changes, dict) else {}
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
        yield name, old, new


def _hidden(column: str) -> bool:
    return any(marker in column for marker in HIDDEN_VALUE_MARKERS)


def audit_changes(event: AuditEvent, names: RecordNames | None = None) -> list[Change]:
    """The changed fields by name, values in words (``names`` already loaded with the records they name)."""
    names = names or RecordNames()
    model = model_for_table(event.table_name)
    result = []
    for column, old, new in _pairs(event):
        if _hidden(column):
            old_shown = Shown(HIDDEN if old is not None else None)
            new_shown = Shown(HIDDEN if new is not None else None)
        else:
            old_shown, new_shown = show_value(model, column, old, names), show_value(model, column, new, names)
        result.append(
            Change(
                field=column,
                old=old_shown.text,
                new=new_shown.text,
                label=field_name(model, column),
                old_url=old_shown.url,
                new_url=new_shown.url,
            )
        )
    return result


def audit_events_describe(events: list[AuditEvent]) -> None:
    """Give each event what the page shows: ``record`` (the record by name, with its page), ``table_label`` and
    ``changed_fields``. One query names every record the events mention, however many there are."""
    names = RecordNames()
    for event in events:
        model = model_for_table(event.table_name)
        names.want(model, event.row_id)
        for column, old, new in _pairs(event):
            related = related_model(model, column) if not _hidden(column) else None
            names.want(related, old)
            names.want(related, new)
    names.load()
    for event in events:
        model = model_for_table(event.table_name)
        snapshot = event.changes if event.action != AuditEvent.Action.UPDATE and isinstance(event.changes, dict) else {}
        event.record = names.named(model, event.row_id, snapshot=snapshot, fallback=event.table_name)
        event.table_label = model_name(model, event.table_name)
        event.changed_fields = audit_changes(event, names)


def audit_event_page(*, filters: AuditFilters, cursor: str = "", size: int = PAGE_SIZE) -> AuditPage:
    """One page of the current firm's audit events, newest first, after ``cursor`` (from the previous page);
    ``audit_events_describe`` then words them for the page."""
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
    return AuditPage(events=page, next_cursor=encode_cursor(page[-1]) if more else None)
