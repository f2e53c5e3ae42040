"""Database-side tenancy: row-level security, composite tenant keys, the audit trigger and the app role.

``sync_tenant_tables()`` runs after every ``migrate`` on the owner connection. It is idempotent and
derives everything from the models, so a new tenant model is protected the moment its table exists.
Every key among tenant tables includes ``tenant_id`` (tests/tenancy/test_catalog.py checks the catalog),
which is what lets the tables be distributed by tenant (docs/scaling.md), and every column naming a user
has a key to the firm's memberships (``_ensure_member_foreign_key``).
"""

from __future__ import annotations

import hashlib
import logging

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from psycopg2 import sql

logger = logging.getLogger(__name__)

CURRENT_TENANT_SQL = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
POLICY_NAME = "tenant_isolation"


def tenant_models():
    from .models import TenantModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy
    ]


def tenant_table_names() -> set[str]:
    return {model._meta.db_table for model in tenant_models()}


def _name(prefix: str, *parts: str) -> str:
    # Postgres truncates identifiers at 63 bytes; a digest keeps generated names unique and stable.
    digest = hashlib.sha256(".".join(parts).encode()).hexdigest()[:10]
    return f"{parts[0][:40]}_{prefix}_{digest}"


def app_role_name() -> str:
    return settings.DATABASES["default"]["USER"]


def ensure_app_role(using: str = "owner") -> None:
    """Create the application role if missing: it may log in, and nothing more."""
    role = app_role_name()
    password = settings.DATABASES["default"].get("PASSWORD") or ""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN PASSWORD %s NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"
                ).format(sql.Identifier(role)),
                [password],
            )
        elif row[0] or row[1]:
            raise RuntimeError(f"The application role {role!r} is superuser or BYPASSRLS; it must be neither.")


