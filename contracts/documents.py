"""Printable quotations and contracts (PDF, on the firm's letterhead) and the frozen copy of what was signed.

A document is rendered from plain data (``quotation_content`` / ``contract_content``: text and amounts already
formatted, in the firm's language, never a cost or a margin). For a signature the data is captured inside the
signing transaction and stored on a ``SignedDocument`` (``signed_copy_freeze``); the PDF is made from that
stored data once, after commit, by a task (or by the first download if the task has not run), so the copy is
exactly what was signed however late it is rendered. Its SHA-256 is taken from the stored bytes.

Whoever may not see homeowners' contact details (renocrm.privacy.masking.may_see_contacts) gets a document
printed now with the address masked, mobiles in its free text masked, and the signature and IP address left
out — never the signed copy, which holds them and cannot be masked (``pdf_for``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import OrderedDict
from datetime import timedelta
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
from renocrm.privacy.masking import MASK, mask_address, mask_text
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
# The sweeper (renocrm.sweeps) that makes the copies whose task never ran; a copy is taken to be forgotten once
# its task has had this long.
SIGNED_COPY_SWEEP = "signed-copies"
RENDER_GRACE = timedelta(minutes=10)
# Each takes about a second: a small batch keeps the sweeper's transaction short.
SIGNED_COPY_BATCH = 20


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


class _Shown:
    """The free text of a document as its reader may see it: as it is, or (``masked``) with every mobile
    masked and every part of the home's address that finds the door (``Property.identifying_texts``, the
    compound) replaced by the mask."""

    def __init__(self, *homes, masked: bool = False):
        self.masked = masked
        texts = [text for home in homes if masked and home is not None for text in home.identifying_texts()]
        texts += [home.compound for home in homes if masked and home is not None]
        self.texts = sorted({text for text in texts if text}, key=len, reverse=True)

    def __call__(self, value: str) -> str:
        if not self.masked or not value:
            return value
        value = mask_text(value)
        for text in self.texts:
            value = value.replace(text, MASK)
        return value

    def address(self, home) -> str:
        if home is None:
            return ""
        return mask_address(home.address) if self.masked else home.address


def _lines(version: QuotationVersion, shown: _Shown) -> dict:
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
                "note": shown(item.note),
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


def _totals(version: QuotationVersion, subtotal: str, shown: _Shown) -> list[dict]:
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
        rows.append({"label": shown(version.other_fee_label) or _("Other fee"), "amount": _money(version.other_fee)})
    if version.discount:
        label = _("Discount")
        if version.discount_reason:
            label = f"{label} ({shown(version.discount_reason)})"
        rows.append({"label": label, "amount": "−" + _money(version.discount)})
    if version.tax:
        percent = format(version.tax_percent.normalize(), "f")
        rows.append({"label": _("Tax (%(percent)s%%)") % {"percent": percent}, "amount": _money(version.tax)})
    return rows


def _acceptance(version: QuotationVersion, firm, shown: _Shown) -> dict | None:
    """Who accepted, when and how; the drawn signature and the IP address only for whom may see them."""
    if version.accepted_at is None:
        return None
    return {
        "name": version.accepted_name,
        "time": _local(version.accepted_at, firm),
        "ip": "" if shown.masked else version.accepted_ip or "",
        "image": "" if shown.masked else _signature_image(version.signature),
        "via": str(version.get_accepted_via_display()),
        "recorded_by": _person(version.accepted_by) if version.accepted_via == version.AcceptedVia.STAFF else "",
    }


def _quotation_body(version: QuotationVersion, firm, shown: _Shown) -> dict:
    quotation = version.quotation
    lead = quotation.lead
    lines = _lines(version, shown)
    return {
        "title": shown(quotation.title),
        "version": version.number,
        "customer": lead.customer.name,
        "address": shown.address(lead.property),
        "designer": _person(lead.designer) if lead.designer_id else "",
        "date": _day(timezone.localtime(version.sent_at or version.created_at, firm.zone).date()),
        **lines,
        "totals": _totals(version, lines["subtotal"], shown),
        "total": _money(version.total),
    }


def _versions_queryset():
    return QuotationVersion.objects.select_related(
        "quotation__lead__customer", "quotation__lead__property", "quotation__lead__designer", "accepted_by"
    ).prefetch_related("items")


def quotation_content(version: QuotationVersion, *, masked: bool = False) -> dict:
    """What the quotation PDF shows, in the firm's language: the letterhead, the lines by room with room and
    trade subtotals, fees, discount, tax and total, and the acceptance once there is one. ``masked``: for whom
    may not see the homeowner's contact details."""
    firm = require_current_tenant()
    version = _versions_queryset().get(pk=version.pk)
    shown = _Shown(version.quotation.lead.property, masked=masked)
    with translation.override(firm.language):
        return {
            "format": CONTENT_VERSION,
            "kind": SignedDocument.Kind.QUOTATION.value,
            "language": firm.language,
            "firm": _firm(firm),
            "status": version.status,
            **_quotation_body(version, firm, shown),
            "acceptance": _acceptance(version, firm, shown),
        }


def _due(instalment: Instalment) -> str:
    text = str(instalment.get_trigger_display())
    if instalment.trigger_phase:
        text = f"{text}: {instalment.trigger_phase}"
    if instalment.due_days_after_trigger:
        text = f"{text} +{instalment.due_days_after_trigger}"
    return text


