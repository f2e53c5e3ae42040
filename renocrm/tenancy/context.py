"""The current firm: a context variable for the ORM scope plus transaction-local PostgreSQL settings for RLS.

Every read or write of tenant data happens inside ``tenant_context(tenant)``. It opens a transaction
(or a savepoint) and runs ``set_config('app.tenant_id', …, true)`` — the ``SET LOCAL`` form — so the
row-level-security policies see the firm only for that transaction. A pooled connection handed to the
next request therefore carries no firm at all, and a query that escaped the ORM scope sees zero rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections, transaction


class TenantScopeError(RuntimeError):
    """Tenant data was reached with no current firm. The scope fails closed instead of showing every firm."""


@dataclass(frozen=True)
class Scope:
    tenant: object  # renocrm.tenancy.models.Tenant
    user_id: int | None = None
    request_id: str = ""
    api_key_id: int | None = None  # the partner's key acting, for the audit trail


_scope: ContextVar[Scope | None] = ContextVar("renocrm_scope", default=None)


def get_current_tenant():
    scope = _scope.get()
    return scope.tenant if scope else None


def require_current_tenant():
    tenant = get_current_tenant()
    if tenant is None:
        raise TenantScopeError(
            "No current firm. Wrap the code in tenant_context(tenant); requests and tasks do this for you."
        )
    return tenant


def current_user_id() -> int | None:
    scope = _scope.get()
    return scope.user_id if scope else None


def _apply(cursor, scope: Scope | None) -> None:
    cursor.execute(
        "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true),"
        " set_config('app.request_id', %s, true), set_config('app.api_key_id', %s, true)",
        [
            str(scope.tenant.pk) if scope else "",
            str(scope.user_id) if scope and scope.user_id else "",
            scope.request_id if scope else "",
            str(scope.api_key_id) if scope and scope.api_key_id else "",
        ],
    )


@contextmanager
def tenant_context(
    tenant, *, user_id: int | None = None, request_id: str = "", api_key_id: int | None = None, using: str = "default"
):
    """Run the block as ``tenant``: ORM scope, RLS setting and audit actor, all in one transaction.

    Nesting is allowed (a task run eagerly inside a request): the inner block runs in a savepoint and the
    outer firm is restored on the way out. On an exception the savepoint rollback restores it by itself.
    """
    if tenant is None:
        raise TenantScopeError("tenant_context() needs a firm.")
    outer = _scope.get()
    scope = Scope(
        tenant=tenant,
        user_id=user_id,
        request_id=request_id or (outer.request_id if outer else ""),
        api_key_id=api_key_id,
    )
    nested = connections[using].in_atomic_block
    token = _scope.set(scope)
    try:
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                _apply(cursor, scope)
            yield tenant
            if nested and not connections[using].needs_rollback:
                # A released savepoint keeps the inner setting, so put the outer firm back explicitly
                # (a savepoint marked for rollback restores it by itself).
                with connections[using].cursor() as cursor:
                    _apply(cursor, outer)
    finally:
        _scope.reset(token)
