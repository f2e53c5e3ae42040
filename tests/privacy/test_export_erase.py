"""A homeowner's data export and erasure across every stage: the archive holds every section, the documents
list, the files, CSV and JSON that parse; erasure leaves no trace of the person in their rows, the sections'
rows or the audit trail of those rows, keeps the firm's figures and the audit events, refuses while a stage
still needs the customer, and does nothing more when called twice."""

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation

from aftercare.models import CareOptOut, RepairPhoto, RepairRequest, WarrantyReminder
from callbacks import selectors as callback_selectors
from callbacks.models import Callback
from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from contracts.models import Contract, Project
from leads.models import Customer, Lead
from leads.services.privacy import customer_data_export, customer_erase
from renocrm.audit.models import AuditEvent
from renocrm.outbox.models import Notification
from renocrm.privacy import registry
from renocrm.privacy.models import DataRequest
from tests.aftercare.factories import CareMessageFactory, CoverageFactory, RepairPhotoFactory, RepairRequestFactory
from tests.callbacks.factories import CallbackAttemptFactory, CallbackFactory, SurveyDefectFactory, SurveyFactory
from tests.complaints.factories import ComplaintEntryFactory, ComplaintFactory
from tests.contracts.factories import ContractFactory, ProjectFactory
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, FollowUpFactory, LeadFactory, PropertyFactory
from tests.worksites.factories import (
    HandoverDocumentFactory,
    HandoverFactory,
    PhaseFactory,
    SignoffFactory,
    WorksiteFactory,
)
from worksites.models import PortalAction, PortalLink, Signoff, SignoffRole, Worksite

NAME, MOBILE, ADDRESS = "王芳芳", "13812345678", "上海市浦东新区锦绣路88弄7号1201室"
SIGNATURE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SECTIONS = {"contracts", "worksites", "aftercare", "callbacks", "complaints"}


def build_homeowner(firm, *, name=NAME, mobile=MOBILE, address=ADDRESS, net="203.0.113."):
    """A homeowner through the whole lifecycle, handed over, with nothing still open."""
    staff = MembershipFactory(tenant=firm, role="admin").user
    customer = CustomerFactory(
        name=name,
        mobile=mobile,
        other_contacts="WeChat wff88",
        notes=f"{name} prefers calls",
        birthday=date(1985, 3, 2),
    )
    home = PropertyFactory(customer=customer, address=address)
    lead = LeadFactory(
        customer=customer, property=home, household="2 adults, 1 cat", core_needs=f"{name} wants a bright kitchen"
    )
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.WON)
    FollowUpFactory(lead=lead, outcome=f"Called {mobile}: wants a quotation", next_step="Visit the flat")
    project = ProjectFactory(lead=lead, customer=customer, property=home, name=address, status="handed_over")
    contract = ContractFactory(project=project, terms=f"Between the firm and {name}, {address}.")
    version = contract.quotation_version
    version.accepted_name, version.accepted_ip, version.signature = name, f"{net}7", SIGNATURE
    version.accepted_at = timezone.now()
    version.save()
    worksite = WorksiteFactory(contract=contract, status=Worksite.Status.HANDED_OVER)
    PhaseFactory(worksite=worksite, accepted_name=name, accepted_at=timezone.now(), status="accepted")
    SignoffFactory(
        inspection__worksite=worksite,
        role=SignoffRole.HOMEOWNER,
        signed_name=name,
        ip_address=f"{net}8",
        note="Looks good",
    )
    link = PortalLink.objects.create(worksite=worksite, expires_at=timezone.now() + timedelta(days=30), sent_to=mobile)
    PortalAction.objects.create(link=link, action="opened", ip_address=f"{net}9", user_agent="Phone browser")
    handover = HandoverFactory(worksite=worksite, status="completed", handed_over_on=date(2026, 1, 31))
    HandoverDocumentFactory(
        handover=handover,
        kind="warranty_card",
        title="Warranty card",
        file=ContentFile(b"%PDF-1.4 warranty", name="warranty.pdf"),
        content_type="application/pdf",
        size=17,
        original_name="warranty.pdf",
    )
    CoverageFactory(project=project, ends_on=date.today() + timedelta(days=20))
    repair = RepairRequestFactory(
        project=project,
        source=RepairRequest.Source.PORTAL,
        description=f"Leak under the basin, call {mobile}",
        status=RepairRequest.Status.CONFIRMED,
        homeowner_comment="Fixed quickly, thanks",
        homeowner_satisfied=True,
    )
    photo = RepairPhotoFactory(repair=repair, file=ContentFile(b"\x89PNG photo", name="leak.png"))
    CareMessageFactory(customer=customer, body=f"Happy birthday, {name}!")
    callback = CallbackFactory(
        worksite=worksite, status=Callback.Status.COMPLETED, due_on=date(2026, 2, 4), completed_at=timezone.now()
    )
    CallbackAttemptFactory(callback=callback, outcome="reached", note=f"Reached {name} on {mobile}")
    survey = SurveyFactory(
        callback=callback, overall=4, nps=10, suggestions="Tell the foreman to tidy up", contact_update="13900001111"
    )
    SurveyDefectFactory(survey=survey, note="Crack above the bedroom door")
    CallbackFactory(worksite=worksite, due_on=date(2030, 1, 31))  # a callback still to come
    complaint = ComplaintFactory(
        project=project,
        customer=customer,
        description=f"{name}: the wall cracked",
        status="closed",
        verdict="satisfied",
    )
    ComplaintEntryFactory(complaint=complaint, kind="verdict", text="I am happy with the repair")
    ComplaintEntryFactory(complaint=complaint, text=f"Visited {address}")
    Notification.objects.create(
        channel="sms", recipient=mobile, body=f"Dear {name}, your survey link", idempotency_key=f"test:sms:{mobile}"
    )
    customer.staff, customer.photo, customer.project = staff, photo, project
    return customer


