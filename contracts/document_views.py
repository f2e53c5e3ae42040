"""PDF downloads of quotation versions and contracts — for staff, and for the homeowner through their signed
link — and sending a quotation version to the customer. The frozen signed copy is served when there is one,
else the document as it stands now, marked as not signed."""

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


def _signed_or_now(copy, now) -> tuple[bytes, bool]:
    """(the PDF, whether it is the signed copy): the frozen copy when there is one (and it was not erased),
    else ``now()``."""
    if copy is not None:
        data = documents.signed_document_bytes(copy)
        if data is not None:
            return data, True
    return now(), False


def _unavailable(request):
    logger.exception("A PDF could not be made.")
    return render(request, "contracts/pdf_unavailable.html", status=503)


@require_safe
@permission_required(VIEW)
def version_pdf(request, pk):
    version = get_object_or_404(QuotationVersion.objects, pk=pk)
    try:
        data, signed = _signed_or_now(
            documents.signed_copy_of(version=version),
            lambda: documents.quotation_pdf(version, for_homeowner=False),
        )
    except documents.PdfUnavailable:
        return _unavailable(request)
    return pdf_response(data, documents.download_name(version=version, signed=signed))


@require_safe
@permission_required(VIEW)
def contract_pdf(request, pk):
    contract = get_object_or_404(Contract.objects, pk=pk)
    try:
        data, signed = _signed_or_now(
            documents.signed_copy_of(contract=contract), lambda: documents.contract_pdf(contract)
        )
    except documents.PdfUnavailable:
        return _unavailable(request)
    return pdf_response(data, documents.download_name(contract=contract, signed=signed))


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
        copy = documents.signed_copy_of(version=version) if version.status == version.Status.ACCEPTED else None
        try:
            data, signed = _signed_or_now(copy, lambda: documents.quotation_pdf(version, for_homeowner=True))
        except documents.PdfUnavailable:
            return _unavailable(request)
        return pdf_response(data, documents.download_name(version=version, signed=signed))
