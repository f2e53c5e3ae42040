"""The PDF panel of the version and contract pages and of the homeowner's link: the download, the frozen signed
copy with its SHA-256, and (on a version, for staff who manage quotations) sending it to the customer. Staff
who may not see homeowners' contact details download the document now, masked, never the signed copy.

``{% version_documents version %}``, ``{% contract_documents contract %}``, ``{% homeowner_documents version %}``.
"""

from django import template
from django.urls import reverse

from contracts import documents
from contracts.document_forms import SendToCustomerForm
from contracts.models import DocumentDelivery, QuotationVersion
from renocrm.privacy.masking import may_see_contacts

register = template.Library()

# Deliveries listed on the version page, newest first.
RECENT_DELIVERIES = 5


def _may(context, permission: str) -> bool:
    membership = getattr(context.get("request"), "membership", None)
    return membership is not None and membership.has_perm(permission)


def _copy(context, copy) -> dict:
    """The signed copy, and what the download gives this reader: the copy, or (``masked_copy``) the document
    printed now with the homeowner's contact details masked."""
    request = context.get("request")
    sees_contacts = request is not None and may_see_contacts(request)
    return {
        "copy": copy,
        "signed_download": sees_contacts and documents.gives_signed_copy(copy),
        "masked_copy": not sees_contacts and documents.gives_signed_copy(copy),
    }


@register.inclusion_tag("contracts/_version_documents.html", takes_context=True)
def version_documents(context, version: QuotationVersion):
    may_send = _may(context, "contracts.manage") and version.status in (
        QuotationVersion.Status.DRAFT,
        QuotationVersion.Status.SENT,
        QuotationVersion.Status.ACCEPTED,
    )
    customer = version.quotation.lead.customer
    # The service sends to the customer's own mobile when the field is left empty.
    mobile = customer.mobile if may_send and may_see_contacts(context.get("request")) else ""
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "current_firm": context.get("current_firm"),
        "version": version,
        "pdf_url": reverse("contracts:version-pdf", args=[version.pk]),
        **_copy(context, documents.signed_copy_of(version=version)),
        "may_send": may_send,
        "send_form": SendToCustomerForm(initial={"mobile": mobile}) if may_send else None,
        "deliveries": list(
            DocumentDelivery.objects.filter(quotation_version=version)
            .select_related("notification", "sent_by")
            .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
        ),
    }


@register.inclusion_tag("contracts/_contract_documents.html", takes_context=True)
def contract_documents(context, contract):
    return {
        "pdf_url": reverse("contracts:contract-pdf", args=[contract.pk]),
        **_copy(context, documents.signed_copy_of(contract=contract)),
    }


@register.inclusion_tag("contracts/_homeowner_documents.html", takes_context=True)
def homeowner_documents(context, version: QuotationVersion):
    """On the homeowner's link (whose token is in the URL): the PDF, and once accepted the signed copy. A copy
    whose task has not run yet shows as being prepared (its download makes it); only the page answering the
    signature (``just_now``) makes it at once, so the homeowner who just signed sees its hash."""
    request = context.get("request")
    token = request.resolver_match.kwargs.get("token", "") if request and request.resolver_match else ""
    copy = None
    if version.status == QuotationVersion.Status.ACCEPTED:
        copy = documents.signed_copy_of(version=version)
        if context.get("just_now"):
            copy = documents.signed_document_ready(copy)
    return {
        "pdf_url": reverse("contracts:homeowner-pdf", args=[token]) if token else "",
        "copy": copy,
        "signed_download": documents.gives_signed_copy(copy),
    }