def read_zip(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def audit_mentions(value: str) -> int:
    return AuditEvent.objects.annotate(text=Cast("changes", TextField())).filter(text__contains=value).count()


def test_every_stage_registers_its_section():
    assert {section.name for section in registry.sections()} == SECTIONS


def test_the_export_holds_every_section_the_documents_list_and_the_files(firm):
    customer = build_homeowner(firm)
    archive = read_zip(customer_data_export(customer=customer, by=customer.staff, note="Asked by phone"))
    names = set(archive.namelist())
    document = json.loads(archive.read("customer.json"))

    assert document["customer"]["name"] == NAME and document["customer"]["mobile"] == MOBILE
    assert document["properties"][0]["address"] == ADDRESS
    assert document["follow_ups"][0]["outcome"].startswith("Called")
    assert set(document["sections"]) == SECTIONS
    sections = document["sections"]
    assert sections["contracts"]["contracts"][0]["original_amount"] == "100000.00"
    assert sections["contracts"]["quotation_versions"][0]["accepted_name"] == NAME
    assert [doc["kind"] for doc in sections["worksites"]["handover_documents"]] == ["warranty_card"]
    assert sections["worksites"]["signoffs"][0]["signed_name"] == NAME
    assert sections["aftercare"]["repair_requests"][0]["homeowner_comment"] == "Fixed quickly, thanks"
    assert len(sections["aftercare"]["coverages"]) == 1
    assert sections["callbacks"]["surveys"][0]["nps"] == 10
    assert sections["complaints"]["complaints"][0]["category"] == "quality"

    version = customer.project.contracts.get().quotation_version
    signature = f"files/contracts/signatures/quotation-{version.quotation_id}-v{version.number}.png"
    assert signature in names and archive.read(signature).startswith(b"\x89PNG")
    warranty = [name for name in names if name.startswith("files/worksites/handover-documents/")]
    assert len(warranty) == 1 and archive.read(warranty[0]) == b"%PDF-1.4 warranty"
    photos = [name for name in names if name.startswith("files/aftercare/repair-photos/")]
    assert len(photos) == 1 and archive.read(photos[0]) == b"\x89PNG photo"
    assert set(document["files"]) == {signature, *warranty, *photos}

    customers = list(csv.DictReader(io.StringIO(archive.read("csv/leads.customer.csv").decode("utf-8-sig"))))
    assert customers[0]["mobile"] == MOBILE
    for section in SECTIONS:
        assert any(name.startswith(f"csv/{section}.") for name in names), section
    surveys = list(csv.DictReader(io.StringIO(archive.read("csv/callbacks.surveys.csv").decode("utf-8-sig"))))
    assert surveys[0]["overall"] == "4"
    readme = archive.read("README.txt").decode()
    assert "customer.json" in readme and "csv/worksites.handover_documents.csv" in readme

    request = DataRequest.objects.get()
    assert (request.kind, request.subject_type, request.subject_id) == ("export", "leads.customer", str(customer.pk))
    assert request.requested_by == customer.staff and request.note == "Asked by phone"


def test_the_readme_is_in_the_firms_language(firm):
    firm.language = "zh-hans"
    firm.save()
    customer = CustomerFactory()
    with translation.override("en"):
        readme = read_zip(customer_data_export(customer=customer)).read("README.txt").decode()
    with translation.override("zh-hans"):
        expected = translation.gettext("Tables:")
    assert expected in readme


def figures(start, end):
    return {
        "callbacks": callback_selectors.callback_stats(date(2026, 1, 1), date(2026, 3, 31)),
        "satisfaction": callback_selectors.satisfaction_distribution(start, end),
        "nps": callback_selectors.nps(start, end),
        "complaints": complaint_selectors.complaints_by_category(),
        "contract_amounts": Contract.objects.aggregate(Sum("amount"), Sum("original_amount")),
        "repairs": RepairRequest.objects.filter(homeowner_satisfied=True).count(),
    }


def test_erasure_leaves_no_trace_of_the_person_and_keeps_the_figures(firm, django_capture_on_commit_callbacks):
    customer = build_homeowner(firm)
    bystander = build_homeowner(
        firm, name="李雷雷", mobile="13987654321", address="北京市朝阳区建国路1号", net="198.51.100."
    )
    start, end = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    before = figures(start, end)
    audit_events = AuditEvent.objects.count()
    photo_path = Path(customer.photo.file.path)
    assert photo_path.exists()
    assert audit_mentions(MOBILE) > 0 and audit_mentions(NAME) > 0

    with django_capture_on_commit_callbacks(execute=True):
        erased = customer_erase(customer=customer, by=customer.staff, note="Asked in the showroom")

    assert erased.name == f"Erased customer #{customer.pk}"
    assert erased.mobile == f"0{customer.pk:010d}" and len(erased.mobile) == 11
    assert (erased.other_contacts, erased.notes, erased.birthday) == ("", "", None)
    assert erased.anonymised_at is not None
    assert not Lead.objects.filter(customer=customer, anonymised_at__isnull=True).exists()

    # Nothing of the person in any row the export reads (every section's rows) …
    after = read_zip(customer_data_export(customer=erased)).read("customer.json").decode()
    for trace in (NAME, MOBILE, ADDRESS, "203.0.113.", "WeChat", "Fixed quickly", "Tell the foreman", "13900001111"):
        assert trace not in after, trace
    assert "I am happy" not in after and "Phone browser" not in after
    # … nor in the audit trail, nor in the messages sent.
    assert audit_mentions(MOBILE) == 0 and audit_mentions(NAME) == 0 and audit_mentions(ADDRESS) == 0
    assert audit_mentions("203.0.113.7") == 0
    assert not Notification.objects.filter(body__contains=NAME).exists()
    assert not Notification.objects.filter(recipient=MOBILE).exists()
    # The files of the person are gone from storage and the signature from the quotation.
    assert not photo_path.exists() and not RepairPhoto.objects.filter(repair__project=customer.project).exists()
    assert customer.project.contracts.get().quotation_version.signature == ""
    # Nobody writes to them again.
    assert CareOptOut.objects.filter(customer=customer).exists()
    assert WarrantyReminder.objects.filter(coverage__project=customer.project, skipped=True).exists()
    assert not Callback.objects.filter(customer=customer, status="scheduled").exists()
    assert not PortalLink.objects.filter(worksite__project=customer.project, revoked_at__isnull=True).exists()

    # The bystander is untouched.
    assert Customer.objects.get(pk=bystander.pk).name == "李雷雷"
    assert Signoff.objects.filter(signed_name="李雷雷").exists()
    # The figures stay (the completed callbacks in the report period, scores, complaints, amounts) …
    now = figures(start, end)
    assert now["satisfaction"] == before["satisfaction"] and now["nps"] == before["nps"]
    assert now["callbacks"] == before["callbacks"] and now["callbacks"]["done"] == 2
    assert now["complaints"] == before["complaints"]
    assert (
        now["contract_amounts"]
        == before["contract_amounts"]
        == {
            "amount__sum": Decimal("200000.00"),
            "original_amount__sum": Decimal("200000.00"),
        }
    )
    assert now["repairs"] == before["repairs"] == 2
    assert Complaint.objects.filter(customer=customer, verdict="satisfied").count() == 1
    # … and so do the audit events (more of them now: the erasure itself is recorded).
    assert AuditEvent.objects.count() > audit_events
    assert AuditEvent.objects.filter(table_name="leads_customer", row_id=str(customer.pk), action="insert").exists()

    request = DataRequest.objects.get(kind="erasure")
    assert request.subject_id == str(customer.pk) and request.requested_by == customer.staff


def test_a_second_erasure_changes_nothing(firm, django_capture_on_commit_callbacks):
    customer = build_homeowner(firm)
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=customer)
    snapshot = read_zip(customer_data_export(customer=customer)).read("customer.json")
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = customer_erase(customer=customer)
    assert again.name == f"Erased customer #{customer.pk}"
    assert AuditEvent.objects.count() == events + 1  # only the second data-request row
    assert (
        json.loads(read_zip(customer_data_export(customer=customer)).read("customer.json"))["sections"]
        == (json.loads(snapshot)["sections"])
    )


