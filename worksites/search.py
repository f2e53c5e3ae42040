"""The worksites' part of the header search (selectors): the worksites of the customers found, and, for those
who see full addresses, worksites by name — the compound and room the project is named after."""

from __future__ import annotations

from django.db.models import Q

from contracts.models import Project
from renocrm.search import SearchTerms

from .models import Worksite


def worksites_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Worksite]:
    match = Q(customer__in=customers)
    if terms.full_contacts:
        # The name holds the home's compound and room: found by them only where the address could be.
        match |= Q(name__finds=terms.text, customer__anonymised_at__isnull=True)
    # The projects first: an OR across the join would read every worksite of the firm.
    projects = Project.objects.filter(match).values("pk")
    return list(Worksite.objects.filter(project__in=projects).select_related("project").order_by("-id")[:limit])
