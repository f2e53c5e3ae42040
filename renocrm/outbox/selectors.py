"""Reads of the firm's webhooks for the integrations pages, of its notice settings, and of a staff member's
notices in the app."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from renocrm.paging import PAGE_SIZE, keyset_page

from .models import NoticeSettings, Notification, StaffNotice, WebhookDelivery, WebhookEndpoint, WecomRobot


def _last_failure(field: str) -> Subquery:
    # The newest delivery the endpoint did not take: its answer is why the endpoint is failing.
    failed = WebhookDelivery.objects.filter(endpoint=OuterRef("pk"), attempts__gt=0, delivered_at__isnull=True)
    return Subquery(failed.order_by("-id").values(field)[:1])


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    """The firm's endpoints, disabled ones first, each with its delivery counts and its last failed answer."""
    return WebhookEndpoint.objects.annotate(
        delivered_count=Count("deliveries", filter=Q(deliveries__delivered_at__isnull=False)),
        given_up_count=Count("deliveries", filter=Q(deliveries__given_up_at__isnull=False)),
        pending_count=Count(
            "deliveries", filter=Q(deliveries__delivered_at__isnull=True, deliveries__given_up_at__isnull=True)
        ),
        last_failure_status=_last_failure("last_status_code"),
        last_failure_error=_last_failure("last_error"),
    ).order_by("is_active", "-id")


def webhook_endpoint_get(*, pk: int) -> WebhookEndpoint:
    """One endpoint of the firm with its last failed answer; DoesNotExist for another firm's id."""
    return (
        WebhookEndpoint.objects.annotate(
            last_failure_status=_last_failure("last_status_code"),
            last_failure_error=_last_failure("last_error"),
        )
        .filter(pk=pk)
        .get()
    )


def webhook_delivery_page(*, endpoint: WebhookEndpoint, before: int | None, size: int = PAGE_SIZE):
    """One keyset page of an endpoint's delivery log, newest first, and the key of the older page."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    return keyset_page(deliveries, before=before, size=size)


# Notice settings ------------------------------------------------------------------------------------------------


def notice_settings_get() -> NoticeSettings:
    """The firm's notice settings, or unsaved defaults when it has saved none (reading writes nothing)."""
    return NoticeSettings.objects.first() or NoticeSettings()


def wecom_robot_list() -> QuerySet[WecomRobot]:
    return WecomRobot.objects.order_by("name", "pk")


RECENT_TEXTS = 10


def recent_texts(*, size: int = RECENT_TEXTS) -> list[Notification]:
    """The firm's latest texts, each with its gateway receipt (``receipt``, None without one)."""
    rows = list(
        Notification.objects.filter(channel=Notification.Channel.SMS)
        .defer("body", "attachment", "sms_params")
        .prefetch_related("sms_receipts")
        .order_by("-created_at", "-id")[:size]
    )
    for row in rows:
        receipts = list(row.sms_receipts.all())
        row.receipt = receipts[0] if receipts else None
    return rows


# Staff notices (the bell) ------------------------------------------------------------------------------------


def staff_notice_list(*, user, unread: bool | None = None) -> QuerySet[StaffNotice]:
    """``user``'s notices in the current firm, newest first; only the unread (or read) ones when asked."""
    notices = StaffNotice.objects.filter(user=user)
    if unread is not None:
        notices = notices.filter(read_at__isnull=unread)
    return notices.order_by("-id")


def staff_notice_page(*, user, before: int | None, unread: bool | None = None, size: int = PAGE_SIZE):
    """One keyset page of ``user``'s notices, newest first, and the key of the older page."""
    return keyset_page(staff_notice_list(user=user, unread=unread), before=before, size=size)


def staff_notice_get(*, user, pk: int) -> StaffNotice:
    """One of ``user``'s own notices; DoesNotExist for anyone else's, in this firm or another."""
    return StaffNotice.objects.get(user=user, pk=pk)


# The badge shows "99+" beyond this: counting further would read every row of a long-neglected bell.
UNREAD_COUNT_LIMIT = 100


def staff_notice_unread_count(*, user, limit: int = UNREAD_COUNT_LIMIT) -> int:
    """How many of ``user``'s notices are unread, counted up to ``limit`` (one query on the unread index)."""
    return StaffNotice.objects.filter(user=user, read_at__isnull=True)[:limit].count()
