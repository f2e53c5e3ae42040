"""The contracts section of a homeowner's personal data (see renocrm/privacy/registry.py).

Erased: the signer's name, IP address and drawn signature on accepted quotation versions, and the frozen
signed copies (their PDF and the data it was made from; the hash stays) and where quotations were sent; the project's
name (made from the customer's name or address); the customer's name, mobile and addresses inside titles,
terms, notes and change-order reasons; measurement-appointment notes (directions, door codes, who to call).
Kept: every amount, line item, instalment, date, status and number — the firm's accounts and figures — and
who on the staff signed, created or decided what.
"""

from __future__ import annotations

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renocrm.privacy.registry import ERASED, SCRUB, anonymise, data_url_bytes, delete_files_on_commit, rows
from renocrm.tenancy.context import require_current_tenant

from .models import (
    ChangeOrder,
    Contract,
    DesignAgreement,
    DocumentDelivery,
    Instalment,
    MainMaterialLine,
    MeasurementAppointment,
    Project,
    Quotation,
    QuotationItem,
    QuotationVersion,
    SignedDocument,
)

LIVE_PROJECT = (Project.Status.SIGNED, Project.Status.IN_CONSTRUCTION)


def _versions(customer):
    return QuotationVersion.objects.filter(quotation__lead__customer=customer)


def export(customer) -> dict:
    by_lead = {"lead__customer": customer}
    by_contract = {"contract__project__customer": customer}
    return {
        "design_agreements": rows(
            DesignAgreement.objects.filter(**by_lead), "id", "lead_id", "fee", "signed_on", "paid", "paid_on", "notes"
        ),
        "measurement_appointments": rows(
            MeasurementAppointment.objects.filter(**by_lead),
            "id",
            "lead_id",
            "scheduled_at",
            "status",
            "designer__name",
            "notes",
        ),
        "quotations": rows(Quotation.objects.filter(**by_lead), "id", "lead_id", "title", "created_at"),
        "quotation_versions": rows(
            _versions(customer),
            "id",
            "quotation_id",
            "number",
            "status",
            "total",
            "note",
            "created_at",
            "sent_at",
            "accepted_at",
            "accepted_via",
            "accepted_name",
            "accepted_ip",
        ),
        "quotation_items": rows(
            QuotationItem.objects.filter(version__quotation__lead__customer=customer),
            "version_id",
            "category",
            "name",
            "unit",
            "quantity",
            "unit_price",
            "brand_model",
            "amount",
        ),
        "projects": rows(
            Project.objects.filter(customer=customer),
            "id",
            "lead_id",
            "property_id",
            "name",
            "status",
            "handed_over_on",
            "created_at",
        ),
        "contracts": rows(
            Contract.objects.filter(project__customer=customer),
            "id",
            "project_id",
            "number",
            "package_type",
            "original_amount",
            "amount",
            "planned_start",
            "planned_end",
            "signed_on",
            "terms",
        ),
        "instalments": rows(
            Instalment.objects.filter(**by_contract),
            "contract_id",
            "sequence",
            "kind",
            "amount",
            "trigger",
            "due_on",
            "paid_on",
            "paid_amount",
        ),
        "main_materials": rows(
            MainMaterialLine.objects.filter(**by_contract),
            "contract_id",
            "name",
            "brand_model",
            "unit",
            "quantity",
            "unit_price",
            "amount",
        ),
        "signed_copies": rows(
            _signed_copies(customer), "id", "kind", "quotation_version_id", "contract_id", "sha256", "signed_at"
        ),
        "quotation_deliveries": rows(
            DocumentDelivery.objects.filter(quotation_version__quotation__lead__customer=customer),
            "quotation_version_id",
            "channel",
            "recipient",
            "created_at",
        ),
        "change_orders": rows(
            ChangeOrder.objects.filter(**by_contract),
            "contract_id",
            "number",
            "reason",
            "status",
            "additions",
            "removals",
            "created_at",
            "decided_at",
        ),
    }


def _signed_copies(customer):
    return SignedDocument.objects.filter(
        Q(quotation_version__quotation__lead__customer=customer) | Q(contract__project__customer=customer)
    )


def files(customer) -> list:
    """The drawn signatures on the customer's accepted quotation versions, as PNG files, and the signed copies'
    PDFs."""
    signed = _versions(customer).exclude(signature="").values_list("quotation_id", "number", "signature")
    found = []
    for quotation_id, number, signature in signed.order_by("pk"):
        content = data_url_bytes(signature)
        if content:
            found.append((f"signatures/quotation-{quotation_id}-v{number}.png", content))
    for copy in _signed_copies(customer).exclude(file="").order_by("pk"):
        with copy.file.open("rb") as stored:
            found.append((f"signed/{copy.kind}-{copy.pk}.pdf", stored.read()))
    return found


def erase(customer) -> None:
    versions = _versions(customer)
    anonymise(versions.exclude(accepted_name=""), customer, accepted_name=ERASED)
    anonymise(versions, customer, accepted_ip=None, signature="", note=SCRUB)
    anonymise(Quotation.objects.filter(lead__customer=customer), customer, title=SCRUB)
    anonymise(DesignAgreement.objects.filter(lead__customer=customer), customer, notes=SCRUB)
    anonymise(MeasurementAppointment.objects.filter(lead__customer=customer), customer, notes="")
    with translation.override(require_current_tenant().language):
        prefix = _("Project #")
    project_name = Concat(Value(prefix), Cast("id", CharField()))
    anonymise(Project.objects.filter(customer=customer), customer, name=project_name)
    anonymise(Contract.objects.filter(project__customer=customer), customer, terms=SCRUB)
    anonymise(ChangeOrder.objects.filter(contract__project__customer=customer), customer, reason=SCRUB)
    # The signed copies hold the name, signature and address: the PDF and its data go, the hash stays, and a copy
    # not yet made is never made. Locked before their files are read: a render under way (which holds the row)
    # finishes first, so the file it stores is the one deleted, and one not begun finds the copy erased.
    copies = _signed_copies(customer)
    locked = list(copies.select_for_update(of=("self",)).order_by("pk"))
    delete_files_on_commit([copy.file for copy in locked if copy.file])
    anonymise(copies, customer, content={}, file="", rendered_at=timezone.now())
    anonymise(DocumentDelivery.objects.filter(quotation_version__quotation__lead__customer=customer), recipient=ERASED)


def blocks_erasure(customer) -> str | None:
    live = Project.objects.filter(customer=customer, status__in=LIVE_PROJECT).count()
    if live:
        return _("%(count)d signed project(s) of this customer are not yet handed over.") % {"count": live}
    return None


def holds(customer) -> bool:
    """A customer with a contract stays: the firm keeps its contracts and accounts."""
    return Project.objects.filter(customer=customer).exists()
