"""Notices to staff in the app (the bell): recorded by ``services.notify_staff`` / ``notify_staff_many`` beside
the text or e-mail that carries them, read on the notices page and through the API, purged after
``RETENTION``. Each person reads only their own."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Left, Replace
from django.utils import timezone

from renocrm.accounts.models import Membership
from renocrm.tenancy.context import require_current_tenant

from .models import StaffNotice

# Notices are a heads-up, not a record: the pages they link to hold the facts. Their bodies may name
# customers, so they are not kept longer than that.
RETENTION = timedelta(days=90)
PURGE_BATCH = 1000

_SUBJECT = StaffNotice._meta.get_field("subject").max_length
_LINK = StaffNotice._meta.get_field("link").max_length


def staff_notice_link(link: str) -> str:
    """The path in the app a notice links to: a relative path as it is, an absolute URL of this site as its
    path; anything else (another site, ``//host``, a scheme) as no link at all."""
    link = (link or "").strip()
    site = settings.SITE_URL.rstrip("/")
    if site and link.startswith(site + "/"):
        link = link[len(site) :]
    if not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > _LINK:
        return ""
    return link


def _row(user, *, subject: str, body: str, idempotency_key: str, link: str = "") -> StaffNotice | None:
    if user is None or not user.is_active:
        return None
    return StaffNotice(
        user=user,
        subject=str(subject)[:_SUBJECT],
        body=str(body),
        link=staff_notice_link(link),
        idempotency_key=idempotency_key,
    )


def notice_readers(user_ids) -> set[int]:
    """The users among ``user_ids`` who read the firm's notices: its active members (one query)."""
    members = Membership.objects.filter(tenant=require_current_tenant(), user__in=user_ids, is_active=True)
    return set(members.values_list("user_id", flat=True))


def staff_notices_record(notices: list[dict]) -> int:
    """Record each notice (``user``, ``subject``, ``body``, ``idempotency_key``, optional ``link``) in the app
    with one INSERT; a key its addressee already has adds nothing, so a repeated send records nothing twice.
    Nobody (None), people who are gone (inactive) and people who are not active members of the firm get none.
    Returns how many notices were offered (new or not)."""
    rows = [row for notice in notices if (row := _row(**notice)) is not None]
    if not rows:
        return 0
    # A notice is read in the firm's app, so only by its active members: one left for someone who has left
    # would greet them, stale, if they came back. Whether to text them is the caller's choice, not this one's.
    readers = notice_readers([row.user_id for row in rows])
    rows = [row for row in rows if row.user_id in readers]
    # ON CONFLICT DO NOTHING on the (firm, user, key) constraint: no savepoint, and a concurrent send of the same
    # notice waits for the other and then adds nothing.
    StaffNotice.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def staff_notice_record(user, *, subject: str, body: str, idempotency_key: str, link: str = "") -> bool:
    """One notice to ``user`` in the app (see ``staff_notices_record``); False when there is nobody to tell."""
    notice = {"user": user, "subject": subject, "body": body, "idempotency_key": idempotency_key, "link": link}
    return staff_notices_record([notice]) > 0


def staff_notice_read(*, notice: StaffNotice) -> StaffNotice:
    """Mark one notice read (the first time only: reading it again keeps when it was first read)."""
    if notice.read_at is None:
        now = timezone.now()
        StaffNotice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
        notice.read_at = now
    return notice


def staff_notices_read_all(*, user) -> int:
    """Mark every unread notice of ``user`` in the current firm read; returns how many."""
    return StaffNotice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def staff_notices_purge(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Delete up to ``batch`` of the firm's notices older than ``RETENTION``, oldest first; returns how many.
    Set-based and safe to repeat: a sweep that was down deletes the backlog batch by batch."""
    require_current_tenant()
    cutoff = (now or timezone.now()) - RETENTION
    old = StaffNotice.objects.filter(created_at__lt=cutoff).order_by("created_at").values("pk")[:batch]
    return StaffNotice.objects.filter(pk__in=old).delete()[0]


def staff_notices_scrub(*, identifiers: list[str], erased: str) -> int:
    """Replace a customer's identifiers (name, mobile, addresses) in notices' subjects and bodies by ``erased``:
    for the customer's erasure, as their texts and e-mails are scrubbed. Returns how many notices it touched."""
    if not identifiers:
        return 0
    mentions = Q()
    subject, body = F("subject"), F("body")
    for identifier in identifiers:
        mentions |= Q(subject__contains=identifier) | Q(body__contains=identifier)
        subject = Replace(subject, Value(identifier), Value(erased))
        body = Replace(body, Value(identifier), Value(erased))
    return StaffNotice.objects.filter(mentions).update(subject=Left(subject, _SUBJECT), body=body)
