"""Fixtures shared by the aftercare tests: a firm in context, uploads in a folder of their own, and projects
handed over the way the system does it (a signed quotation, a worksite, the completed handover)."""

from datetime import date
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from contracts.services import quotations, signing
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.leads.factories import LeadFactory
from tests.worksites.factories import finish_construction
from worksites.models import HandoverDocument
from worksites.services import handover as handover_services
from worksites.services import schedule

KITCHEN_WATERPROOFING = {
    "category": "waterproofing",
    "name": "厨房防水涂料 1.5mm",
    "unit": "m²",
    "quantity": "12",
    "unit_price": "85",
}
BATHROOM_WATERPROOFING = {
    "category": "waterproofing",
    "name": "卫生间防水",
    "unit": "m²",
    "quantity": "20",
    "unit_price": "85",
}
TILES = {"category": "masonry", "name": "客厅地砖铺贴", "unit": "m²", "quantity": "40", "unit_price": "65"}
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def firm(firm_a):
    # The default policy is written in the firm's language; these tests read it in English.
    firm_a.language = "en"
    firm_a.save()
    with tenant_context(firm_a):
        yield firm_a


def staff(firm, role="customer_service", **user):
    return MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()}).user


def photo(name="leak.jpg", size=(64, 48)):
    out = BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def not_a_photo(name="leak.jpg"):
    return SimpleUploadedFile(name, b"<html>not a photo</html>", content_type="image/jpeg")


def signed_worksite(items=(TILES,), number="HT-A-1"):
    """A worksite opened from a contract signed on a quotation with these lines."""
    quotation = quotations.quotation_create(lead=LeadFactory(), title="Whole flat", items=list(items))
    version = quotations.quotation_version_send(version=quotation.versions.get())
    quotations.quotation_version_accept(version=version, via="staff", name="Wang Fang")
    contract = signing.contract_sign(
        version=version,
        number=number,
        package_type="full",
        planned_start=date(2026, 12, 1),
        planned_end=date(2027, 3, 1),
        signed_on=date(2026, 11, 24),
    )
    return schedule.worksite_open(contract=contract)


def complete_handover(worksite, by, on=None):
    """Finish construction, start, pass every check, upload the required documents and complete the handover."""
    finish_construction(worksite)
    handover = handover_services.handover_start(worksite=worksite, started_by=by)
    for item in handover.items.all():
        handover_services.acceptance_item_check(item=item, passed=True, checked_by=by)
    for kind in HandoverDocument.REQUIRED_KINDS:
        upload = SimpleUploadedFile("doc.pdf", PDF_BYTES, content_type="application/pdf")
        handover_services.handover_document_add(handover=handover, kind=kind, upload=upload, uploaded_by=by)
    return handover_services.handover_complete(handover=handover, completed_by=by, on=on)


def handed_over(firm, items=(TILES,), number="HT-A-1", customer_service=None):
    """A project handed over today (firm time), its warranties started by the handover event."""
    worksite = signed_worksite(items, number=number)
    if customer_service is not None:
        worksite.customer_service = customer_service
        worksite.save(update_fields=["customer_service"])
    complete_handover(worksite, staff(firm, role="project_manager"))
    worksite.project.refresh_from_db()
    return worksite.project
