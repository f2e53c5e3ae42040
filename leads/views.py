"""Staff pages for leads: thin views over the forms, services and selectors."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.accounts.roles import Role
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.privacy.masking import may_see_contacts
from renocrm.privacy.registry import erasure_blocks

from . import panels, selectors
from .forms import (
    CustomerFilterForm,
    CustomerForm,
    FollowUpForm,
    FollowUpLogFilterForm,
    LeadCreateForm,
    LeadEditForm,
    LeadFilterForm,
    PropertyForm,
    StatusForm,
)
from .models import Customer, Lead, Property, ReferralReward
from .services import customers as customer_services
from .services import pipeline, privacy, referrals


def _may_manage(request) -> bool:
    return request.membership.has_perm("leads.manage")


def _form_page(request, form, title, *, tab, template="form_page.html", **context):
    """A leads form on the shared form page (or one with a property's fields apart), under the leads tabs."""
    context = {"form": form, "title": title, "tabs": "leads/_tabs.html", "tab": tab, **context}
    return render(request, template, context)


@permission_required("leads.view")
def lead_list(request):
    form = LeadFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    leads, older = selectors.lead_page(
        status=filters.get("status", ""),
        channel=filters.get("channel", ""),
        q=filters.get("q", ""),
        full_contacts=may_see_contacts(request),
        before=before_param(request),
    )
    return render(request, "leads/lead_list.html", {"form": form, "leads": leads, "older": older})


@permission_required("leads.manage")
def lead_create(request):
    form = LeadCreateForm(request.POST or None)
    # A customer manager's new lead is theirs to follow up.
    assignee = request.user if request.membership.has_role(Role.SALES) else None
    created = submit(
        request,
        form,
        lambda data: pipeline.lead_create(by=request.user, assigned_to=assignee, **form.service_data(data)),
        check=lambda data: pipeline.lead_check(**form.service_data(data)),
    )
    if created:
        lead, linked = created
        if linked:
            messages.info(
                request,
                _("This mobile number belongs to %(name)s: the lead is linked to them.") % {"name": lead.customer.name},
            )
        return redirect("leads:detail", pk=lead.pk)
    return _form_page(
        request,
        form,
        _("New lead"),
        tab="leads",
        template="leads/property_form_page.html",
        home_help=_("The home to renovate, if the customer has said: it can also be entered later."),
    )


@permission_required("leads.view")
def lead_detail(request, pk):
    lead = get_object_or_404(
        Lead.objects.select_related("customer", "property", "referrer", "assigned_to", "designer"), pk=pk
    )
    posted = request.POST if request.method == "POST" else None
    if posted is not None and not _may_manage(request):
        raise PermissionDenied
    # The page has two forms; the follow-up form says so with a hidden field.
    is_follow_up = "follow_up" in request.POST
    follow_up_form = FollowUpForm(posted if is_follow_up else None, prefix="fu")
    status_form = StatusForm(None if is_follow_up else posted, prefix="st")
    form, service = (
        (follow_up_form, pipeline.follow_up_record) if is_follow_up else (status_form, pipeline.lead_change_status)
    )
    if submit(request, form, lambda data: service(lead=lead, by=request.user, **data)):
        return redirect("leads:detail", pk=lead.pk)
    context = {
        "lead": lead,
        "follow_ups": lead.follow_ups.select_related("by"),
        "history": lead.status_changes.select_related("by"),
        "follow_up_form": follow_up_form,
        "status_form": status_form,
        "may_manage": _may_manage(request),
        "panels": panels.render(request, lead),
    }
    return render(request, "leads/lead_detail.html", context)


@permission_required("leads.manage")
def lead_edit(request, pk):
    lead = get_object_or_404(Lead.objects.select_related("customer", "property", "assigned_to", "designer"), pk=pk)
    form = LeadEditForm(request.POST or None, lead=lead)
    if submit(
        request,
        form,
        lambda data: pipeline.lead_update(lead=lead, **form.service_data(data)),
        check=lambda data: pipeline.lead_check(customer=lead.customer, **form.service_data(data)),
    ):
        return redirect("leads:detail", pk=lead.pk)
    return _form_page(
        request,
        form,
        _("Edit lead: %(name)s") % {"name": lead.customer.name},
        tab="leads",
        template="leads/property_form_page.html",
        cancel_url=reverse("leads:detail", args=[lead.pk]),
        home_title=_("A new property"),
        home_help=_("For a home not in the property list above: it is added to the customer's properties."),
    )


@permission_required("leads.view")
def board(request):
    mine = request.GET.get("mine") == "1"
    columns = selectors.pipeline_board(assigned_to=request.user if mine else None)
    return render(
        request,
        "leads/board.html",
        {"columns": columns, "mine": mine, "closed_days": selectors.BOARD_CLOSED_DAYS},
    )


MY_FOLLOW_UPS_SHOWN = 100


@permission_required("leads.view")
def follow_ups(request):
    # One extra row says whether the list goes on beyond what is shown.
    due, overdue = (
        list(rows[: MY_FOLLOW_UPS_SHOWN + 1])
        for rows in (selectors.follow_ups_due(user=request.user), selectors.follow_ups_overdue(user=request.user))
    )
    form = FollowUpLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    log, older = selectors.follow_up_page(
        kind=filters.get("kind", ""),
        by=request.user if filters.get("by") == "me" else None,
        before=before_param(request),
    )
    context = {
        "due": due[:MY_FOLLOW_UPS_SHOWN],
        "overdue": overdue[:MY_FOLLOW_UPS_SHOWN],
        "more_due": len(due) > MY_FOLLOW_UPS_SHOWN,
        "more_overdue": len(overdue) > MY_FOLLOW_UPS_SHOWN,
        "form": form,
        "log": log,
        "older": older,
    }
    return render(request, "leads/follow_ups.html", context)


@permission_required("leads.view")
def customer_list(request):
    form = CustomerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    customers, older = selectors.customer_page(
        q=filters.get("q", ""), full_contacts=may_see_contacts(request), before=before_param(request)
    )
    context = {"form": form, "customers": customers, "older": older, "may_manage": _may_manage(request)}
    return render(request, "leads/customer_list.html", context)


@permission_required("leads.view")
def customer_detail(request, pk):
    customer = get_object_or_404(Customer.objects, pk=pk)
    context = {
        "customer": customer,
        "properties": selectors.customer_properties(customer=customer),
        "leads": selectors.customer_leads(customer=customer),
        "rewards": selectors.referral_rewards_earned(referrer=customer),
        "may_manage": _may_manage(request),
        "may_manage_personal_data": request.membership.has_perm(PERSONAL_DATA_PERMISSION),
    }
    return render(request, "leads/customer_detail.html", context)


@permission_required("leads.manage")
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if customer := submit(
        request,
        form,
        lambda data: customer_services.customer_create(**data),
        check=lambda data: customer_services.customer_check(**data),
    ):
        return redirect("leads:customer-detail", pk=customer.pk)
    return _form_page(request, form, _("New customer"), tab="customers", cancel_url=reverse("leads:customer-list"))


@permission_required("leads.manage")
def customer_edit(request, pk):
    customer = get_object_or_404(Customer.objects, pk=pk)
    form = CustomerForm(request.POST or None, initial=CustomerForm.initial_for(customer))
    if submit(
        request,
        form,
        lambda data: customer_services.customer_update(customer=customer, **data),
        check=lambda data: customer_services.customer_check(customer=customer, **data),
    ):
        return redirect("leads:customer-detail", pk=customer.pk)
    title = _("Edit customer: %(name)s") % {"name": customer.name}
    return _form_page(
        request, form, title, tab="customers", cancel_url=reverse("leads:customer-detail", args=[customer.pk])
    )


@permission_required("leads.manage")
def property_create(request, pk):
    customer = get_object_or_404(Customer.objects, pk=pk)
    form = PropertyForm(request.POST or None)
    if submit(
        request,
        form,
        lambda data: customer_services.property_create(customer=customer, **data),
        check=lambda data: customer_services.property_check(**data),
    ):
        return redirect("leads:customer-detail", pk=customer.pk)
    title = _("New property for %(name)s") % {"name": customer.name}
    return _form_page(
        request, form, title, tab="customers", cancel_url=reverse("leads:customer-detail", args=[customer.pk])
    )


@permission_required("leads.manage")
def property_edit(request, pk):
    home = get_object_or_404(Property.objects.select_related("customer"), pk=pk)
    form = PropertyForm(request.POST or None, initial=PropertyForm.initial_for(home))
    if submit(
        request,
        form,
        lambda data: customer_services.property_update(property=home, **data),
        check=lambda data: customer_services.property_check(property=home, **data),
    ):
        return redirect("leads:customer-detail", pk=home.customer_id)
    title = _("Edit property of %(name)s") % {"name": home.customer.name}
    back = reverse("leads:customer-detail", args=[home.customer_id])
    return _form_page(request, form, title, tab="customers", cancel_url=back)


@permission_required("leads.manage")
@require_POST
def referral_reward_fulfil(request, pk):
    reward = get_object_or_404(ReferralReward.objects, pk=pk)
    return page_action(
        request,
        lambda: referrals.referral_reward_fulfil(reward=reward),
        done=_("The referral reward is marked as fulfilled."),
        back=reverse("leads:customer-detail", args=[reward.referrer_id]),
    )


# A homeowner's personal data: their export and their erasure, for the firm's admins -----------------------------

PERSONAL_DATA_PERMISSION = "firm.manage"


class DataRequestForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("How the homeowner asked"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Kept in the firm's log of personal-data requests."),
    )


@require_POST
@permission_required(PERSONAL_DATA_PERMISSION)
def customer_export(request, pk):
    """The homeowner's data as a ZIP download, recorded in the firm's log of requests."""
    customer = get_object_or_404(Customer.objects, pk=pk)
    form = DataRequestForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    content = privacy.customer_data_export(customer=customer, by=request.user, note=note)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.zip"'
    return response


@permission_required(PERSONAL_DATA_PERMISSION)
def customer_erase(request, pk):
    """Confirm, then erase the homeowner; refused, with the reason, while a later stage still needs them."""
    customer = get_object_or_404(Customer.objects, pk=pk)
    form = DataRequestForm(request.POST or None)
    erased = submit(
        request, form, lambda data: privacy.customer_erase(customer=customer, by=request.user, note=data["note"])
    )
    if erased:
        messages.success(request, _("The customer's personal data has been erased."))
        return redirect("leads:customer-detail", pk=customer.pk)
    context = {
        "customer": customer,
        "form": form,
        "blocks": erasure_blocks(customer),
        "already_erased": customer.anonymised_at is not None,
    }
    return render(request, "leads/customer_erase.html", context)
