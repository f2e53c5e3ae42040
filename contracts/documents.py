"""Printable quotations and contracts (PDF, on the firm's letterhead) and the frozen copy of what was signed.

A document is rendered from plain data (``quotation_content`` / ``contract_content``: text and amounts already
formatted, in the firm's language, never a cost or a margin). For a signature the data is captured inside the
signing transaction and stored on a ``SignedDocument`` (``signed_copy_freeze``); the PDF is made from that
stored data once, after commit, by a task (or by the first download if the task has not run), so the copy is
exactly what was signed however late it is rendered. Its SHA-256 is taken from the stored bytes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import OrderedDict
from decimal import Decimal
from io import BytesIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image

from renocrm import pdf
from renocrm.outbox.enqueue import enqueue_on_commit
from renocrm.privacy.registry import data_url_bytes
from renocrm.tenancy.context import require_current_tenant

from .models import Contract, Instalment, QuotationVersion, SignedDocument, TradeCategory

logger = logging.getLogger(__name__)

PdfUnavailable = pdf.PdfUnavailable
# The logo is drawn at most about 60 mm wide: this many pixels is sharp in print and small in the stored data.
LOGO_PIXELS = (600, 240)
# Stored with each signed copy's content, so a later change to its shape can still render the old copies.
CONTENT_VERSION = 1
ZERO = Decimal("0.00")


# Formatting -------------------------------------------------------------------------------------------------


def _money(value) -> str:
    return f"{Decimal(value):,.2f}"


def _quantity(value) -> str:
    return format(Decimal(value).normalize(), "f")


def _local(moment, firm) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment, firm.zone).strftime("%Y-%m-%d %H:%M:%S")


def _day(value) -> str:
    return value.isoformat() if value else ""


def _person(user) -> str:
    return str(user) if user is not None else ""


def _logo(firm) -> str:
    """The firm's logo as a small PNG data URL ("" without one, or when it cannot be read)."""
    if not firm.logo:
        return ""
    try:
        with firm.logo.open("rb") as stored, Image.open(stored) as image:
            image.thumbnail(LOGO_PIXELS)
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            out = BytesIO()
            image.save(out, format="PNG", optimize=True)
    except Exception:  # a missing or unreadable file must not stop the document: it prints without the logo
        logger.warning("The logo of firm %s could not be read for a PDF.", firm.pk, exc_info=True)
        return ""
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _signature_image(value: str) -> str:
    """A drawn signature only if it is a PNG data URL (what the signature pad sends)."""
    content = data_url_bytes(value)
    if not content or not content.startswith(b"\x89PNG\r\n\x1a\n"):
        return ""
    return "data:image/png;base64," + base64.b64encode(content).decode()


def _firm(firm) -> dict:
    return {
        "name": firm.name,
        "address": firm.address,
        "phone": firm.phone,
        "licence": firm.business_licence_number,
        "logo": _logo(firm),
        "time_zone": firm.time_zone,
    }


# What a document shows --------------------------------------------------------------------------------------


def _lines(version: QuotationVersion) -> dict:
    """The version's lines by room (in the order rooms first appear) with each room's subtotal, the subtotal of
    each trade, and whether any line has a discount. Blank rooms are one group of their own."""
    categories = {value: str(label) for value, label in TradeCategory.choices}
    rooms: OrderedDict[str, dict] = OrderedDict()
    trades: dict[str, Decimal] = {}
    any_discount = False
    for item in version.items.all():
        room = rooms.setdefault(item.room, {"name": item.room or _("Whole home / general"), "lines": [], "sum": ZERO})
        room["lines"].append(
            {
                "code": item.code,
                "name": item.name,
                "category": categories.get(item.category, item.category),
                "brand_model": item.brand_model,
                "note": item.note,
                "unit": item.unit,
                "quantity": _quantity(item.quantity),
                "unit_price": _money(item.unit_price),
                "discount": _money(item.discount) if item.discount else "",
                "amount": _money(item.amount),
            }
        )
        room["sum"] += item.amount
        trades[item.category] = trades.get(item.category, ZERO) + item.amount
        any_discount = any_discount or bool(item.discount)
    subtotal = sum((room["sum"] for room in rooms.values()), ZERO)
    return {
        "rooms": [
            {"name": room["name"], "lines": room["lines"], "subtotal": _money(room["sum"])} for room in rooms.values()
        ],
        "trades": [
            {"name": categories[value], "subtotal": _money(trades[value])}
            for value, _label in TradeCategory.choices
            if value in trades
        ],
        "line_discounts": any_discount,
        "subtotal": _money(subtotal),
    }


