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


PAGE_SIZE = 50


def lead_page(*, status: str = "", channel: str = "", q: str = "", before: int | None = None):
    """A page of leads, newest first, by id keyset (no COUNT over the firm's table); the extra row fetched
    says whether there is an older page."""
    from django.db.models import Q

    from .validators import normalize_mobile

    leads = Lead.objects.select_related("customer", "assigned_to").order_by("-id")
    if status:
        leads = leads.filter(status=status)
    if channel:
        leads = leads.filter(channel=channel)
    if q:
        leads = leads.filter(Q(customer__name__icontains=q) | Q(customer__mobile__contains=normalize_mobile(q)))
    if before:
        leads = leads.filter(id__lt=before)
    rows = list(leads[: PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None)
