"""What was typed into the header's search box, read once for every kind of record the search looks in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db.models import CharField, F, Func, Index, Lookup, TextField, Transform
from django.db.models.expressions import Col
from django.db.models.functions import Right

from renocrm.tenancy.context import require_current_tenant

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


# Firm-tagged bigram indexes ------------------------------------------------------------------------------------
# Chinese names are two or three characters and a typed search is often two (王芳), which no trigram index can
# serve; so a searched column is indexed by its bigrams, each prefixed with the firm's id ("17:王芳"), in a GIN
# index over an immutable SQL function. A search looks up the bigrams of what was typed under the current
# firm, so the index reads only that firm's candidates, and a LIKE on the column keeps the answer exact. Plain
# GIN over text[] is core PostgreSQL: the embedded server has it too.
GRAMS_FUNCTION = "renocrm_search_grams"
GRAMS_SQL = """
CREATE OR REPLACE FUNCTION renocrm_search_grams(firm bigint, value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT firm::text || ':' || substr(v, i, 2)), '{}')
      FROM (SELECT upper(value) AS v) AS s, generate_series(1, length(v) - 1) AS i
$$
"""


def install_grams_function():
    """The migration operation that creates the function the bigram indexes are built on."""
    from django.db import migrations

    return migrations.RunSQL(GRAMS_SQL, f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(bigint, text)")


class Grams(Func):
    """A column's firm-tagged bigrams: the expression a searched column's GIN index is built on."""

    function = GRAMS_FUNCTION
    output_field = ArrayField(TextField())

    def __init__(self, column: str, **extra):
        super().__init__(F("tenant_id"), F(column), **extra)


def grams_index(column: str, name: str) -> GinIndex:
    return GinIndex(Grams(column), name=name)


class Finds(Lookup):
    """``<column>__finds=<text>``: the column holds the text anywhere, any case — ``icontains`` answered
    through the column's bigram index (``grams_index``) under the current firm."""

    lookup_name = "finds"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.lhs)
        firm_field = self.lhs.target.model._meta.get_field("tenant")
        firm, firm_params = compiler.compile(Col(self.lhs.alias, firm_field))
        pattern = f"%{connection.ops.prep_for_like_query(self.rhs)}%"
        sql = f"{GRAMS_FUNCTION}({firm}, {column}) @> {GRAMS_FUNCTION}(%s, %s) AND UPPER({column}::text) LIKE UPPER(%s)"
        params = (*firm_params, *column_params, require_current_tenant().pk, self.rhs, *column_params, pattern)
        return sql, params


class LastFour(Transform):
    """``mobile__last_four="5678"``: the digits a masked mobile shows, read through an index on
    ``(tenant, RIGHT(mobile, 4))``."""

    lookup_name = "last_four"
    function = "RIGHT"
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.lhs)
        return f"RIGHT({column}, 4)", params


def last_four_index(column: str, name: str) -> Index:
    return Index(F("tenant_id"), Right(column, 4), name=name)
