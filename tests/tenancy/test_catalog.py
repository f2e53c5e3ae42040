"""The database's own walls: forced row-level security on every firm table, an application role that can
neither bypass it nor change the schema, and composite keys that keep references inside one firm."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.db import POLICY_NAME, staff_columns, tenant_models
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
    if field.is_relation and field.name != "tenant" and field.related_model in TENANT_MODELS and field.db_constraint
]


def test_the_only_references_the_database_does_not_hold_are_the_audit_trails():
    """A reference without a key (``db_constraint=False``) would escape the walls above; only the audit
    trail's, which must outlive what it names, may."""
    loose = {
        f"{model._meta.db_table}.{field.column}"
        for model in TENANT_MODELS
        for field in model._meta.concrete_fields
        if field.is_relation and not field.db_constraint
    }
    assert loose == {"audit_auditevent.actor_id", "audit_auditevent.api_key_id"}


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


@pytest.mark.parametrize(("model", "field"), FOREIGN_KEYS, ids=lambda x: getattr(x, "name", None) or x._meta.label)
def test_a_row_cannot_point_at_a_missing_row(model, field, firm_a):
    """With Django's own single-column keys dropped, the composite key alone still refuses a dangling id."""
    with tenant_context(firm_a):
        row = factories_by_model()[model]()
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{model._meta.db_table}" SET "{field.column}" = %s WHERE id = %s',  # noqa: S608
                [2**31 - 1, row.pk],
            )


# The catalog itself: every key among firm tables goes through the firm, so the tables can be distributed by
# tenant_id (docs/scaling.md) without a key that would have to reach across shards.

TENANT_TABLES = sorted(model._meta.db_table for model in TENANT_MODELS)

# Unique indexes on a firm table that may leave the firm out: a token looked up before the firm is known,
# whose row is what tells the firm. None today: API keys are found by their prefix through a plain index
# (unique per firm, api_key_unique_prefix); portal links carry a signed token naming the firm.
GLOBALLY_UNIQUE: dict[str, str] = {}

# Keys from a table outside the firm tables to a firm table (with the reason it must stay). None today:
# accounts_membership and the many-to-many tables of users point at platform tables only.
PLATFORM_REFERENCES: dict[tuple[str, str], str] = {}


def test_every_tenant_table_carries_a_required_tenant_column(db):
    rows = dict(
        fetch(
            "SELECT c.relname, a.attnotnull FROM pg_class c "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
            "WHERE c.oid = ANY(%s::regclass[])",
            [TENANT_TABLES],
        )
    )
    assert sorted(rows) == TENANT_TABLES
    assert [table for table, not_null in rows.items() if not not_null] == []


def test_every_unique_key_of_a_tenant_table_includes_the_tenant(db):
    """UNIQUE constraints and unique indexes, partial ones included; only the primary key (id) is exempt."""
    indexes = fetch(
        "SELECT c.relname, i.indexrelid::regclass::text, i.indisprimary, "
        "array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
        "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n), "
        "pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE i.indisunique AND c.oid = ANY(%s::regclass[])",
        [TENANT_TABLES],
    )
    assert len(indexes) > len(TENANT_TABLES), "the catalog query finds the unique keys"
    primary = {table: columns for table, _, is_primary, columns, _ in indexes if is_primary}
    # (tenant_id, id) once the tables are distributed (docs/scaling.md).
    assert {table: columns in (["id"], ["tenant_id", "id"]) for table, columns in primary.items()} == dict.fromkeys(
        TENANT_TABLES, True
    )
    # A partial unique index (UniqueConstraint with a condition) is checked like any other.
    assert any(" WHERE " in definition for *_, definition in indexes)
    without_tenant = {
        name: definition
        for _, name, is_primary, columns, definition in indexes
        if not is_primary and "tenant_id" not in columns and name not in GLOBALLY_UNIQUE
    }
    assert without_tenant == {}
    for table in TENANT_TABLES:
        assert [table, ["tenant_id", "id"]] in [[t, columns] for t, _, _, columns, _ in indexes], table


