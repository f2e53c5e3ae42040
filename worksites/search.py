"""The worksites' part of the header search (selectors): worksites by name — the compound, the room and the
homeowner's name the project is named after — or by the homeowner's mobile."""

from __future__ import annotations

from django.db.models import Q

from leads.models import Customer
from renocrm.search import SearchTerms

from .models import Worksite


def worksites_matching(terms: SearchTerms, *, limit: int) -> list[Worksite]:
    customers = Customer.objects.filter(terms.person_match()).values("pk")
    match = Q(project__customer__in=customers) | Q(project__name__icontains=terms.text)
    return list(
        Worksite.objects.filter(match).select_related("project__customer", "project_manager").order_by("-id")[:limit]
    )
