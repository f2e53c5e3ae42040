"""What was typed into the header's search box, read once for every kind of record the search looks in."""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_LENGTH = 2
MAX_LENGTH = 50


@dataclass(frozen=True)
class SearchTerms:
    text: str
    # Whether the searcher sees full contact details: without them a mobile number is found only by the digits
    # its masked form shows (``leads.selectors.customer_match``), and homes are not found by their address.
    full_contacts: bool

    @classmethod
    def parse(cls, raw: str | None, *, full_contacts: bool) -> SearchTerms:
        return cls(text=re.sub(r"\s+", " ", (raw or "").strip())[:MAX_LENGTH], full_contacts=full_contacts)

    @property
    def usable(self) -> bool:
        return len(self.text) >= MIN_LENGTH


# Trigram indexes ----------------------------------------------------------------------------------------------
# The searched columns get GIN trigram indexes (pg_trgm) on the expressions the ORM writes: ``icontains`` is
# ``UPPER(col::text) LIKE UPPER(%s)``. Not led by the firm: the firm's id comes as an integer parameter, which a
# btree_gin bigint column cannot use, so row-level security and the firm filter narrow the index's matches. A
# pattern shorter than three characters (a two-character name) has no trigram and reads the firm's rows by its
# own index. An embedded server without pg_trgm gets no index: the same queries, slower, same answers.
TRIGRAM_EXTENSIONS = ("pg_trgm",)


def _trigram_sql(table: str, column: str, *, upper: bool) -> tuple[str, str]:
    name = f"{table}_{column}_trgm"
    expression = f"upper(({column})::text)" if upper else f"({column})::text"
    return name, f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)"


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