def install_functions(cursor) -> None:
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION renocrm_audit() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
            new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
            changes jsonb;
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_array(old_row -> n.key, n.value)), '{}')
                  INTO changes
                  FROM jsonb_each(new_row) AS n
                 WHERE n.value IS DISTINCT FROM old_row -> n.key
                   AND n.key NOT IN ('updated_at', 'last_used_at');
                IF changes = '{}'::jsonb THEN
                    RETURN NULL;
                END IF;
            ELSE
                changes := coalesce(new_row, old_row);
            END IF;
            INSERT INTO audit_auditevent (
                tenant_id, at, action, table_name, row_id, actor_id, api_key_id, request_id, changes
            )
            VALUES (
                coalesce(NEW.tenant_id, OLD.tenant_id), clock_timestamp(), lower(TG_OP), TG_TABLE_NAME,
                coalesce(new_row ->> 'id', old_row ->> 'id'),
                NULLIF(current_setting('app.user_id', true), '')::bigint,
                NULLIF(current_setting('app.api_key_id', true), '')::bigint,
                coalesce(current_setting('app.request_id', true), ''),
                changes
            );
            RETURN NULL;
        END;
        $$;
        """
    )
    # ``updated_at`` moves on every UPDATE, bulk ``update()`` and raw SQL included, unless the statement set
    # it itself (a save sets it; a repair may backdate it). The row's time, not the transaction's: a mirror
    # polling by it misses less of a long transaction.
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION renocrm_touch() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
                NEW.updated_at := clock_timestamp();
            END IF;
            RETURN NEW;
        END;
        $$;
        """
    )
    # Erasing a person must also blank their details in the trail, which the application may otherwise
    # never change. This function is its one door: it runs as the owner, only on the current firm's rows
    # of one record, and replaces the named fields' values (old and new) with a marker.
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION renocrm_audit_redact(p_table text, p_row_id text, p_keys text[])
        RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE
            firm bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
            redacted integer;
        BEGIN
            IF firm IS NULL THEN
                RAISE EXCEPTION 'renocrm_audit_redact needs the current firm';
            END IF;
            UPDATE audit_auditevent AS e
               SET changes = (
                   SELECT coalesce(jsonb_object_agg(
                       c.key,
                       CASE WHEN c.key = ANY (p_keys) THEN
                           CASE WHEN jsonb_typeof(c.value) = 'array' AND e.action = 'update'
                                THEN jsonb_build_array('[erased]', '[erased]')
                                ELSE to_jsonb('[erased]'::text) END
                       ELSE c.value END), '{}'::jsonb)
                   FROM jsonb_each(e.changes) AS c)
             WHERE e.tenant_id = firm AND e.table_name = p_table AND e.row_id = p_row_id
               AND e.changes ?| p_keys;
            GET DIAGNOSTICS redacted = ROW_COUNT;
            RETURN redacted;
        END;
        $$;
        """
    )


def _ensure_tenant_foreign_key(cursor, table: str, column: str, target: str) -> None:
    """Make ``(tenant_id, column)`` reference ``target (tenant_id, id)`` and drop Django's own key on the
    column alone.

    The composite key refuses both another firm's row and a dangling id, so the single-column key adds no
    integrity; it is dropped because a key between firm tables that leaves out the tenant cannot be kept
    once the tables are distributed by tenant (docs/scaling.md). Django's later AlterField and RemoveField
    find a field's key by introspection and cope with finding none (``_alter_field`` without ``strict``);
    if one of them re-creates the single-column key, the next ``migrate`` drops it again here.
    """
    fk = _name("tenant_fk", table, column)
    cursor.execute(
        "SELECT c.conname, c.confrelid = %s::regclass FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = %s "
        "WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND (c.conname = %s OR c.conkey = array[a.attnum])",
        [target, column, table, fk],
    )
    found = dict(cursor.fetchall())
    t = sql.Identifier(table)
    if fk in found and not found[fk]:
        # A composite key left pointing at the field's former target.
        cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(t, sql.Identifier(fk)))
    if not found.get(fk):
        cursor.execute(
            sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY (tenant_id, {}) REFERENCES {} (tenant_id, id)"
            ).format(t, sql.Identifier(fk), sql.Identifier(column), sql.Identifier(target))
        )
    # Only once the composite key is in place: Django's key on the column alone.
    for name in found.keys() - {fk}:
        cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(t, sql.Identifier(name)))


MEMBERSHIP_TABLE = "accounts_membership"


def staff_columns(model) -> list:
    """A tenant model's foreign keys to the user: each names one of the row's firm's staff.

    A reference the database does not hold (``db_constraint=False``) is left out: the audit trail's actor
    records who acted and must outlive them, whoever they were."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        field
        for field in model._meta.concrete_fields
        if (field.many_to_one or field.one_to_one) and field.related_model is user_model and field.db_constraint
    ]


def _ensure_member_foreign_key(cursor, table: str, column: str) -> None:
    """Make ``(tenant_id, column)`` reference the firm's memberships, ``accounts_membership (tenant_id,
    user_id)``: a row can name only a member of its own firm, whatever the application does (another firm's
    user, or a user of no firm, is refused). A member who leaves keeps their membership, made inactive, so
    the rows naming them stand; deleting a membership that rows still name is refused, like PROTECT.

    Django's own key on the user column alone stays (the user table is a platform table, a reference table
    once distributed). The key is added ``NOT VALID`` and then validated, so that a database holding rows
    from before the key still migrates: they are logged, the key already refuses every new write, and the
    next ``migrate`` validates it once they are put right."""
    fk = _name("member_fk", table, column)
    cursor.execute("SELECT convalidated FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s", [table, fk])
    row = cursor.fetchone()
    t, name = sql.Identifier(table), sql.Identifier(fk)
    if row is None:
        cursor.execute(
            sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY (tenant_id, {}) REFERENCES {} (tenant_id, user_id) "
                "NOT VALID"
            ).format(t, name, sql.Identifier(column), sql.Identifier(MEMBERSHIP_TABLE))
        )
    elif row[0]:
        return
    try:
        with transaction.atomic(using=cursor.db.alias):
            cursor.execute(sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(t, name))
    except IntegrityError:
        logger.warning(
            "tenancy: %s.%s names users who are not members of the row's firm; the key %s refuses new ones "
            "but stays unvalidated until those rows are put right",
            table,
            column,
            fk,
        )