def _totals(version: QuotationVersion, subtotal: str) -> list[dict]:
    """The lines from the subtotal to the total: fees, the discount on the total and tax, each only if used."""
    rows = [{"label": _("Subtotal of the lines"), "amount": subtotal}]
    if version.management_fee:
        percent = format(version.management_fee_percent.normalize(), "f")
        rows.append(
            {
                "label": _("Management fee (%(percent)s%%)") % {"percent": percent},
                "amount": _money(version.management_fee),
            }
        )
    for field, label in (("design_fee", _("Design fee")), ("transport_fee", _("Transport / handling"))):
        if getattr(version, field):
            rows.append({"label": label, "amount": _money(getattr(version, field))})
    if version.other_fee:
        rows.append({"label": version.other_fee_label or _("Other fee"), "amount": _money(version.other_fee)})
    if version.discount:
        label = _("Discount")
        if version.discount_reason:
            label = f"{label} ({version.discount_reason})"
        rows.append({"label": label, "amount": "−" + _money(version.discount)})
    if version.tax:
        percent = format(version.tax_percent.normalize(), "f")
        rows.append({"label": _("Tax (%(percent)s%%)") % {"percent": percent}, "amount": _money(version.tax)})
    return rows


def _acceptance(version: QuotationVersion, firm) -> dict | None:
    if version.accepted_at is None:
        return None
    return {
        "name": version.accepted_name,
        "time": _local(version.accepted_at, firm),
        "ip": version.accepted_ip or "",
        "image": _signature_image(version.signature),
        "via": str(version.get_accepted_via_display()),
        "recorded_by": _person(version.accepted_by) if version.accepted_via == version.AcceptedVia.STAFF else "",
    }


def _quotation_body(version: QuotationVersion, firm) -> dict:
    quotation = version.quotation
    lead = quotation.lead
    lines = _lines(version)
    return {
        "title": quotation.title,
        "version": version.number,
        "customer": lead.customer.name,
        "address": lead.property.address if lead.property_id else "",
        "designer": _person(lead.designer) if lead.designer_id else "",
        "date": _day(timezone.localtime(version.sent_at or version.created_at, firm.zone).date()),
        **lines,
        "totals": _totals(version, lines["subtotal"]),
        "total": _money(version.total),
    }


def _versions_queryset():
    return QuotationVersion.objects.select_related(
        "quotation__lead__customer", "quotation__lead__property", "quotation__lead__designer", "accepted_by"
    ).prefetch_related("items")


def quotation_content(version: QuotationVersion) -> dict:
    """What the quotation PDF shows, in the firm's language: the letterhead, the lines by room with room and
    trade subtotals, fees, discount, tax and total, and the acceptance once there is one."""
    firm = require_current_tenant()
    version = _versions_queryset().get(pk=version.pk)
    with translation.override(firm.language):
        return {
            "format": CONTENT_VERSION,
            "kind": SignedDocument.Kind.QUOTATION.value,
            "language": firm.language,
            "firm": _firm(firm),
            "status": version.status,
            **_quotation_body(version, firm),
            "acceptance": _acceptance(version, firm),
        }


def _due(instalment: Instalment) -> str:
    text = str(instalment.get_trigger_display())
    if instalment.trigger_phase:
        text = f"{text}: {instalment.trigger_phase}"
    if instalment.due_days_after_trigger:
        text = f"{text} +{instalment.due_days_after_trigger}"
    return text


