from django.shortcuts import render
from django.utils import timezone

from renocrm.accounts.access import permission_required

from .nav import nav_items


@permission_required("dashboard.view")
def home(request):
    membership = request.membership
    # Each lifecycle stage the role may see gets a section; the stage's app fills it through its selectors.
    sections = [item for item in nav_items(membership, path=request.path) if item.entry.stage]
    context = {
        "membership": membership,
        "today": timezone.localdate(timezone=request.tenant.zone),
        "sections": sections,
    }
    return render(request, "dashboard/home.html", context)