def ensure_touch_trigger(cursor, table: str) -> None:
    """``renocrm_touch`` on ``table``: its ``updated_at`` moves on every UPDATE (see ``install_functions``)."""
    t = sql.Identifier(table)
    cursor.execute(sql.SQL("DROP TRIGGER IF EXISTS renocrm_touch ON {}").format(t))
    cursor.execute(
        sql.SQL(
            "CREATE TRIGGER renocrm_touch BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION renocrm_touch()"
        ).format(t)
    )


def sync_tenant_tables(using: str = "owner") -> None:
    """Bring every tenant table's policy, keys, trigger and grants in line with the models."""
    connection = connections[using]
    role = sql.Identifier(app_role_name())
    models_by_table = {model._meta.db_table: model for model in tenant_models()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cursor.fetchall()}
        install_functions(cursor)
        cursor.execute("SELECT conname FROM pg_constraint")
        constraints = {row[0] for row in cursor.fetchall()}

        for table, model in sorted(models_by_table.items()):
            if table not in existing:
                continue
            t = sql.Identifier(table)
            cursor.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(t))
            cursor.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(t))
            # Replaced in one transaction: between a bare DROP and the CREATE, forced security with no policy
            # would refuse the application every row of the table (a migrate during live traffic).
            with transaction.atomic(using=using):
                cursor.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(POLICY_NAME), t))
                using_clause = sql.SQL("tenant_id = {}").format(sql.SQL(CURRENT_TENANT_SQL))
                if model.rls_also_readable_when:
                    using_clause = sql.SQL("({}) OR ({})").format(using_clause, sql.SQL(model.rls_also_readable_when))
                cursor.execute(
                    sql.SQL("CREATE POLICY {} ON {} USING ({}) WITH CHECK (tenant_id = {})").format(
                        sql.Identifier(POLICY_NAME), t, using_clause, sql.SQL(CURRENT_TENANT_SQL)
                    )
                )
            key = _name("tenant_key", table)
            if key not in constraints:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE (tenant_id, id)").format(t, sql.Identifier(key))
                )
                constraints.add(key)

        # Composite keys after all targets have their (tenant_id, id) key.
        for table, model in sorted(models_by_table.items()):
            if table not in existing:
                continue
            for field in model._meta.concrete_fields:
                target = field.related_model if field.many_to_one or field.one_to_one else None
                if (
                    target is None
                    or target._meta.db_table not in models_by_table
                    or field.name == "tenant"
                    or not field.db_constraint  # a reference meant to outlive its target (the audit trail)
                ):
                    continue
                _ensure_tenant_foreign_key(cursor, table, field.column, target._meta.db_table)
            if MEMBERSHIP_TABLE in existing:
                for field in staff_columns(model):
                    _ensure_member_foreign_key(cursor, table, field.column)

        for table, model in sorted(models_by_table.items()):
            if table not in existing:
                continue
            t = sql.Identifier(table)
            ensure_touch_trigger(cursor, table)
            cursor.execute(sql.SQL("DROP TRIGGER IF EXISTS renocrm_audit ON {}").format(t))
            if model.audited:
                cursor.execute(
                    sql.SQL(
                        "CREATE TRIGGER renocrm_audit AFTER INSERT OR UPDATE OR DELETE ON {} "
                        "FOR EACH ROW EXECUTE FUNCTION renocrm_audit()"
                    ).format(t)
                )

        # The application role reads and writes rows; it owns nothing and cannot change the schema.
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        cursor.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role)
        )
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))
        # The audit trail is append-only for the application.
        if "audit_auditevent" in existing:
            cursor.execute(sql.SQL("REVOKE UPDATE, DELETE ON audit_auditevent FROM {}").format(role))
        cursor.execute(sql.SQL("GRANT EXECUTE ON FUNCTION renocrm_audit_redact(text, text, text[]) TO {}").format(role))
    logger.info("tenancy: synchronised %d tenant tables", len(models_by_table))
