"""Staff pages for design agreements, quotations, contracts, payments and change orders, and the homeowner's
signed link for accepting a quotation version. Thin: forms validate, services decide, selectors read."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leads.models import Lead
from leads.services.customers import property_has_address
from renocrm.accounts.access import may_see_costs, permission_required
from renocrm.clientip import client_ip
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.privacy.masking import may_see_contacts
from renocrm.tenancy.time import firm_today

from . import homeowner_links, selectors
from .forms import (
    AcceptForm,
    ChangeLineFormSet,
    ChangeOrderFilterForm,
    ChangeOrderForm,
    ContractFilterForm,
    ContractSignForm,
    DesignAgreementForm,
    HomeownerAcceptForm,
    InstalmentFormSet,
    MainMaterialFormSet,
    MeasurementAddressForm,
    MeasurementForm,
    PaidOnForm,
    QuotationCreateForm,
    QuotationFilterForm,
)
from .library_forms import ROOMS
from .models import ChangeOrder, Contract, DesignAgreement, Instalment, QuotationItem, QuotationVersion
from .quotation_forms import CopyLinesForm, PackageFillForm, QuotationEditor
from .services import change_orders, design, payments, pricing, signing
from .services import quotations as quotation_services
from .services.settings import contract_settings_get

VIEW, MANAGE = "contracts.view", "contracts.manage"
# Recording money received is finance's (and the firm admins'); everyone who sees contracts sees payments.
RECORD_PAYMENTS = "payments.manage"


def _may_manage(request) -> bool:
    return request.membership.has_perm(MANAGE)


def _manage_or_403(request):
    if not _may_manage(request):
        raise PermissionDenied


def _lead_form_page(request, form, lead, title):
    back = reverse("leads:detail", args=[lead.pk])
    context = {"form": form, "title": title, "back_url": back, "back_label": lead.customer.name, "cancel_url": back}
    return render(request, "form_page.html", context)


# The lead page's panel ----------------------------------------------------------------------------------


def lead_panel(request, lead):
    if not request.membership.has_perm(VIEW):
        return ""
    context = {"lead": lead, "may_manage": _may_manage(request), **selectors.lead_documents(lead=lead)}
    return render_to_string("contracts/_lead_panel.html", context, request=request)


# Design agreement and measurement -------------------------------------------------------------------


@permission_required(MANAGE)
def design_agreement_create(request, lead_pk):
    lead = get_object_or_404(Lead.objects.select_related("customer"), pk=lead_pk)
    form = DesignAgreementForm(request.POST or None, initial={"signed_on": firm_today()})
    if submit(request, form, lambda data: design.design_agreement_create(lead=lead, **data)):
        return redirect("leads:detail", pk=lead.pk)
    return _lead_form_page(request, form, lead, _("Design agreement"))


@require_POST
@permission_required(MANAGE)
def design_agreement_paid(request, pk):
    agreement = get_object_or_404(DesignAgreement.objects, pk=pk)
    return page_action(
        request,
        lambda data: design.design_agreement_mark_paid(agreement=agreement, paid_on=data["paid_on"]),
        form=PaidOnForm(request.POST),
        invalid=_("Give the date the fee was paid."),
        back=reverse("leads:detail", args=[agreement.lead_id]),
    )


@permission_required(MANAGE)
def measurement_create(request, lead_pk):
    """Book the measurement; for a lead without an address, the page asks where, and records the property."""
    lead = get_object_or_404(Lead.objects.select_related("customer", "property"), pk=lead_pk)
    has_address = property_has_address(lead.property)
    form = (MeasurementForm if has_address else MeasurementAddressForm)(
        request.POST or None, initial={"designer": lead.designer_id}
    )

    def booking(data):
        return data if has_address else form.service_data(data, always=True)

    if submit(
        request,
        form,
        lambda data: design.measurement_appointment_schedule(lead=lead, **booking(data)),
        check=lambda data: design.measurement_address_check(lead=lead, new_property=booking(data).get("new_property")),
    ):
        return redirect("leads:detail", pk=lead.pk)
    back = reverse("leads:detail", args=[lead.pk])
    context = {
        "form": form,
        "title": _("Measurement appointment"),
        "back_url": back,
        "back_label": lead.customer.name,
        "cancel_url": back,
        "home": lead.property if has_address else None,
        "home_title": _("Where to measure"),
        "home_help": _("The lead has no address yet: enter the home to measure; it joins the customer's properties."),
    }
    return render(request, "leads/property_form_page.html", context)


# Quotations ---------------------------------------------------------------------------------------------


@permission_required(VIEW)
def quotation_list(request):
    form = QuotationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    quotations, older = selectors.quotation_page(
        **filters, full_contacts=may_see_contacts(request), before=before_param(request)
    )
    labels = dict(QuotationVersion.Status.choices)
    for quotation in quotations:
        quotation.latest_status_label = labels.get(quotation.latest_status, "")
    return render(request, "contracts/quotation_list.html", {"form": form, "quotations": quotations, "older": older})


@permission_required(MANAGE)
def quotation_create(request, lead_pk):
    lead = get_object_or_404(Lead.objects.select_related("customer"), pk=lead_pk)
    title = _("Quotation for %(name)s") % {"name": lead.customer.name}
    form = QuotationCreateForm(request.POST or None, initial={"title": title})
    if quotation := submit(
        request, form, lambda data: quotation_services.quotation_create(lead=lead, by=request.user, **data)
    ):
        return redirect("contracts:version", pk=quotation.versions.get().pk)
    return _lead_form_page(request, form, lead, _("New quotation"))


def _version(pk):
    return get_object_or_404(
        QuotationVersion.objects.select_related(
            "quotation__lead__customer", "quotation__lead__property"
        ).prefetch_related("items"),
        pk=pk,
    )


def _editor_context(request, version, editor, *, focus: str = "") -> dict:
    items = list(version.items.all())
    # Only a draft can still wait for a discount's approval.
    threshold = contract_settings_get().discount_approval_percent if version.is_editable else None
    show_costs = may_see_costs(request)
    rooms = selectors.quotation_rooms(items)
    context = {
        "version": version,
        "editor": editor,
        "items_formset": editor.lines if editor else None,
        "items": items,
        "rooms": rooms,
        "trades": selectors.quotation_trade_subtotals(items),
        "room_names": [room["room"] for room in rooms if room["room"]],
        "common_rooms": ROOMS,
        "show_costs": show_costs,
        "suggest_url": reverse("contracts:price-items-suggest"),
        "focus": focus,
        "discount_share": pricing.discount_percent(version),
        "discount_threshold": format(threshold.normalize(), "f") if threshold is not None else "",
        "discount_over": threshold is not None
        and pricing.discount_needs_approval(version, threshold_percent=threshold),
        "discount_waiting": threshold is not None
        and quotation_services.discount_needs_approval(version, threshold_percent=threshold),
        "may_manage": _may_manage(request),
        "may_approve_discount": quotation_services.discount_may_approve(
            version, user=request.user, membership=request.membership
        ),
        # From htmx, the page's total and send box are swapped with the editor.
        "oob": bool(request.htmx),
    }
    if show_costs:
        context["margin"], context["margin_percent"] = pricing.margin(version)
    return context


def _editor_post(request, version):
    """The editor's one form: lines (the blank row adds one; ``remove`` names a row to drop) and fees. From
    htmx the answer is the editor again, saved or with the errors on the line that has them; otherwise a
    redirect, or the page with the errors."""
    data = request.POST.copy()
    remove = data.get("remove", "")
    if re.fullmatch(r"items-\d+", remove):
        data[f"{remove}-DELETE"] = "on"
    with_costs = may_see_costs(request)
    editor = QuotationEditor(version, data=data, with_costs=with_costs)
    if editor.is_valid():
        try:
            quotation_services.quotation_version_update(version=version, by=request.user, **editor.service_arguments())
        except ValidationError as error:
            editor.apply_errors(error)
        else:
            added = editor.added_room()
            if not request.htmx:
                messages.success(request, _("Line items saved."))
                return redirect("contracts:version", pk=version.pk)
            version = _version(version.pk)
            editor = QuotationEditor(version, with_costs=with_costs, next_room=added or "")
            context = _editor_context(request, version, editor, focus="add" if added is not None else "")
            return render(request, "contracts/_editor.html", context)
    if request.htmx:
        return render(request, "contracts/_editor.html", _editor_context(request, version, editor, focus="error"))
    return _version_page(request, version, editor=editor)


@permission_required(VIEW)
def version_detail(request, pk):
    version = _version(pk)
    if request.method == "POST":
        _manage_or_403(request)
        if "accept" not in request.POST:
            return _editor_post(request, version)
        accept_form = AcceptForm(request.POST, prefix="accept")
        if submit(
            request,
            accept_form,
            lambda data: quotation_services.quotation_version_accept(
                version=version, via=QuotationVersion.AcceptedVia.STAFF, by=request.user, name=data["name"]
            ),
        ):
            messages.success(request, _("Acceptance recorded."))
            return redirect("contracts:version", pk=version.pk)
        return _version_page(request, version, accept_form=accept_form)
    return _version_page(request, version)


def _version_page(request, version, *, editor=None, accept_form=None):
    may_manage = _may_manage(request)
    if editor is None and version.is_editable and may_manage:
        editor = QuotationEditor(version, with_costs=may_see_costs(request))
    siblings = list(version.quotation.versions.exclude(pk=version.pk).order_by("number"))
    context = {
        **_editor_context(request, version, editor),
        "quotation": version.quotation,
        "lead": version.quotation.lead,
        "accept_form": accept_form
        or AcceptForm(prefix="accept", initial={"name": version.quotation.lead.customer.name}),
        "siblings": siblings,
        "contract": Contract.objects.filter(quotation_version__quotation=version.quotation_id).first(),
        "homeowner_link": (
            request.build_absolute_uri(homeowner_links.url_for(version))
            if version.status == QuotationVersion.Status.SENT
            else ""
        ),
    }
    if editor is not None:
        home = version.quotation.lead.property
        context["copy_form"] = CopyLinesForm(versions=selectors.quotation_version_choices(exclude=version))
        context["package_form"] = PackageFillForm(initial={"area": home.area if home is not None else None})
    return render(request, "contracts/version_detail.html", context)


@require_POST
@permission_required(MANAGE)
def version_send(request, pk):
    version = _version(pk)
    return page_action(
        request,
        lambda: quotation_services.quotation_version_send(version=version),
        done=_("Version %(number)s is sent and can no longer change.") % {"number": version.number},
        back=reverse("contracts:version", args=[version.pk]),
    )


@require_POST
@permission_required(MANAGE)
def version_copy(request, pk):
    copy = quotation_services.quotation_version_copy(version=_version(pk), by=request.user)
    messages.success(request, _("Version %(number)s started as a copy.") % {"number": copy.number})
    return redirect("contracts:version", pk=copy.pk)


@require_POST
@permission_required(VIEW)
def version_approve_discount(request, pk):
    """The service decides who may: a manager with the approval right who did not write the version."""
    version = _version(pk)
    return page_action(
        request,
        lambda: quotation_services.quotation_version_approve_discount(version=version, by=request.user),
        done=_("Discount approved."),
        about=_("Discount approval"),
        back=reverse("contracts:version", args=[version.pk]),
    )


@require_POST
@permission_required(MANAGE)
def version_copy_lines(request, pk):
    version = _version(pk)
    form = CopyLinesForm(request.POST, versions=selectors.quotation_version_choices(exclude=version))

    def copy(data):
        source = get_object_or_404(QuotationVersion.objects, pk=data["source"])
        return quotation_services.quotation_version_copy_lines(version=version, source=source, by=request.user)

    return page_action(
        request,
        copy,
        form=form,
        done=_("Lines copied."),
        about=_("Copy lines"),
        back=reverse("contracts:version", args=[version.pk]),
    )


@require_POST
@permission_required(MANAGE)
def version_fill_package(request, pk):
    version = _version(pk)
    return page_action(
        request,
        lambda data: quotation_services.quotation_version_fill_from_package(
            version=version, package=data["package"], area=data["area"], by=request.user
        ),
        form=PackageFillForm(request.POST),
        done=_("The package's lines are added; edit them as needed."),
        about=_("Fill from a package"),
        back=reverse("contracts:version", args=[version.pk]),
    )


@permission_required(VIEW)
def version_compare(request, pk, other_pk):
    old = _version(pk)
    new = get_object_or_404(QuotationVersion.objects.prefetch_related("items"), pk=other_pk, quotation=old.quotation)
    comparison = selectors.quotation_versions_compare(old=old, new=new)
    labels = {field: QuotationItem._meta.get_field(field).verbose_name for field in QuotationItem.COMPARED_FIELDS}
    for item in comparison["changed"]:
        item["changes_display"] = [(labels[field], *values) for field, values in item["changes"].items()]
    return render(request, "contracts/version_compare.html", {"old": old, "new": new, "comparison": comparison})


# The homeowner's link ----------------------------------------------------------------------------------------


def homeowner_accept(request, token):
    """No account: the signed link names the firm and the version. A tampered or expired link, or a version
    no longer open for acceptance, gets a clear page and no data."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    with homeowner_links.open_version(token) as (version, problem):
        if problem:
            return render(request, "contracts/homeowner_link_invalid.html", {"problem": problem}, status=404)
        if version.status == QuotationVersion.Status.ACCEPTED:
            return render(request, "contracts/homeowner_accepted.html", {"version": version})
        form = HomeownerAcceptForm(request.POST or None, initial={"name": version.quotation.lead.customer.name})
        accepted = submit(
            request,
            form,
            lambda data: quotation_services.quotation_version_accept(
                version=version,
                via=QuotationVersion.AcceptedVia.HOMEOWNER_LINK,
                name=data["name"],
                ip=client_ip(request),
                signature=data["signature"],
            ),
        )
        if accepted:
            return render(request, "contracts/homeowner_accepted.html", {"version": accepted, "just_now": True})
        context = {"version": version, "items": version.items.all(), "form": form, "firm": version.tenant}
        return render(request, "contracts/homeowner_accept.html", context)


