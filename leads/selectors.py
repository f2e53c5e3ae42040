from __future__ import annotations

from datetime import date

from django.db.models import Count

from renocrm.tenancy.time import firm_today

from .models import Lead


def _my_open_leads(user):
    return Lead.objects.filter(assigned_to=user, status__in=Lead.OPEN_STATUSES).select_related("customer")


def follow_ups_due(*, user, on: date | None = None):
    """Open leads assigned to ``user`` whose next follow-up is today (the firm's today by default)."""
    return _my_open_leads(user).filter(next_follow_up_on=on or firm_today()).order_by("customer__name")


def follow_ups_overdue(*, user, on: date | None = None):
    return _my_open_leads(user).filter(next_follow_up_on__lt=on or firm_today()).order_by("next_follow_up_on")


def pipeline_counts() -> dict[str, int]:
    counts = dict(Lead.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in Lead.Status.values}
