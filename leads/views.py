"""Staff pages for leads: thin views over the forms, services and selectors."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from renocrm.accounts.access import permission_required

from . import selectors, services
from .forms import FollowUpForm, LeadCreateForm, LeadFilterForm, StatusForm
from .models import Lead


def _apply_errors(form, error: ValidationError) -> None:
    """A service's refusal shown on the form, on its field where the form has one."""
    for field, messages_ in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


@permission_required("leads.view")
def lead_list(request):
    form = LeadFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    before = request.GET.get("before", "")
    leads, older = selectors.lead_page(
        status=filters.get("status", ""),
        channel=filters.get("channel", ""),
        q=filters.get("q", ""),
        before=int(before) if before.isdigit() else None,
    )
    return render(request, "leads/lead_list.html", {"form": form, "leads": leads, "older": older})


@permission_required("leads.manage")
def lead_create(request):
    form = LeadCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # A customer manager's new lead is theirs to follow up.
            assignee = request.user if request.membership.role == "sales" else None
            lead, linked = services.lead_create(by=request.user, assigned_to=assignee, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            if linked:
                messages.info(
                    request,
                    _("This mobile number belongs to %(name)s: the lead is linked to them.")
                    % {"name": lead.customer.name},
                )
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form})


@permission_required("leads.view")
def lead_detail(request, pk):
    lead = get_object_or_404(
        Lead.objects.select_related("customer", "property", "referrer", "assigned_to", "designer"), pk=pk
    )
    follow_up_form, status_form = FollowUpForm(prefix="fu"), StatusForm(prefix="st")
    if request.method == "POST":
        if not request.membership.has_perm("leads.manage"):
            raise PermissionDenied
        form = (
            FollowUpForm(request.POST, prefix="fu")
            if "follow_up" in request.POST
            else StatusForm(request.POST, prefix="st")
        )
        if form.is_valid():
            try:
                if isinstance(form, FollowUpForm):
                    services.follow_up_record(lead=lead, by=request.user, **form.cleaned_data)
                else:
                    services.lead_change_status(lead=lead, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                return redirect("leads:detail", pk=lead.pk)
        if isinstance(form, FollowUpForm):
            follow_up_form = form
        else:
            status_form = form
    context = {
        "lead": lead,
        "follow_ups": lead.follow_ups.select_related("by"),
        "history": lead.status_changes.select_related("by"),
        "follow_up_form": follow_up_form,
        "status_form": status_form,
    }
    return render(request, "leads/lead_detail.html", context)