def contract_content(contract: Contract, *, ip: str | None = None) -> dict:
    """What the contract PDF shows: the parties, amount, dates and terms, the payment schedule, the
    main-material lines, the signed quotation (by room, with its totals) and the signatures."""
    firm = require_current_tenant()
    contract = (
        Contract.objects.select_related("project__customer", "project__property", "signed_by")
        .prefetch_related("instalments", "main_materials")
        .get(pk=contract.pk)
    )
    version = _versions_queryset().get(pk=contract.quotation_version_id)
    project = contract.project
    with translation.override(firm.language):
        instalments = list(contract.instalments.all())
        materials = list(contract.main_materials.all())
        return {
            "format": CONTENT_VERSION,
            "kind": SignedDocument.Kind.CONTRACT.value,
            "language": firm.language,
            "firm": _firm(firm),
            "number": contract.number,
            "package_type": str(contract.get_package_type_display()),
            "customer": project.customer.name,
            "address": project.property.address if project.property_id else "",
            "project": project.name,
            "amount": _money(contract.original_amount),
            "planned_start": _day(contract.planned_start),
            "planned_end": _day(contract.planned_end),
            "signed_on": _day(contract.signed_on),
            "terms": contract.terms,
            "instalments": [
                {
                    "sequence": instalment.sequence,
                    "kind": str(instalment.get_kind_display()),
                    "amount": _money(instalment.amount),
                    "due": _due(instalment),
                    "due_on": _day(instalment.due_on),
                }
                for instalment in instalments
            ],
            "instalments_total": _money(sum((i.amount for i in instalments), ZERO)),
            "materials": [
                {
                    "name": line.name,
                    "brand_model": line.brand_model,
                    "unit": line.unit,
                    "quantity": _quantity(line.quantity),
                    "unit_price": _money(line.unit_price),
                    "amount": _money(line.amount),
                }
                for line in materials
            ],
            "materials_total": _money(sum((line.amount for line in materials), ZERO)),
            "quotation": _quotation_body(version, firm),
            "acceptance": _acceptance(version, firm),
            "firm_signature": {
                "name": _person(contract.signed_by),
                "signed_on": _day(contract.signed_on),
                "time": _local(contract.created_at, firm),
                "ip": ip or "",
            },
        }


# Rendering --------------------------------------------------------------------------------------------------


def render(content: dict, *, mark: str = "") -> bytes:
    """The PDF of a document's content; ``mark`` is printed across every page of a copy that is not the
    signed one ("draft", "not signed")."""
    template = f"contracts/pdf/{content['kind']}.html"
    with translation.override(content["language"]):
        colon = "：" if content["language"].startswith("zh") else ": "
        html = render_to_string(template, {"doc": content, "mark": mark, "colon": colon})
    return pdf.html_to_pdf(html, css=render_to_string("contracts/pdf/document.css"))


def quotation_pdf(version: QuotationVersion, *, for_homeowner: bool) -> bytes:
    """A quotation version printed now. A draft is marked as a draft (staff only: the homeowner's link opens
    sent versions only); a version not accepted is marked "not signed"; an accepted one without a frozen
    copy (accepted before copies were kept) as "copy"."""
    content = quotation_content(version)
    with translation.override(content["language"]):
        if version.status == QuotationVersion.Status.DRAFT and not for_homeowner:
            mark = _("Draft — not sent")
        elif version.status == QuotationVersion.Status.ACCEPTED:
            mark = _("Copy — not the signed original")
        else:
            mark = _("Not signed")
    return render(content, mark=mark)


def contract_pdf(contract: Contract) -> bytes:
    """A contract printed now, marked as a copy: the signed original is its ``SignedDocument``."""
    content = contract_content(contract)
    with translation.override(content["language"]):
        mark = _("Copy — not the signed original")
    return render(content, mark=mark)


# The frozen signed copy -------------------------------------------------------------------------------------


