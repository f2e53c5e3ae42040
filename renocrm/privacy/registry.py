"""A homeowner's personal data across the lifecycle, for their export and their erasure (PIPL): the registry of
sections and the tools a section is written with.

Each app that holds something about a customer beyond the leads app's own records (the profile, properties,
leads and follow-ups) registers, from its ``AppConfig.ready``, the section of a customer's data it holds:
how to export it (plain rows), which files belong in the export, how to anonymise it, and whether something
of its own forbids erasing the customer now (a worksite under construction) or keeps the customer in use
(a contract). The leads app's export and erasure walk whatever is registered, so no stage imports the
stages that follow it.

What erasure keeps everywhere: counts, amounts, statuses, dates, scores and the staff involved — the
firm's figures — and the audit events themselves (who did what when), with the erased values redacted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Left, Replace

# Values as JSON carries them, the same as in the firm's full export.
from renocrm.privacy.exports import plain, table_columns

# What an erased free-text field or name reads afterwards.
ERASED = "[erased]"

Rows = dict[str, list[dict]]
# A file of the export: its path in the archive and its content (a stored file, or bytes made on the fly).
ExportFile = tuple[str, FieldFile | bytes]


@dataclass(frozen=True)
class Section:
    name: str
    export: Callable[..., Rows]  # (customer) -> {table: [row, …]}
    erase: Callable[..., None]  # (customer) -> None; anonymises this app's rows of the customer
    files: Callable[..., list[ExportFile]] | None = None  # (customer) -> [(archive path, file), …]
    blocks_erasure: Callable[..., str | None] | None = None  # (customer) -> why not now, or None
    holds: Callable[..., bool] | None = None  # (customer) -> still in use (retention must not erase)


_sections: dict[str, Section] = {}


def register(name: str, *, export, erase, files=None, blocks_erasure=None, holds=None) -> Section:
    """Register (or replace, on a second ``ready``) the section ``name``."""
    section = Section(name=name, export=export, erase=erase, files=files, blocks_erasure=blocks_erasure, holds=holds)
    _sections[name] = section
    return section


def sections() -> list[Section]:
    return list(_sections.values())


def erasure_blocks(customer) -> list[str]:
    """Every registered reason not to erase ``customer`` now (empty: erasure may go ahead)."""
    reasons = (section.blocks_erasure(customer) for section in sections() if section.blocks_erasure)
    return [reason for reason in reasons if reason]


def is_held(customer) -> bool:
    """Whether a later stage still uses ``customer`` (the lost-lead retention leaves them alone)."""
    return any(section.holds(customer) for section in sections() if section.holds)


# Rows ---------------------------------------------------------------------------------------------------------


def rows(queryset, *fields: str) -> list[dict]:
    """The queryset's ``fields`` (lookups such as ``"phase__name"`` allowed) as plain rows, oldest first."""
    return [{key: plain(value) for key, value in row.items()} for row in queryset.order_by("pk").values(*fields)]


def columns_but(model, *left_out: str) -> list[str]:
    """Every column of the model's rows for the export, but the firm's key and those named: a field added
    later is exported without anyone remembering to list it here."""
    return table_columns(model, leave_out=("tenant", *left_out))


def data_url_bytes(value: str) -> bytes | None:
    """The bytes of a ``data:image/png;base64,…`` URL (a drawn signature), or None."""
    if not value or not value.startswith("data:") or "," not in value:
        return None
    try:
        return base64.b64decode(value.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return None


# Anonymising ------------------------------------------------------------------------------------------------


class Scrub:
    """Marks a text field whose free text is kept with the customer's name, mobile and addresses cut out:
    notes staff wrote about the work rather than about the person."""


SCRUB = Scrub()


def identifiers(customer) -> list[str]:
    """What identifies the customer in other rows' free text: their name, mobile and what finds their homes
    (each property's ``identifying_texts()``: the address, the compound and room, the street), longest first.
    Read once, before anything is anonymised, and kept on the instance for every section's erase; an
    already anonymised customer has none left."""
    cached = getattr(customer, "_personal_identifiers", None)
    if cached is None:
        if customer.anonymised_at is not None:
            cached = []
        else:
            addresses = [text for home in customer.properties.all() for text in home.identifying_texts()]
            # One-letter names would cut letters out of every note: too short to be an identifier.
            cached = sorted({value for value in (customer.name, customer.mobile, *addresses) if len(value) >= 2})
            cached.sort(key=len, reverse=True)  # a full address before a shorter name inside it
        customer._personal_identifiers = cached
    return cached


def scrubbed(model, field: str, customer):
    """An expression for ``field`` with the customer's identifiers replaced by "[erased]" (kept within the
    column's length: the marker may be longer than a short name)."""
    expression = F(field)
    for identifier in identifiers(customer):
        expression = Replace(expression, Value(identifier), Value(ERASED))
    max_length = model._meta.get_field(field).max_length
    if max_length and not isinstance(expression, F):
        expression = Left(expression, max_length)
    return expression


def anonymise(queryset, customer=None, **values) -> list[int]:
    """Set ``values`` (a value, or ``SCRUB``) on every row of ``queryset`` in one UPDATE, then redact the
    same fields in those rows' audit trail (the trigger has just recorded their old values). Returns the
    ids of the rows. Running it again changes nothing: the trigger records no unchanged row."""
    model = queryset.model
    pks = list(queryset.values_list("pk", flat=True))
    if not pks or not values:
        return pks
    updates = {field: scrubbed(model, field, customer) if value is SCRUB else value for field, value in values.items()}
    model.objects.filter(pk__in=pks).update(**updates)
    audit_redact(model, pks, [model._meta.get_field(field).column for field in values])
    return pks


def audit_redact(model, pks: Iterable[int], columns: Iterable[str]) -> int:
    """Replace the values of ``columns`` with "[erased]" in the audit trail of the rows ``pks`` of ``model``
    (the database function is the one door into the otherwise append-only trail). One statement a table."""
    pks, columns = [int(pk) for pk in pks], list(columns)
    if not pks or not columns:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(renocrm_audit_redact(%s, pk::text, %s)), 0) FROM unnest(%s::bigint[]) AS pk",
            [model._meta.db_table, columns, pks],
        )
        return cursor.fetchone()[0]


def delete_files_on_commit(files: Iterable[FieldFile | str]) -> None:
    """Remove stored files (or names in the default storage) once the erasure has committed: a rolled-back
    erasure keeps its files."""
    stored = [
        (file.storage, file.name) if isinstance(file, FieldFile) else (default_storage, file)
        for file in files
        if file and (file.name if isinstance(file, FieldFile) else True)
    ]
    if stored:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])
