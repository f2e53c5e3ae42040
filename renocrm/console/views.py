"""The operator console: every firm on the installation, and its account's status.

Only superusers reach it. Everyone else — firm staff, firm admins, visitors — gets the 404 of an address that
does not exist, so the console's existence is not advertised."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.forms import page_action
from renocrm.paging import before_param
from renocrm.tenancy.models import Tenant

from . import selectors, services
from .forms import FirmFilterForm, NoteForm, SuspendForm


def operator_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@operator_required
def firm_list(request):
    form = FirmFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    firms, older = selectors.firm_page(
        search=data.get("q", ""), status=data.get("status", ""), before=before_param(request)
    )
    context = {"form": form, "firms": firms, "older": older, "submit_label": _("Search")}
    return render(request, "console/firm_list.html", context)


def _firm(slug: str) -> Tenant:
    firm = selectors.firm_get(slug=slug)
    if firm is None:
        raise Http404
    return firm


@operator_required
def firm_detail(request, slug):
    firm = _firm(slug)
    context = {
        "firm": firm,
        "members": selectors.firm_members(firm=firm),
        "history": selectors.firm_history(firm=firm),
        "suspend_form": SuspendForm(),
        "note_form": NoteForm(),
        "Status": Tenant.Status,
    }
    return render(request, "console/firm_detail.html", context)


def _approve(request, firm):
    return {"run": lambda: services.firm_approve(firm=firm, by=request.user), "done": _("The firm is approved.")}


def _suspend(request, firm):
    return {
        "form": SuspendForm(request.POST),
        "run": lambda data: services.firm_suspend(firm=firm, by=request.user, reason=data["reason"]),
        "done": _("The firm is suspended. Its data is kept."),
    }


def _reactivate(request, firm):
    return {
        "form": NoteForm(request.POST),
        "run": lambda data: services.firm_reactivate(firm=firm, by=request.user, reason=data["reason"]),
        "done": _("The firm is active."),
    }


ACTIONS = {"approve": _approve, "suspend": _suspend, "reactivate": _reactivate}


@operator_required
@require_POST
def firm_action(request, slug, action):
    firm = _firm(slug)
    outcome = ACTIONS[action](request, firm)
    return page_action(request, outcome.pop("run"), back=reverse("console:firm", args=[firm.slug]), **outcome)
