"""Quotation and contract PDFs on the firm's letterhead (their text read back with pypdf), the frozen signed copy
made once when a version is accepted on the homeowner's link or a contract is signed, the downloads for staff,
the homeowner and partners, and sending a version to the customer."""

import hashlib
import re
from datetime import date
from io import BytesIO

import pytest
from django.core import checks
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from contracts import documents, homeowner_links
from contracts.models import DocumentDelivery, QuotationVersion, SignedDocument
from contracts.services import quotations, signing
from renocrm import pdf
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_pages import PNG
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory
from tests.leads.factories import LeadFactory

FIRM = "杭州美家装饰工程有限公司"
LICENCE = "91330106MA2H8XQ43K"
# A cost price that appears nowhere else: the PDF must never show what a line costs the firm.
COST = "17.39"
LINES = [
    {"room": "客厅", "category": "painting", "name": "墙面乳胶漆", "unit": "m²", "quantity": "60", "unit_price": "38"},
    {"room": "客厅", "category": "masonry", "name": "地砖铺贴", "unit": "m²", "quantity": "30", "unit_price": "65"},
    {"room": "主卧", "category": "carpentry", "name": "衣柜柜体", "unit": "m²", "quantity": "6.5", "unit_price": "420"},
    {
        "room": "卫生间",
        "category": "waterproofing",
        "name": "防水涂料两遍",
        "unit": "m²",
        "quantity": "18",
        "unit_price": "85",
    },
]
# Enough lines in one room for a second page.
FILLER = [
    {
        "room": "厨房",
        "category": "installation",
        "name": f"橱柜五金 {n}",
        "unit": "套",
        "quantity": "1",
        "unit_price": "50",
    }
    for n in range(45)
]


@pytest.fixture
def firm(db):
    firm = TenantFactory(
        name=FIRM,
        slug="meijia",
        business_licence_number=LICENCE,
        address="杭州市西湖区文三路 100 号",
        language="zh-hans",
    )
    with tenant_context(firm):
        yield firm


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def priced_version(*, lines=LINES, lead=None, send=True) -> QuotationVersion:
    quotation = quotations.quotation_create(lead=lead or LeadFactory(), title="全屋装修报价")
    version = quotation.versions.get()
    items = [{**line, "cost_price": COST} for line in lines]
    quotations.quotation_version_update(
        version=version, items=items, fees={"management_fee_percent": "8", "tax_percent": "3"}
    )
    if send:
        version = quotations.quotation_version_send(version=version)
    version.refresh_from_db()
    return version


def test_the_quotation_pdf_has_the_letterhead_chinese_lines_subtotals_and_page_numbers(firm):
    version = priced_version(lines=LINES + FILLER)
    text, pages = pdf_text(documents.quotation_pdf(version, for_homeowner=True))
    assert FIRM in text and LICENCE in text and "文三路" in text
    assert all(name in text for name in ("墙面乳胶漆", "地砖铺贴", "衣柜柜体", "防水涂料两遍"))
    # 客厅: 60 × 38 + 30 × 65; the trade subtotals; the fees, tax and total.
    assert "客厅" in text and "¥4,230.00" in text and "¥2,730.00" in text
    assert f"¥{version.management_fee:,.2f}" in text and f"¥{version.tax:,.2f}" in text
    assert f"¥{version.total:,.2f}" in text
    assert pages >= 2 and f"1/{pages}" in text and f"{pages}/{pages}" in text
    assert COST not in text and "成本" not in text and "毛利" not in text
    assert zh("Not signed") in text  # not the signed copy


def test_a_draft_prints_marked_as_a_draft_for_staff(firm):
    version = priced_version(send=False)
    text, _pages = pdf_text(documents.quotation_pdf(version, for_homeowner=False))
    assert zh("Draft — not sent") in text and "墙面乳胶漆" in text


