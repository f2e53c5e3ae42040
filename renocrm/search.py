"""What was typed into the header's search box, read once for every kind of record the search looks in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

from renocrm.mobiles import normalize_mobile

MIN_LENGTH = 2
MAX_LENGTH = 50
# The part of a mobile number everyone sees (138****5678): the last four digits.
VISIBLE_DIGITS = 4


@dataclass(frozen=True)
class SearchTerms:
    text: str
    # The query as a mobile number's digits (spaces, dashes, +86 removed) when it is one, else "".
    digits: str
    # Whether the searcher sees full contact details: without that, a mobile number is found only by the
    # digits its masked form shows, and addresses are not searched at all.
    full_contacts: bool

    @classmethod
    def parse(cls, raw: str | None, *, full_contacts: bool) -> SearchTerms:
        text = re.sub(r"\s+", " ", (raw or "").strip())[:MAX_LENGTH]
        digits = normalize_mobile(text)
        return cls(text=text, digits=digits if digits.isdigit() else "", full_contacts=full_contacts)

    @property
    def usable(self) -> bool:
        return len(self.text) >= MIN_LENGTH

    def mobile_match(self, field: str) -> Q | None:
        """Numbers containing the typed digits (at least four), or, without full contacts, ending with them."""
        if len(self.digits) < VISIBLE_DIGITS:
            return None
        if self.full_contacts:
            return Q(**{f"{field}__contains": self.digits})
        if len(self.digits) == VISIBLE_DIGITS:
            return Q(**{f"{field}__endswith": self.digits})
        return None

    def person_match(self, prefix: str = "") -> Q:
        """A customer by name, or by mobile number as ``mobile_match`` allows, through ``prefix``."""
        match = Q(**{f"{prefix}name__icontains": self.text})
        mobile = self.mobile_match(f"{prefix}mobile")
        return match | mobile if mobile is not None else match


# Trigram indexes ----------------------------------------------------------------------------------------------
# The searched columns get GIN trigram indexes led by the firm (pg_trgm and btree_gin), on the expressions the
# ORM writes: ``icontains`` is ``UPPER(col::text) LIKE UPPER(%s)``. An embedded server without those
# extensions gets none: the same queries then read the firm's rows in order, slower but with the same answers.
TRIGRAM_EXTENSIONS = ("pg_trgm", "btree_gin")


def _trigram_sql(table: str, column: str, *, upper: bool) -> tuple[str, str]:
    name = f"{table}_{column}_trgm"
    expression = f"upper(({column})::text)" if upper else f"({column})::text"
    return name, f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (tenant_id, ({expression}) gin_trgm_ops)"


def trigram_indexes(*columns: tuple[str, str, bool]):
    """A migration operation adding a trigram index per (table, column, searched case-insensitively), when
    the server has the extensions."""
    from django.db import migrations

    def forward(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = ANY(%s)", [list(TRIGRAM_EXTENSIONS)]
            )
            if cursor.fetchone()[0] < len(TRIGRAM_EXTENSIONS):
                return
            for extension in TRIGRAM_EXTENSIONS:
                cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
            for table, column, upper in columns:
                cursor.execute(_trigram_sql(table, column, upper=upper)[1])

    def backward(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for table, column, upper in columns:
                cursor.execute(f"DROP INDEX IF EXISTS {_trigram_sql(table, column, upper=upper)[0]}")

    return migrations.RunPython(forward, backward)
