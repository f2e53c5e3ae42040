"""The contracts' part of the header search (selectors): contracts by number."""

from __future__ import annotations

from renocrm.search import SearchTerms

from .models import Contract


def contracts_matching(terms: SearchTerms, *, customers: list[int], limit: int) -> list[Contract]:
    return list(
        Contract.objects.filter(number__finds=terms.text)
        .select_related("project")
        .order_by("-signed_on", "-id")[:limit]
    )