def test_accepting_on_the_link_freezes_the_signed_copy_once(firm, client, django_capture_on_commit_callbacks):
    version = priced_version()
    url = homeowner_links.url_for(version)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"name": "王芳", "signature": PNG, "agree": "on"}, REMOTE_ADDR="203.0.113.7")
    assert done.status_code == 200
    copy = SignedDocument.objects.get()
    assert (copy.kind, copy.quotation_version_id) == ("quotation", version.pk) and copy.is_rendered
    with copy.file.open("rb") as stored:
        data = stored.read()
    assert copy.sha256 == hashlib.sha256(data).hexdigest()
    # The homeowner sees the hash at once, and on the link again; the download is the stored copy.
    assert copy.sha256 in done.content.decode()
    again = client.get(url)
    assert copy.sha256 in again.content.decode()
    download = client.get(homeowner_links.url_for(version).rstrip("/") + "/pdf/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content == data
    text, _pages = pdf_text(data)
    assert "王芳" in text and "203.0.113.7" in text and FIRM in text and zh("Not signed") not in text
    # Frozen: asking again makes nothing new, and the version page shows the same hash.
    version.refresh_from_db()
    assert documents.signed_copy_freeze(version=version) == copy and SignedDocument.objects.count() == 1
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    assert copy.sha256 in staff.get(f"/contracts/versions/{version.pk}/").content.decode()
    assert staff.get(f"/contracts/versions/{version.pk}/pdf/").content == data


def sign(version, **kwargs):
    return signing.contract_sign(
        version=version,
        number="HT-2026-007",
        package_type="full",
        planned_start=date(2026, 12, 1),
        planned_end=date(2027, 3, 1),
        signed_on=date(2026, 11, 24),
        main_materials=[
            {"name": "岩板台面", "brand_model": "德利丰 DL-01", "unit": "m", "quantity": "3.2", "unit_price": "1200"}
        ],
        **kwargs,
    )


def test_signing_a_contract_freezes_its_copy_with_schedule_and_materials(firm, django_capture_on_commit_callbacks):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="homeowner_link", name="王芳", signature=PNG)
    with django_capture_on_commit_callbacks(execute=True):
        contract = sign(version, ip="198.51.100.20")
    copy = SignedDocument.objects.get(contract=contract)
    with copy.file.open("rb") as stored:
        data = stored.read()
    assert copy.sha256 == hashlib.sha256(data).hexdigest()
    text, pages = pdf_text(data)
    assert "HT-2026-007" in text and FIRM in text and LICENCE in text
    assert all(f"¥{instalment.amount:,.2f}" in text for instalment in contract.instalments.all())
    assert f"¥{contract.amount:,.2f}" in text
    assert "岩板台面" in text and "¥3,840.00" in text
    assert "198.51.100.20" in text and "王芳" in text and "墙面乳胶漆" in text
    assert f"1/{pages}" in text and COST not in text
    # The version accepted for it has its own frozen copy too.
    assert SignedDocument.objects.filter(quotation_version=version).exists()
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    assert copy.sha256 in staff.get(f"/contracts/{contract.pk}/").content.decode()


def test_a_copy_not_yet_rendered_is_made_by_its_first_download(firm):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    copy = SignedDocument.objects.get()
    assert not copy.is_rendered  # its task runs after commit
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    response = staff.get(f"/contracts/versions/{version.pk}/pdf/")
    copy.refresh_from_db()
    assert response.status_code == 200 and copy.is_rendered
    assert hashlib.sha256(response.content).hexdigest() == copy.sha256
    assert "signed" in response["Content-Disposition"]


def test_staff_downloads_and_another_firms_are_404(firm, firm_b):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    contract = sign(version)
    own, other = Client(), Client()
    own.force_login(MembershipFactory(tenant=firm).user)
    other.force_login(MembershipFactory(tenant=firm_b).user)
    for url in (f"/contracts/versions/{version.pk}/pdf/", f"/contracts/{contract.pk}/pdf/"):
        response = own.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        assert response.content.startswith(b"%PDF-")
        assert other.get(url).status_code == 404, url


def test_the_homeowner_downloads_before_signing_and_a_bad_token_is_404(firm, client):
    version = priced_version()
    url = homeowner_links.url_for(version) + "pdf/"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text, _pages = pdf_text(response.content)
    assert "墙面乳胶漆" in text and COST not in text
    token = homeowner_links.token_for(version)
    assert client.get(f"/contracts/accept/{token[:-2]}xy/pdf/").status_code == 404
    assert client.post(url).status_code == 405


def test_api_pdf_needs_the_read_scope_and_stays_in_the_firm(firm, firm_b):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    contract = sign(version)
    reader = ApiKeyFactory(scopes=["contracts:read"])
    blind = ApiKeyFactory(scopes=["leads:read"])
    with tenant_context(firm_b):
        stranger = ApiKeyFactory()
    for url in (f"/api/v1/quotation-versions/{version.pk}/pdf/", f"/api/v1/contracts/{contract.pk}/pdf/"):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {reader.raw_key}", HTTP_ACCEPT="application/pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        copy = (
            SignedDocument.objects.get(contract=contract)
            if "contracts/" in url
            else SignedDocument.objects.get(quotation_version=version)
        )
        assert response["X-Signed-Copy-SHA256"] == copy.sha256 == hashlib.sha256(response.content).hexdigest()
        assert Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {blind.raw_key}").status_code == 403
        assert Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {stranger.raw_key}").status_code == 404


