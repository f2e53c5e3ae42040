"""Dates as the firm sees them: "today" and "now" in the firm's own time zone."""

from datetime import date, datetime

from django.utils import timezone

from .context import require_current_tenant


def firm_now() -> datetime:
    return timezone.localtime(timezone.now(), require_current_tenant().zone)


def firm_today() -> date:
    return firm_now().date()
