"""PDF downloads of quotation versions and contracts — for staff, and for the homeowner through their signed
link — and sending a quotation version to the customer. The frozen signed copy is served when there is one,
else the document as it stands now, marked as not signed. Staff who may not see homeowners' contact details
get the document now with them masked, never the signed copy (``documents.pdf_for``)."""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action
from renocrm.privacy.masking import may_see_contacts

from . import documents, homeowner_links
from .document_forms import SendToCustomerForm
from .models import Contract, QuotationVersion
from .services import delivery

logger = logging.getLogger(__name__)

VIEW, MANAGE = "contracts.view", "contracts.manage"


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _unavailable(request):
    logger.exception("A PDF could not be made.")
    return render(request, "contracts/pdf_unavailable.html", status=503)


@require_safe
@permission_required(VIEW)
def version_pdf(request, pk):
    version = get_object_or_404(QuotationVersion.objects, pk=pk)
    try:
        data, copy = documents.pdf_for(version=version, contacts=may_see_contacts(request))
    except documents.PdfUnavailable:
        return _unavailable(request)
    return pdf_response(data, documents.download_name(version=version, signed=copy is not None))


@require_safe
@permission_required(VIEW)
def contract_pdf(request, pk):
    contract = get_object_or_404(Contract.objects, pk=pk)
    try:
        data, copy = documents.pdf_for(contract=contract, contacts=may_see_contacts(request))
    except documents.PdfUnavailable:
        return _unavailable(request)
    return pdf_response(data, documents.download_name(contract=contract, signed=copy is not None))


@require_POST
@permission_required(MANAGE)
def version_send_to_customer(request, pk):
    version = get_object_or_404(QuotationVersion.objects.select_related("quotation__lead__customer"), pk=pk)

    def sent(deliveries) -> str:
        where = ", ".join(f"{d.get_channel_display()} {d.recipient}" for d in deliveries)
        return _("The link to version %(number)s is on its way: %(where)s.") % {
            "number": version.number,
            "where": where,
        }

    return page_action(
        request,
        lambda data: delivery.quotation_send_to_customer(
            version=version, by=request.user, base_url=request.build_absolute_uri("/"), **data
        ),
        form=SendToCustomerForm(request.POST),
        done=sent,
        about=_("Not sent"),
        back=reverse("contracts:version", args=[version.pk]),
    )


@require_safe
def homeowner_pdf(request, token):
    """The homeowner's download, behind the same signed link as the page: the signed copy once accepted."""
    with homeowner_links.open_version(token) as (version, problem):
        if problem:
            return render(request, "contracts/homeowner_link_invalid.html", {"problem": problem}, status=404)
        try:
            data, copy = documents.pdf_for(version=version, for_homeowner=True)
        except documents.PdfUnavailable:
            return _unavailable(request)
        return pdf_response(data, documents.download_name(version=version, signed=copy is not None))
