from django.shortcuts import render

from renocrm.accounts.access import permission_required
from renocrm.periods import CUSTOM, KINDS, period_from_request
from renocrm.tenancy.time import firm_today

from . import charts
from .selectors.cards import url
from .selectors.home import dashboard_for


@permission_required("dashboard.view")
def home(request):
    """The home dashboard of the user's role, for the period picked (this month by default)."""
    membership = request.membership
    today = firm_today()
    period, period_form = period_from_request(request, today=today)
    dashboard = dashboard_for(role=membership.role, user=request.user, period=period, today=today)
    for card in dashboard.cards:
        card.drawn = [
            charts.draw(spec.kind, spec.data, title=spec.title, slug=f"{card.key}-{n}", total_text=spec.total_text)
            for n, spec in enumerate(card.charts)
        ]
    periods = [
        (kind, label, url("dashboard:home", period=kind), kind == period.kind)
        for kind, label in KINDS
        if kind != CUSTOM
    ]
    context = {
        "membership": membership,
        "today": today,
        "dashboard": dashboard,
        "period": period,
        "period_form": period_form,
        "periods": periods,
        "custom": period.kind == CUSTOM or bool(period_form.errors),
    }
    return render(request, "dashboard/home.html", context)
