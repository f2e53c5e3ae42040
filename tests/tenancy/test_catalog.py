"""The database's own walls: forced row-level security on every firm table, an application role that can
neither bypass it nor change the schema, and composite keys that keep references inside one firm."""

import pytest
from django.db import IntegrityError, connection, transaction

from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.db import POLICY_NAME, tenant_models
from tests.registry import factories_by_model

TENANT_MODELS = sorted(tenant_models(), key=lambda model: model._meta.label)


def fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_every_table_with_a_tenant_column_is_a_tenant_model(db):
    tables = {
        row[0]
        for row in fetch(
            "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.attname = 'tenant_id' AND c.relkind = 'r' AND n.nspname = 'public'"
        )
    }
    platform = {"accounts_membership"}  # the firm switcher reads a user's links to firms
    assert tables - platform == {model._meta.db_table for model in TENANT_MODELS}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model._meta.label)
def test_tenant_table_has_an_enabled_forced_policy(db, model):
    [(enabled, forced)] = fetch(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [model._meta.db_table]
    )
    assert enabled and forced
    policies = fetch(
        "SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = %s::regclass",
        [model._meta.db_table],
    )
    assert [name for name, _ in policies] == [POLICY_NAME]
    assert "app.tenant_id" in policies[0][1]


def test_application_role_is_walled_in(db):
    [(role, superuser, bypass, createrole, createdb)] = fetch(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert not (superuser or bypass or createrole or createdb), role
    assert fetch(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [role]
    ) == [(0,)]
    with (
        pytest.raises(Exception, match="permission denied|must be owner"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("ALTER TABLE api_apikey DISABLE ROW LEVEL SECURITY")


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model._meta.label)
def test_rows_of_one_firm_are_invisible_to_another(model, firm_a, firm_b):
    factory = factories_by_model().get(model)
    assert factory is not None, f"No factory for {model._meta.label}: add one to a tests/**/factories.py"
    with tenant_context(firm_a):
        row = factory()
    table = model._meta.db_table
    count_sql = f'SELECT count(*) FROM "{table}" WHERE id = %s'  # noqa: S608 (table name from the model)
    with tenant_context(firm_a):
        assert model.objects.filter(pk=row.pk).exists()
        assert fetch(count_sql, [row.pk]) == [(1,)]
    with tenant_context(firm_b):
        assert not model.objects.filter(pk=row.pk).exists()
        assert fetch(count_sql, [row.pk]) == [(0,)]
    assert fetch(count_sql, [row.pk]) == [(0,)], "no firm set: raw SQL sees nothing"


FOREIGN_KEYS = [
    (model, field)
    for model in TENANT_MODELS
    for field in model._meta.concrete_fields
    if field.is_relation and field.name != "tenant" and field.related_model in TENANT_MODELS
]


@pytest.mark.parametrize(("model", "field"), FOREIGN_KEYS, ids=lambda x: getattr(x, "name", None) or x._meta.label)
def test_a_row_cannot_point_at_another_firms_row(model, field, firm_a, firm_b):
    factories = factories_by_model()
    with tenant_context(firm_b):
        foreign_target = factories[field.related_model]()
    with tenant_context(firm_a):
        row = factories[model]()
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{model._meta.db_table}" SET "{field.column}" = %s WHERE id = %s',  # noqa: S608
                [foreign_target.pk, row.pk],
            )
