"""Bearer secrets with a public prefix: partners' API keys, staff members' calendar addresses.

A token is ``[label_]<prefix>_<secret>``: the prefix (12 hex digits) finds the row before any firm is known,
the secret decides. Only a digest is stored, so a token is shown once, when made. ``find_by_prefix`` reads the
rows of one prefix under a row-level security exception the model declares (``rls_also_readable_when`` on a
per-transaction setting), then compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.db import connection, transaction

PREFIX_PATTERN = re.compile(r"[0-9a-f]{12}")
# A custom setting's name as the models' ``rls_also_readable_when`` read it: ``app.<name>``.
SETTING_PATTERN = re.compile(r"app\.[a-z_]+")


def token_digest(token: str) -> str:
    # A long random token: a fast digest is enough; a slow hash would only cost latency.
    return hashlib.sha256(token.encode()).hexdigest()


def token_generate(label: str = "") -> tuple[str, str]:
    """A new token and its prefix; ``label`` (without "_") starts the token when given."""
    prefix = secrets.token_hex(6)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return (f"{label}_{secret}" if label else secret), prefix


def find_by_prefix(model, *, digest_field: str, setting: str, prefix: str, digest: str) -> tuple[int, int] | None:
    """(id, firm id) of ``model``'s unrevoked row with ``prefix`` whose ``digest_field`` is ``digest``, read
    before the firm is known: the rows of that prefix are readable while ``setting`` names it, for this one
    transaction. None when no row matches."""
    if not SETTING_PATTERN.fullmatch(setting):
        raise ValueError(f"Not a setting's name: {setting!r}")
    quote = connection.ops.quote_name
    query = (
        f"SELECT id, tenant_id, {quote(digest_field)} FROM {quote(model._meta.db_table)} "  # noqa: S608 (names from code)
        "WHERE prefix = %s AND revoked_at IS NULL"
    )
    # Outside a transaction the exception ends with this one; inside a caller's it is cleared, lest it outlive
    # the look-up.
    outer = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT set_config('{setting}', %s, true)", [prefix])
        cursor.execute(query, [prefix])
        rows = cursor.fetchall()
        if outer:
            cursor.execute(f"SELECT set_config('{setting}', '', true)")
    match = next((row for row in rows if secrets.compare_digest(row[2], digest)), None)
    return None if match is None else (match[0], match[1])