def test_every_key_between_tenant_tables_includes_the_tenant_on_both_sides(db):
    keys = fetch(
        "SELECT f.conrelid::regclass::text, f.conname, f.confrelid::regclass::text, "
        "array(SELECT a.attname::text FROM unnest(f.conkey) WITH ORDINALITY AS k(attnum, n) "
        "      JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum ORDER BY k.n), "
        "array(SELECT a.attname::text FROM unnest(f.confkey) WITH ORDINALITY AS k(attnum, n) "
        "      JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum ORDER BY k.n) "
        "FROM pg_constraint f WHERE f.contype = 'f' "
        "AND f.conrelid = ANY(%s::regclass[]) AND f.confrelid = ANY(%s::regclass[])",
        [TENANT_TABLES, TENANT_TABLES],
    )
    assert len(keys) >= len(FOREIGN_KEYS), "every foreign key between firm tables has a key in the database"
    # The tenant column of one side meets the tenant column of the other, not some other column.
    wrong = [
        (table, name, columns, target, target_columns)
        for table, name, target, columns, target_columns in keys
        if "tenant_id" not in columns or target_columns[columns.index("tenant_id")] != "tenant_id"
    ]
    assert wrong == []
    by_column = {(table, columns[-1]): target for table, _, target, columns, _ in keys}
    for model, field in FOREIGN_KEYS:
        assert by_column.get((model._meta.db_table, field.column)) == field.related_model._meta.db_table


def test_no_platform_table_references_a_tenant_table(db):
    keys = fetch(
        "SELECT f.conrelid::regclass::text, f.confrelid::regclass::text, pg_get_constraintdef(f.oid) "
        "FROM pg_constraint f WHERE f.contype = 'f' "
        "AND NOT f.conrelid = ANY(%s::regclass[]) AND f.confrelid = ANY(%s::regclass[])",
        [TENANT_TABLES, TENANT_TABLES],
    )
    assert [key for key in keys if (key[0], key[1]) not in PLATFORM_REFERENCES] == []


# Columns of firm tables that name a user: each names a member of the row's firm, through a key to the firm's
# memberships (renocrm.tenancy.db.staff_columns), except these, with the reason.
USER_COLUMNS_WITHOUT_MEMBER_KEY = {
    # Who made a change: kept as it was after they leave (or the user is gone); the column has no key at all.
    ("audit_auditevent", "actor_id"): "the audit trail records whoever acted",
}
STAFF_COLUMNS = [(model, field) for model in TENANT_MODELS for field in staff_columns(model)]


def test_every_column_naming_a_user_is_a_staff_column_or_a_named_exception():
    user = get_user_model()
    naming_a_user = {
        (model._meta.db_table, field.column)
        for model in TENANT_MODELS
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is user
    }
    staff = {(model._meta.db_table, field.column) for model, field in STAFF_COLUMNS}
    assert naming_a_user - staff == set(USER_COLUMNS_WITHOUT_MEMBER_KEY)
    assert len(staff) >= 50


def test_every_staff_column_has_a_validated_key_to_the_firms_memberships(db):
    def keys(target):
        return fetch(
            "SELECT f.conrelid::regclass::text, f.convalidated, "
            "array(SELECT a.attname::text FROM unnest(f.conkey) WITH ORDINALITY AS k(attnum, n) "
            "      JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum ORDER BY k.n), "
            "array(SELECT a.attname::text FROM unnest(f.confkey) WITH ORDINALITY AS k(attnum, n) "
            "      JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum ORDER BY k.n) "
            "FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = %s::regclass "
            "AND f.conrelid = ANY(%s::regclass[])",
            [target, TENANT_TABLES],
        )

    to_members = {
        (table, columns[1]): (validated, target_columns)
        for table, validated, columns, target_columns in keys("accounts_membership")
        if columns[0] == "tenant_id" and len(columns) == 2
    }
    expected = {(model._meta.db_table, field.column) for model, field in STAFF_COLUMNS}
    assert {column: to_members.get(column) for column in expected} == dict.fromkeys(
        expected, (True, ["tenant_id", "user_id"])
    )
    # Read from the catalog too: every firm-table column with a key to the user table has one to the members.
    to_users = {(table, columns[0]) for table, _, columns, _ in keys("accounts_user")}
    assert to_users <= to_members.keys()


@pytest.mark.parametrize(("model", "field"), STAFF_COLUMNS, ids=lambda x: getattr(x, "name", None) or x._meta.label)
def test_a_row_cannot_name_a_user_outside_its_firm(model, field, firm_a, firm_b):
    from tests.factories import StaffFactory, UserFactory

    with tenant_context(firm_b):
        outsider = StaffFactory()
    stranger = UserFactory()
    with tenant_context(firm_a):
        row = factories_by_model()[model]()
        leaver = StaffFactory(membership__is_active=False)
        for user in (outsider, stranger):
            with pytest.raises(IntegrityError), transaction.atomic():
                model.objects.filter(pk=row.pk).update(**{field.name: user})
        model.objects.filter(pk=row.pk).update(**{field.name: leaver})  # a member who has left still stands
