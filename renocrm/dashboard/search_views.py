"""The header's search: the results page, and the same results as the header's drop-down fragment."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from renocrm.accounts.access import permission_required
from renocrm.privacy.masking import may_see_contacts
from renocrm.search import MIN_LENGTH, SearchTerms

from .search import search


@require_safe
@permission_required("dashboard.view")
def search_page(request):
    terms = SearchTerms.parse(request.GET.get("q"), full_contacts=may_see_contacts(request))
    membership = request.membership
    groups = search(terms, may_view=lambda group: membership.has_perm(f"{group}.view"))
    context = {"terms": terms, "groups": groups, "min_length": MIN_LENGTH}
    template = "dashboard/_search_results.html" if request.htmx else "dashboard/search.html"
    return render(request, template, context)
