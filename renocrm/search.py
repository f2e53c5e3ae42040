"""What was typed into the header's search box, read once for every kind of record the search looks in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db.models import F, Func, Index, Lookup, TextField
from django.db.models.expressions import Col
from django.db.models.functions import Right

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
#
# Row-level security lets the planner use an index only for conditions it knows cannot leak (leakproof
# operators), and array containment is not one: under the firm's policy the index would never be read. So
# each searched column has a finder, ``renocrm_find_<table>_<column>(words)``, a SECURITY DEFINER function
# run as the tables' owner: it returns the ids of the current firm's rows whose bigrams hold the words' —
# ids only, of the firm the transaction is set to — and the query takes the rows by primary key, under the
# policy as always. An owner without BYPASSRLS still gets the right answer, without the index's speed.
GRAMS_FUNCTION = "renocrm_search_grams"
GRAMS_SQL = """
CREATE OR REPLACE FUNCTION renocrm_search_grams(firm bigint, value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT firm::text || ':' || substr(v, i, 2)), '{}')
      FROM (SELECT upper(value) AS v) AS s, generate_series(1, length(v) - 1) AS i
$$
"""
CURRENT_FIRM_SQL = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
# What each kind of finder asks of a row; ``words`` is the function's argument.
FINDER_CONDITIONS = {
    "finds": f"{GRAMS_FUNCTION}(tenant_id, {{column}}::text) @> {GRAMS_FUNCTION}({CURRENT_FIRM_SQL}, words)",
    "last_four": f"tenant_id = {CURRENT_FIRM_SQL} AND right({{column}}::text, 4) = words",
}


def install_grams_function():
    """The migration operation that creates the function the bigram indexes are built on."""
    from django.db import migrations

    return migrations.RunSQL(GRAMS_SQL, f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(bigint, text)")


def finder_name(table: str, column: str, kind: str) -> str:
    return f"renocrm_find_{table}_{column}" + ("" if kind == "finds" else f"_{kind}")


def install_finders(*finders: tuple[str, str, str]):
    """The migration operation creating the finder of each (table, column, kind): kind "finds" reads the
    column's ``grams_index``, "last_four" its ``last_four_index``."""
    from django.db import migrations

    create, drop = [], []
    for table, column, kind in finders:
        name = finder_name(table, column, kind)
        condition = FINDER_CONDITIONS[kind].format(column=column)
        # ROWS: a search finds a handful, so the caller's plan takes them by primary key.
        header = f"CREATE OR REPLACE FUNCTION {name}(words text) RETURNS SETOF bigint LANGUAGE sql STABLE"
        body = f"SELECT id FROM {table} WHERE {condition}"  # noqa: S608 (the migration's own constants)
        create.append(f"{header} SECURITY DEFINER SET search_path = public ROWS 20 AS $$ {body} $$")
        drop.append(f"DROP FUNCTION IF EXISTS {name}(text)")
    return migrations.RunSQL(create, drop)


class Grams(Func):
    """A column's firm-tagged bigrams: the expression a searched column's GIN index is built on."""

    function = GRAMS_FUNCTION
    output_field = ArrayField(TextField())

    def __init__(self, column: str, **extra):
        super().__init__(F("tenant_id"), F(column), **extra)


def grams_index(column: str, name: str) -> GinIndex:
    return GinIndex(Grams(column), name=name)


def last_four_index(column: str, name: str) -> Index:
    return Index(F("tenant_id"), Right(column, 4), name=name)


class _FinderLookup(Lookup):
    prepare_rhs = False

    def _by_finder(self, compiler, words: str) -> tuple[str, list]:
        """``<table>.id`` among the finder's ids, for the row the lookup's column belongs to. As ``= ANY`` of
        an array (computed once): the plan reads those ids by primary key — several searched columns ORed
        become one bitmap of them — instead of testing each of the firm's rows against a set."""
        target = self.lhs.target
        pk, pk_params = compiler.compile(Col(self.lhs.alias, target.model._meta.pk))
        name = finder_name(target.model._meta.db_table, target.column, self.lookup_name)
        return f"{pk} = ANY(ARRAY(SELECT {name}(%s)))", [*pk_params, words]


class Finds(_FinderLookup):
    """``<column>__finds=<text>``: the column holds the text anywhere, any case (``icontains``), answered
    through the column's finder; the LIKE keeps the answer exact where bigrams only narrowed it."""

    lookup_name = "finds"

    def as_sql(self, compiler, connection):
        candidates, params = self._by_finder(compiler, self.rhs)
        column, column_params = compiler.compile(self.lhs)
        pattern = f"%{connection.ops.prep_for_like_query(self.rhs)}%"
        return f"{candidates} AND UPPER({column}::text) LIKE UPPER(%s)", [*params, *column_params, pattern]


class LastFour(_FinderLookup):
    """``mobile__last_four="5678"``: the digits a masked mobile shows."""

    lookup_name = "last_four"

    def as_sql(self, compiler, connection):
        return self._by_finder(compiler, self.rhs)
