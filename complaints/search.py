"""The complaints' part of the header search (selectors): complaints of the customers found, or by number
("#42" or "42")."""

from __future__ import annotations

from django.db.models import Q

from renocrm.search import SearchTerms

from .models import Complaint

# A complaint's number as typed: "#42", "42".
MAX_NUMBER_DIGITS = 9


def complaints_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Complaint]:
    match = Q(customer__in=customers)
    number = terms.text.removeprefix("#")
    if number.isdigit() and len(number) <= MAX_NUMBER_DIGITS:
        match |= Q(pk=int(number), customer__anonymised_at__isnull=True)
    return list(Complaint.objects.filter(match).select_related("customer").order_by("-id")[:limit])