@pytest.mark.parametrize(
    ("make_blocker", "reason"),
    [
        (lambda c: Project.objects.filter(pk=c.project.pk).update(status="in_construction"), "not yet handed over"),
        (lambda c: Worksite.objects.filter(project=c.project).update(status="in_progress"), "under construction"),
        (lambda c: RepairRequestFactory(project=c.project), "repair request"),
        (lambda c: ComplaintFactory(project=c.project, customer=c), "complaint"),
    ],
    ids=["live-contract", "worksite", "open-repair", "open-complaint"],
)
def test_erasure_is_refused_while_a_stage_still_needs_the_customer(firm, make_blocker, reason):
    customer = build_homeowner(firm)
    make_blocker(customer)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        customer_erase(customer=customer)
    assert any(reason in message for message in refused.value.messages), refused.value.messages
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.name, fresh.mobile, fresh.anonymised_at) == (NAME, MOBILE, None)
    assert not DataRequest.objects.filter(kind="erasure").exists()


def test_a_customer_with_only_a_lead_is_erased(firm):
    customer = CustomerFactory(name="张三丰", mobile="13700000000")
    FollowUpFactory(lead=LeadFactory(customer=customer, core_needs="Kitchen"), outcome="Call back in May")
    erased = customer_erase(customer=customer)
    assert erased.mobile == f"0{customer.pk:010d}"
    assert Lead.objects.get(customer=customer).core_needs == ""
    assert audit_mentions("13700000000") == 0


def test_erasure_cuts_the_customer_out_of_staff_notices(firm):
    from renocrm.outbox.models import StaffNotice
    from tests.outbox.factories import StaffNoticeFactory

    customer = CustomerFactory(name="张三丰", mobile="13700000001")
    LeadFactory(customer=customer)
    notice = StaffNoticeFactory(subject="回访到期：张三丰", body="请致电张三丰 13700000001")
    customer_erase(customer=customer)
    notice = StaffNotice.objects.get(pk=notice.pk)
    assert "张三丰" not in notice.subject + notice.body and "13700000001" not in notice.body
