"""Dates as the firm sees them: "today" and "now" in the firm's own time zone."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .context import require_current_tenant


def firm_now() -> datetime:
    return timezone.localtime(timezone.now(), require_current_tenant().zone)


def firm_today() -> date:
    return firm_now().date()


def firm_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the firm's time zone."""
    return datetime.combine(day, time.min, tzinfo=require_current_tenant().zone)


def firm_days(start: date, end: date) -> tuple[datetime, datetime]:
    """The firm-local days ``start`` to ``end`` inclusive as a half-open range of instants:
    [start 00:00, the day after end 00:00). Filter with ``__gte`` and ``__lt``."""
    return firm_day_start(start), firm_day_start(end + timedelta(days=1))