# Contracts ----------------------------------------------------------------------------------------------


@permission_required(VIEW)
def contract_list(request):
    form = ContractFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    contracts, older = selectors.contract_page(
        **filters, full_contacts=may_see_contacts(request), before=before_param(request)
    )
    return render(request, "contracts/contract_list.html", {"form": form, "contracts": contracts, "older": older})


@permission_required(MANAGE)
def contract_sign(request, version_pk):
    version = _version(version_pk)
    lead = version.quotation.lead
    today = firm_today()
    form = ContractSignForm(
        request.POST or None,
        initial={"number": f"HT{today:%Y%m%d}-{lead.pk}", "signed_on": today, "package_type": "half"},
    )
    schedule = signing.default_instalments(amount=version.total, signed_on=today)
    instalments = InstalmentFormSet(request.POST or None, initial=schedule, prefix="instalments")
    materials = MainMaterialFormSet(request.POST or None, prefix="materials")

    def sign(data):
        return signing.contract_sign(
            version=version,
            by=request.user,
            instalments=instalments.rows(),
            main_materials=materials.rows(),
            ip=client_ip(request),
            **data,
        )

    # Unbound on a GET, so not valid: only a POST gets as far as the service.
    contract = instalments.is_valid() and materials.is_valid() and submit(request, form, sign)
    if contract:
        messages.success(request, _("Contract %(number)s signed.") % {"number": contract.number})
        return redirect("contracts:detail", pk=contract.pk)
    context = {"version": version, "lead": lead, "form": form, "instalments": instalments, "materials": materials}
    return render(request, "contracts/contract_sign.html", context)


