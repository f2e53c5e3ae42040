"""Private calendar addresses: a staff member's agenda in one firm as an iCalendar feed their phone subscribes
to, without signing in. The address carries a random token; only its digest is kept (like an API key), so
the address is shown once, when made. Making a new one revokes the old; a revoked or unknown token is a 404.

The feed is read before any firm is known: ``feed_find`` looks the token's prefix up under a row-level
security exception for that one prefix (``CalendarFeed.rls_also_readable_when``), compares digests, and
names the firm; the caller then reads the feed and the agenda inside ``tenant_context(firm)``.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.models import Tenant
from renocrm.tokens import find_by_prefix, token_digest, token_generate

from .models import CalendarFeed, Membership

# What a token looks like (``renocrm.tokens.token_generate``): 12 hex digits, "_", the secret in URL-safe base64.
TOKEN_PATTERN = re.compile(r"[0-9a-f]{12}_[A-Za-z0-9_-]{40,60}")


def calendar_feed_active(*, user) -> CalendarFeed | None:
    """``user``'s active calendar address in the current firm, if any."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def calendar_feed_create(*, user) -> tuple[CalendarFeed, str]:
    """A new calendar address for ``user`` in the current firm, and its token (shown once). An address the
    person had before stops working: a phone that should keep the agenda subscribes to the new one."""
    # The member's row is locked, so two clicks at once leave one active address, not an error.
    Membership.objects.select_for_update().filter(tenant=require_current_tenant(), user=user).first()
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token, prefix = token_generate()
    feed = CalendarFeed.objects.create(user=user, prefix=prefix, hashed_token=token_digest(token))
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, user) -> int:
    """Stop ``user``'s calendar address in the current firm; how many were active (0 or 1)."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def feed_find(token: str) -> tuple[Tenant, int] | None:
    """(the firm, the feed's id) of an active address's token, looked up before the firm is known; None for
    anything else — malformed, unknown, revoked, or of a firm that is not operating. The caller reads the
    feed again inside the firm's context (a revocation since then holds)."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    found = find_by_prefix(
        CalendarFeed,
        digest_field="hashed_token",
        setting="app.calendar_feed_prefix",
        prefix=token[:12],
        digest=token_digest(token),
    )
    if found is None:
        return None
    feed_id, firm_id = found
    firm = Tenant.objects.filter(pk=firm_id, is_active=True).first()
    if firm is None:
        return None
    return firm, feed_id


def feed_owner(feed_id: int) -> tuple[CalendarFeed, Membership] | None:
    """Inside the feed's firm: the active feed and its owner's active membership, or None (revoked since,
    the person left the firm or can no longer sign in, or the address was made before they last left: like
    their sessions, it does not come back with them)."""
    feed = CalendarFeed.objects.select_related("user").filter(pk=feed_id, revoked_at__isnull=True).first()
    if feed is None or not feed.user.is_active:
        return None
    ended = feed.user.sessions_ended_at
    if ended is not None and feed.created_at <= ended:
        return None
    membership = Membership.objects.filter(tenant=require_current_tenant(), user=feed.user, is_active=True).first()
    if membership is None:
        return None
    return feed, membership
