"""The leads' part of the header search (selectors): customers by name or mobile, their leads, and the
addresses of their homes."""

from __future__ import annotations

from renocrm.search import SearchTerms

from .models import Customer, Lead, Property


def customers_matching(terms: SearchTerms, *, limit: int) -> list[Customer]:
    return list(Customer.objects.filter(terms.person_match(), anonymised_at__isnull=True).order_by("-id")[:limit])


def leads_matching(terms: SearchTerms, *, limit: int) -> list[Lead]:
    customers = Customer.objects.filter(terms.person_match(), anonymised_at__isnull=True).values("pk")
    return list(
        Lead.objects.filter(customer__in=customers).select_related("customer", "property").order_by("-id")[:limit]
    )


def properties_matching(terms: SearchTerms, *, limit: int) -> list[Property]:
    """Homes by any part of their address (the compound, the street, the room). An address found by what its
    masked form hides would tell where someone lives, so only those who see full addresses search them."""
    if not terms.full_contacts:
        return []
    return list(
        Property.objects.filter(address__icontains=terms.text).select_related("customer").order_by("-id")[:limit]
    )
