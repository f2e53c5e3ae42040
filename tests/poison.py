"""Poisoned rows for the sweep tests: a database trigger, installed by the owner, that refuses to write one
chosen row of a table — the way a row a sweeper cannot handle looks in production (a constraint it breaks,
a bug its data trips), without mocking our own database.

``poisoned_tables`` installs the trigger for the whole module; inside a test, ``poison(table, value)``
makes every insert, update or delete of that table whose trigger column holds ``value`` raise, and
``cure(table)`` mends it. The setting lives on the test's connection and dies with its transaction."""

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

FUNCTION = """
CREATE OR REPLACE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    value text := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END ->> TG_ARGV[0];
BEGIN
    IF value = ANY (string_to_array(current_setting('poison.' || TG_TABLE_NAME, true), ',')) THEN
        RAISE EXCEPTION 'poisoned row: % %=%', TG_TABLE_NAME, TG_ARGV[0], value;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$
"""


def _owner():
    owner = settings.DATABASES["owner"]
    conn = psycopg2.connect(
        dbname=owner["NAME"],
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
        host=owner.get("HOST") or None,
        port=owner.get("PORT") or None,
    )
    conn.autocommit = True
    return conn


def poisoned_tables(*tables):
    """A module fixture installing the trigger on each ``(table, column)``; use it with
    ``pytestmark = pytest.mark.usefixtures("poisonable")``."""

    @pytest.fixture(scope="module")
    def poisonable(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            conn = _owner()
            with conn.cursor() as cursor:
                cursor.execute(FUNCTION)
                for table, column in tables:
                    cursor.execute(
                        f"CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE OR DELETE ON {table} "
                        f"FOR EACH ROW EXECUTE FUNCTION test_poison('{column}')"
                    )
        yield
        with django_db_blocker.unblock(), conn.cursor() as cursor:
            for table, _column in tables:
                cursor.execute(f"DROP TRIGGER test_poison ON {table}")
            conn.close()

    return poisonable


def poison(table: str, *values) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [f"poison.{table}", ",".join(str(v) for v in values)])


def cure(table: str) -> None:
    poison(table)
