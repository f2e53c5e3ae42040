"""The header's search box: one query across the kinds of record a firm looks people up by, each kind's
matches from its own app's selectors, grouped, and only the kinds the searcher may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from complaints.search import complaints_matching
from contracts.search import contracts_matching
from leads.search import customers_matching, leads_matching, matching_customer_ids, properties_matching
from renocrm.privacy.masking import mask_mobile
from renocrm.search import SearchTerms
from worksites.search import worksites_matching

# Matches shown per kind; the kind's own list (where it has a search) shows the rest.
PER_KIND = 8


@dataclass(frozen=True)
class Hit:
    pk: int
    title: str
    detail: str
    url: str


@dataclass
class Group:
    kind: str
    label: str
    hits: list[Hit] = field(default_factory=list)
    # The kind's list searched for the same words, when there may be more than are shown.
    more_url: str = ""


def _mobile(customer, terms: SearchTerms) -> str:
    return customer.mobile if terms.full_contacts else mask_mobile(customer.mobile)


def _customer(customer, terms):
    return Hit(
        customer.pk, customer.name, _mobile(customer, terms), reverse("leads:customer-detail", args=[customer.pk])
    )


def _lead(lead, terms):
    return Hit(
        lead.pk,
        f"{lead.customer.name} · {lead.get_channel_display()}",
        f"{lead.get_status_display()} · {_mobile(lead.customer, terms)}",
        reverse("leads:detail", args=[lead.pk]),
    )


def _property(home, terms):
    return Hit(home.pk, home.address, home.customer.name, reverse("leads:customer-detail", args=[home.customer_id]))


def _contract(contract, terms):
    return Hit(contract.pk, contract.number, contract.project.name, reverse("contracts:detail", args=[contract.pk]))


def _worksite(worksite, terms):
    return Hit(
        worksite.pk,
        worksite.project.name,
        worksite.get_status_display(),
        reverse("worksites:detail", args=[worksite.pk]),
    )


def _complaint(complaint, terms):
    return Hit(
        complaint.pk,
        f"#{complaint.pk} {complaint.customer.name} · {complaint.get_category_display()}",
        complaint.get_status_display(),
        reverse("complaints:detail", args=[complaint.pk]),
    )


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    # The permission group whose view permission (or API scope "<group>:read") shows this kind.
    group: str
    find: Callable
    hit: Callable
    # The url name of the kind's list that takes ``q``, if it has one.
    list_url: str = ""
    # Whether it lists the records of the customers the words find (``customers`` of ``find``).
    by_customer: bool = True


KINDS = (
    Kind("customers", _("Customers"), "leads", customers_matching, _customer, "leads:customer-list"),
    Kind("leads", _("Leads"), "leads", leads_matching, _lead, "leads:list"),
    Kind("addresses", _("Addresses"), "leads", properties_matching, _property),
    Kind("contracts", _("Contracts"), "contracts", contracts_matching, _contract, "contracts:list", by_customer=False),
    Kind("worksites", _("Worksites"), "worksites", worksites_matching, _worksite),
    Kind("complaints", _("Complaints"), "complaints", complaints_matching, _complaint, "complaints:list"),
)


def search(terms: SearchTerms, *, may_view: Callable[[str], bool], limit: int = PER_KIND) -> list[Group]:
    """The kinds with matches, in a fixed order. ``may_view(group)`` says whether the searcher may see a
    permission group's records; a kind they may not see is not searched at all."""
    if not terms.usable:
        return []
    groups = []
    customers = None
    for kind in KINDS:
        if not may_view(kind.group):
            continue
        if customers is None and kind.by_customer:
            customers = matching_customer_ids(terms)  # once for every kind that lists a customer's records
        # One more than shown tells whether the kind's list has more.
        found = kind.find(terms, customers=customers or [], limit=limit + 1)
        if not found:
            continue
        more = ""
        if len(found) > limit and kind.list_url:
            more = f"{reverse(kind.list_url)}?{urlencode({'q': terms.text})}"
        groups.append(Group(kind.key, str(kind.label), [kind.hit(row, terms) for row in found[:limit]], more))
    return groups