@permission_required(VIEW)
def contract_detail(request, pk):
    contract = get_object_or_404(
        Contract.objects.select_related("project__customer", "project__property", "quotation_version__quotation")
        .prefetch_related("main_materials")
        .prefetch_related(Prefetch("instalments", queryset=Instalment.objects.select_related("recorded_by")))
        .prefetch_related(Prefetch("change_orders", queryset=ChangeOrder.objects.order_by("-number"))),
        pk=pk,
    )
    context = {
        "contract": contract,
        "project": contract.project,
        "paid_on_form": PaidOnForm(initial={"paid_on": firm_today()}),
        "outstanding": selectors.instalments_outstanding_total(contract=contract),
        "may_manage": _may_manage(request),
        "may_record_payments": request.membership.has_perm(RECORD_PAYMENTS),
    }
    return render(request, "contracts/contract_detail.html", context)


@require_POST
@permission_required(RECORD_PAYMENTS)
def instalment_pay(request, pk):
    """Finance and firm admins only (the service holds the same rule for every caller)."""
    instalment = get_object_or_404(Instalment.objects, pk=pk)
    return page_action(
        request,
        lambda data: payments.instalment_record_payment(
            instalment=instalment, paid_on=data["paid_on"], by=request.user
        ),
        form=PaidOnForm(request.POST),
        invalid=_("Give the date the payment was received."),
        done=_("Payment recorded."),
        back=reverse("contracts:detail", args=[instalment.contract_id]),
    )