def test_send_to_customer_queues_one_sms_records_it_and_sends_the_draft(firm, django_capture_on_commit_callbacks):
    lead = LeadFactory(customer__mobile="13912345678")
    version = priced_version(lead=lead, send=False)
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm, role="designer").user)
    url = f"/contracts/versions/{version.pk}/send-to-customer/"
    for _press in range(2):
        response = staff.post(url, {"channels": ["sms"], "_firm": firm.pk})
        assert response.status_code == 302
    sms = Notification.objects.get()
    assert (sms.channel, sms.recipient, sms.sms_template) == ("sms", "13912345678", "contracts.quotation_link")
    link = sms.sms_params["url"]
    assert link.startswith("http://testserver/contracts/accept/") and link in sms.body
    with homeowner_links.open_version(link.split("/")[-2]) as (opened, _problem):
        assert opened.pk == version.pk
    delivery = DocumentDelivery.objects.get()
    assert (delivery.quotation_version_id, delivery.channel, delivery.recipient) == (version.pk, "sms", "139****5678")
    version.refresh_from_db()
    assert version.status == "sent"
    page = staff.get(f"/contracts/versions/{version.pk}/").content.decode()
    assert "139****5678" in page


def test_an_email_carries_the_pdf_and_a_bad_address_is_refused(firm):
    version = priced_version()
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    url = f"/contracts/versions/{version.pk}/send-to-customer/"
    staff.post(url, {"channels": ["email"], "email": "not-an-address", "_firm": firm.pk})
    assert not Notification.objects.exists() and not DocumentDelivery.objects.exists()
    staff.post(url, {"channels": ["email"], "email": "wang.fang@example.com", "_firm": firm.pk})
    mail = Notification.objects.get()
    assert mail.channel == "email" and mail.attachment_type == "application/pdf"
    assert bytes(mail.attachment).startswith(b"%PDF-") and "墙面乳胶漆" in pdf_text(bytes(mail.attachment))[0]
    assert DocumentDelivery.objects.get().recipient == "w***@example.com"


def test_api_sends_to_the_customer(firm):
    version = priced_version(lead=LeadFactory(customer__mobile="13912345678"))
    key = ApiKeyFactory()
    response = Client().post(
        f"/api/v1/quotation-versions/{version.pk}/send-to-customer/",
        {"channels": ["sms"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}",
    )
    assert response.status_code == 200, response.content
    assert response.json()[0]["recipient"] == "139****5678" and Notification.objects.count() == 1


def test_without_a_cjk_font_the_download_says_so_and_the_check_warns(firm, monkeypatch):
    monkeypatch.setattr(pdf, "cjk_font_family", lambda: None)
    version = priced_version()
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    assert staff.get(f"/contracts/versions/{version.pk}/pdf/").status_code == 503
    assert [problem.id for problem in pdf.check_pdf_fonts()] == ["renocrm.W101"]
    assert all(problem.level == checks.WARNING for problem in pdf.check_pdf_fonts())


def test_the_font_check_finds_the_installed_font():
    assert pdf.cjk_font_family() in pdf.CJK_FAMILIES
    assert pdf.check_pdf_fonts() == []


def test_erasing_the_homeowner_empties_the_signed_copy_and_keeps_its_hash(firm, django_capture_on_commit_callbacks):
    from contracts import personal_data

    version = priced_version()
    with django_capture_on_commit_callbacks(execute=True):
        quotations.quotation_version_accept(version=version, via="homeowner_link", name="王芳", signature=PNG)
    copy = SignedDocument.objects.get()
    sha256, name = copy.sha256, copy.file.name
    assert any(path.endswith(".pdf") for path, _content in personal_data.files(version.quotation.lead.customer))
    with django_capture_on_commit_callbacks(execute=True):
        personal_data.erase(version.quotation.lead.customer)
    copy.refresh_from_db()
    assert (copy.file.name, copy.content, copy.sha256) == ("", {}, sha256) and copy.is_rendered
    assert not copy.file.storage.exists(name)
    assert re.fullmatch(r"[0-9a-f]{64}", sha256)


def test_the_portal_lists_the_signed_copies_with_their_hash(firm, client, django_capture_on_commit_callbacks):
    from worksites.models import Worksite
    from worksites.services import portal

    version = priced_version()
    with django_capture_on_commit_callbacks(execute=True):
        quotations.quotation_version_accept(version=version, via="homeowner_link", name="王芳", signature=PNG)
        contract = sign(version)
    # Signing opened the worksite.
    link = portal.portal_link_create(worksite=Worksite.objects.get(project=contract.project), days=30)
    page = client.get(f"/portal/{portal.portal_link_token(link)}/documents/")
    html = page.content.decode()
    assert page.status_code == 200
    for copy in SignedDocument.objects.all():
        assert copy.sha256 and copy.sha256 in html