def contract_content(contract: Contract, *, ip: str | None = None, masked: bool = False) -> dict:
    """What the contract PDF shows: the parties, amount, dates and terms, the payment schedule, the
    main-material lines, the signed quotation (by room, with its totals) and the signatures. ``masked``: for
    whom may not see the homeowner's contact details."""
    firm = require_current_tenant()
    contract = (
        Contract.objects.select_related("project__customer", "project__property", "signed_by")
        .prefetch_related("instalments", "main_materials")
        .get(pk=contract.pk)
    )
    version = _versions_queryset().get(pk=contract.quotation_version_id)
    project = contract.project
    shown = _Shown(project.property, version.quotation.lead.property, masked=masked)
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
            "address": shown.address(project.property),
            "project": shown(project.name),
            "amount": _money(contract.original_amount),
            "planned_start": _day(contract.planned_start),
            "planned_end": _day(contract.planned_end),
            "signed_on": _day(contract.signed_on),
            "terms": shown(contract.terms),
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
            "quotation": _quotation_body(version, firm, shown),
            "acceptance": _acceptance(version, firm, shown),
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


def quotation_pdf(version: QuotationVersion, *, for_homeowner: bool, masked: bool = False) -> bytes:
    """A quotation version printed now. A draft is marked as a draft (staff only: the homeowner's link opens
    sent versions only); a version not accepted is marked "not signed"; an accepted one (whose signed
    original is its frozen copy) as "copy". ``masked``: for whom may not see the homeowner's contact
    details."""
    content = quotation_content(version, masked=masked)
    with translation.override(content["language"]):
        if version.status == QuotationVersion.Status.DRAFT and not for_homeowner:
            mark = _("Draft — not sent")
        elif version.status == QuotationVersion.Status.ACCEPTED:
            mark = _("Copy — not the signed original")
        else:
            mark = _("Not signed")
    return render(content, mark=mark)


def contract_pdf(contract: Contract, *, masked: bool = False) -> bytes:
    """A contract printed now, marked as a copy: the signed original is its ``SignedDocument``."""
    content = contract_content(contract, masked=masked)
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


def signed_document_render(*, document_id: int) -> SignedDocument | None:
    """Render a frozen copy's PDF from its stored content, once: the row is locked, and a copy already
    rendered (or emptied by an erasure) is left as it is. None when the row is gone."""
    with transaction.atomic():
        document = SignedDocument.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.is_rendered:
            return document
        data = render(document.content)
        name = download_name(version=document.quotation_version, contract=document.contract, signed=True)
        document.file.save(name, ContentFile(data), save=False)
        document.sha256 = hashlib.sha256(data).hexdigest()
        document.rendered_at = timezone.now()
        document.save(update_fields=["file", "sha256", "rendered_at"])
        return document


def signed_copies_waiting(*, now=None):
    """The ids of the copies still waiting for their PDF past ``RENDER_GRACE``: their task never ran (the broker
    was down at commit) or could not make PDFs. Oldest first."""
    now = now or timezone.now()
    return (
        SignedDocument.objects.filter(rendered_at__isnull=True, created_at__lt=now - RENDER_GRACE)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


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
    this server cannot make PDFs, so the page that asked still shows. For the page answering a signature
    only: any other page shows a copy still waiting as being prepared, and its download makes it."""
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


def gives_signed_copy(copy: SignedDocument | None) -> bool:
    """Whether a download of the copy's document gives the signed copy: it has its PDF, or will make it (a
    copy erased with the homeowner's data has neither, and the download prints the document now)."""
    return copy is not None and (bool(copy.file) or not copy.is_rendered)


def pdf_for(
    *,
    version: QuotationVersion | None = None,
    contract: Contract | None = None,
    for_homeowner: bool = False,
    contacts: bool = True,
) -> tuple[bytes, SignedDocument | None]:
    """The PDF to hand out of a quotation version or a contract, and the frozen copy it is — None when it is
    the document printed now, marked as not the signed one: there is no copy, it was erased, or the reader
    may not see the homeowner's contact details (``contacts`` False), which the copy holds and cannot mask;
    they then get the document with them masked. The homeowner's link (``for_homeowner``) gives a version's
    copy once the version is accepted."""
    if (version is None) == (contract is None):
        raise ValueError("A PDF of a quotation version or of a contract.")
    if version is not None:
        wanted = not for_homeowner or version.status == QuotationVersion.Status.ACCEPTED
        copy = signed_copy_of(version=version) if wanted else None
    else:
        copy = signed_copy_of(contract=contract)
    if contacts and copy is not None:
        data = signed_document_bytes(copy)
        if data is not None:
            return data, copy
    if version is not None:
        return quotation_pdf(version, for_homeowner=for_homeowner, masked=not contacts), None
    return contract_pdf(contract, masked=not contacts), None


def download_name(*, version: QuotationVersion | None = None, contract: Contract | None = None, signed: bool) -> str:
    """The file name of a document's PDF: a download's, an e-mail's attachment's and the stored copy's."""
    suffix = "-signed" if signed else ""
    if contract is not None:
        return f"contract-{contract.number}{suffix}.pdf"
    return f"quotation-{version.quotation_id}-v{version.number}{suffix}.pdf"