# Change orders -------------------------------------------------------------------------------------------


@permission_required(VIEW)
def change_order_list(request):
    form = ChangeOrderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    orders, older = selectors.change_order_page(
        **filters, full_contacts=may_see_contacts(request), before=before_param(request)
    )
    firm_settings = contract_settings_get()
    for order in orders:
        order.needs_requote = change_orders.change_order_needs_requote(
            order=order,
            approved_changes=order.approved_changes,
            threshold_percent=firm_settings.change_order_threshold_percent,
        )
        order.needs_manager = change_orders.change_order_needs_manager(
            order=order, threshold_percent=firm_settings.change_order_approval_percent
        )
    return render(request, "contracts/change_order_list.html", {"form": form, "orders": orders, "older": older})


@permission_required(MANAGE)
def change_order_create(request, contract_pk):
    contract = get_object_or_404(Contract.objects.select_related("project__customer"), pk=contract_pk)
    form = ChangeOrderForm(request.POST or None)
    lines = ChangeLineFormSet(request.POST or None, prefix="lines")
    order = lines.is_valid() and submit(
        request,
        form,
        lambda data: change_orders.change_order_create(contract=contract, lines=lines.rows(), by=request.user, **data),
    )
    if order:
        return redirect("contracts:change-order", pk=order.pk)
    return render(request, "contracts/change_order_form.html", {"contract": contract, "form": form, "lines": lines})