def signed_copy_freeze(
    *, version: QuotationVersion | None = None, contract: Contract | None = None, ip: str | None = None
) -> SignedDocument:
    """Capture what was just signed — call inside the signing transaction — and render its PDF after commit.
    Once per version or contract: a second call returns the copy made by the first."""
    if (version is None) == (contract is None):
        raise ValueError("Freeze a quotation version or a contract.")
    if version is not None:
        target = {"quotation_version": version}
        kind, signed_at = SignedDocument.Kind.QUOTATION, version.accepted_at
    else:
        target = {"contract": contract}
        kind, signed_at = SignedDocument.Kind.CONTRACT, contract.created_at
    document = SignedDocument.objects.filter(**target).first()
    if document is not None:
        return document
    content = quotation_content(version) if version is not None else contract_content(contract, ip=ip)
    document = SignedDocument.objects.create(
        kind=kind, content=content, signed_at=signed_at or timezone.now(), **target
    )
    from .tasks import render_signed_document

    enqueue_on_commit(render_signed_document, document_id=document.pk)
    return document


def _file_name(document: SignedDocument) -> str:
    content = document.content
    if document.kind == SignedDocument.Kind.CONTRACT:
        return f"contract-{content.get('number', document.pk)}-signed.pdf"
    return f"quotation-{document.quotation_version_id}-v{content.get('version', '')}-signed.pdf"


def signed_document_render(*, document_id: int) -> SignedDocument | None:
    """Render a frozen copy's PDF from its stored content, once: the row is locked, and a copy already
    rendered (or emptied by an erasure) is left as it is. None when the row is gone."""
    with transaction.atomic():
        document = SignedDocument.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.is_rendered:
            return document
        data = render(document.content)
        document.file.save(_file_name(document), ContentFile(data), save=False)
        document.sha256 = hashlib.sha256(data).hexdigest()
        document.rendered_at = timezone.now()
        document.save(update_fields=["file", "sha256", "rendered_at"])
        return document


def signed_document_bytes(document: SignedDocument) -> bytes | None:
    """The stored PDF of a frozen copy, rendering it first if its task has not run yet; None once erased."""
    if not document.is_rendered:
        if signed_document_render(document_id=document.pk) is None:
            return None
        document.refresh_from_db()
    if not document.file:
        return None
    with document.file.open("rb") as stored:
        return stored.read()


def signed_document_ready(document: SignedDocument | None) -> SignedDocument | None:
    """The copy with its PDF and hash, rendering it now if it is still waiting; left waiting (and logged) when
    this server cannot make PDFs, so the page that asked still shows."""
    if document is None or document.is_rendered:
        return document
    try:
        return signed_document_render(document_id=document.pk)
    except PdfUnavailable:
        logger.exception("The signed copy %s could not be rendered.", document.pk)
        return document


# Reads ------------------------------------------------------------------------------------------------------


def signed_copy_of(*, version: QuotationVersion | None = None, contract: Contract | None = None):
    """The frozen copy of a version or a contract, or None."""
    if version is not None:
        return SignedDocument.objects.filter(quotation_version=version).first()
    return SignedDocument.objects.filter(contract=contract).first()


def signed_copies_for_project(project) -> list[SignedDocument]:
    """The frozen copies of a project's contract and of the quotation versions accepted for it, oldest first."""
    quotations = Contract.objects.filter(project=project).values("quotation_version__quotation_id")
    return list(
        SignedDocument.objects.filter(Q(contract__project=project) | Q(quotation_version__quotation_id__in=quotations))
        .select_related("quotation_version", "contract")
        .order_by("signed_at", "id")
    )


def download_name(*, version: QuotationVersion | None = None, contract: Contract | None = None, signed: bool) -> str:
    suffix = "-signed" if signed else ""
    if contract is not None:
        return f"contract-{contract.number}{suffix}.pdf"
    return f"quotation-{version.quotation_id}-v{version.number}{suffix}.pdf"
