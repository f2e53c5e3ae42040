"""The leads' part of the header search (selectors): the customers it finds, by name or mobile under the one
rule of ``customer_match``, their leads, and the addresses of their homes."""

from __future__ import annotations

from renocrm.search import SearchTerms

from .models import Customer, Lead, Property
from .selectors import customer_match

# Customers a search looks through for the kinds that hang off them (leads, worksites, complaints): the newest
# this many; each kind's own list, searched for the same words, has the rest.
CUSTOMER_CAP = 500


def matching_customer_ids(terms: SearchTerms) -> list[int]:
    """The customers the words find, newest first, erased ones left out: read once per search and handed to
    every kind that lists a customer's records."""
    customers = Customer.objects.filter(
        customer_match(terms.text, full_contacts=terms.full_contacts), anonymised_at__isnull=True
    )
    return list(customers.order_by("-id").values_list("pk", flat=True)[:CUSTOMER_CAP])


def customers_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Customer]:
    return list(Customer.objects.filter(pk__in=customers[:limit]).order_by("-id"))


def leads_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Lead]:
    return list(Lead.objects.filter(customer__in=customers).select_related("customer").order_by("-id")[:limit])


def properties_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Property]:
    """Homes by any part of their address (the compound, the street, the room). An address found by what its
    masked form hides would tell where someone lives, so only those who see full addresses search them."""
    if not terms.full_contacts:
        return []
    homes = Property.objects.filter(address__finds=terms.text, customer__anonymised_at__isnull=True)
    return list(homes.select_related("customer").order_by("-id")[:limit])