@permission_required(VIEW)
def change_order_detail(request, pk):
    order = get_object_or_404(
        selectors.change_orders_with_totals()
        .select_related("contract__project__customer", "contract__quotation_version", "created_by", "decided_by")
        .prefetch_related("lines"),
        pk=pk,
    )
    if request.method == "POST":
        _manage_or_403(request)
        service = change_orders.change_order_approve if "approve" in request.POST else change_orders.change_order_reject
        back = reverse("contracts:change-order", args=[order.pk])
        return page_action(request, lambda: service(order=order, by=request.user), back=back)
    firm_settings = contract_settings_get()
    needs_requote = change_orders.change_order_needs_requote(
        order=order,
        approved_changes=order.approved_changes,
        threshold_percent=firm_settings.change_order_threshold_percent,
    )
    approval_percent = firm_settings.change_order_approval_percent
    context = {
        "order": order,
        "contract": order.contract,
        "needs_requote": needs_requote,
        "needs_manager": change_orders.change_order_needs_manager(order=order, threshold_percent=approval_percent),
        "approval_percent": format(approval_percent.normalize(), "f"),
        "may_manage": _may_manage(request),
        "may_approve": _may_manage(request)
        and change_orders.change_order_may_approve(
            order=order, user=request.user, membership=request.membership, threshold_percent=approval_percent
        ),
        "requote_url": reverse("contracts:version", args=[order.contract.quotation_version_id]),
    }
    return render(request, "contracts/change_order_detail.html", context)
