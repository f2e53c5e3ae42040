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
from django.utils import timezone, translation
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
    # The signed copy holds the homeowner's address, signature and IP: a key reads it with contacts:read.
    reader = ApiKeyFactory(scopes=["contracts:read", "contacts:read"])
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


# Contact details: whom may not see them never gets the signed copy -------------------------------------------

HOME = {
    "city": "杭州市",
    "district": "西湖区",
    "street": "学院路77号",
    "compound": "翠湖花园",
    "building_unit_room": "3-1-602",
}
# What finds the door, the homeowner's number and the signer's address on the network.
SECRETS = ("学院路", "77号", "翠湖花园", "3-1-602", "13912345678", "203.0.113.7")


def signed_at_home(firm, client, capture):
    """A version accepted on the link (signature, IP) and its contract, for a home in its address parts, with
    the address and the homeowner's number inside the quotation's title and the contract's terms."""
    from contracts.models import Quotation
    from tests.leads.factories import PropertyFactory

    home = PropertyFactory(**HOME, customer__name="王芳", customer__mobile="13912345678")
    version = priced_version(lead=LeadFactory(customer=home.customer, property=home))
    Quotation.objects.filter(pk=version.quotation_id).update(title="翠湖花园 3-1-602 全屋装修 13912345678")
    with capture(execute=True):
        accepted = client.post(
            homeowner_links.url_for(version),
            {"name": "王芳", "signature": PNG, "agree": "on"},
            REMOTE_ADDR="203.0.113.7",
        )
        assert accepted.status_code == 200
        version.refresh_from_db()
        contract = sign(version, ip="198.51.100.20", terms="钥匙在学院路77号物业，联系 13912345678。")
    return version, contract


def assert_masked(data: bytes):
    text, _pages = pdf_text(data)
    assert "墙面乳胶漆" in text and "杭州市西湖区" in text and zh("Copy — not the signed original") in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert "139****5678" in text


def test_staff_without_contact_details_get_the_pdfs_masked_never_the_signed_copy(
    firm, client, django_capture_on_commit_callbacks
):
    version, contract = signed_at_home(firm, client, django_capture_on_commit_callbacks)
    urls = (f"/contracts/versions/{version.pk}/pdf/", f"/contracts/{contract.pk}/pdf/")
    admin, finance = Client(), Client()
    admin.force_login(MembershipFactory(tenant=firm).user)
    finance.force_login(MembershipFactory(tenant=firm, role="finance").user)
    for url in urls:
        # Whom may see contact details gets the signed copy, address, signature's IP and all.
        full = admin.get(url)
        assert full.status_code == 200 and "-signed.pdf" in full["Content-Disposition"], url
        text, _pages = pdf_text(full.content)
        assert "学院路77号" in text and "翠湖花园" in text and "203.0.113.7" in text, url
        masked = finance.get(url)
        assert masked.status_code == 200 and masked["Content-Type"] == "application/pdf", url
        assert "-signed" not in masked["Content-Disposition"], url
        assert hashlib.sha256(masked.content).hexdigest() not in {c.sha256 for c in SignedDocument.objects.all()}
        assert_masked(masked.content)
    # The page says which download each gets.
    for page in (f"/contracts/versions/{version.pk}/", f"/contracts/{contract.pk}/"):
        html = finance.get(page).content.decode()
        assert zh("Download the signed PDF") not in html and 'data-testid="signed-copy-masked"' in html, page
        assert zh("Download the signed PDF") in admin.get(page).content.decode(), page


def test_a_key_without_contacts_read_gets_the_pdfs_masked(firm, client, django_capture_on_commit_callbacks):
    version, contract = signed_at_home(firm, client, django_capture_on_commit_callbacks)
    key = ApiKeyFactory(scopes=["contracts:read"])
    for url in (f"/api/v1/quotation-versions/{version.pk}/pdf/", f"/api/v1/contracts/{contract.pk}/pdf/"):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}", HTTP_ACCEPT="application/pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        assert "X-Signed-Copy-SHA256" not in response and "-signed" not in response["Content-Disposition"], url
        assert_masked(response.content)


def test_the_send_form_offers_the_full_mobile_only_to_whom_may_see_it(firm, django_capture_on_commit_callbacks):
    version = priced_version(lead=LeadFactory(customer__mobile="13912345678"))
    finance, designer = Client(), Client()
    finance.force_login(MembershipFactory(tenant=firm, role="finance").user)
    designer.force_login(MembershipFactory(tenant=firm, role="designer").user)
    page = finance.get(f"/contracts/versions/{version.pk}/").content.decode()
    assert 'data-testid="send-to-customer"' in page and "13912345678" not in page
    assert 'value="13912345678"' in designer.get(f"/contracts/versions/{version.pk}/").content.decode()
    # Left empty, the link goes to the customer's own mobile.
    response = finance.post(
        f"/contracts/versions/{version.pk}/send-to-customer/", {"channels": ["sms"], "mobile": "", "_firm": firm.pk}
    )
    assert response.status_code == 302
    assert Notification.objects.get().recipient == "13912345678"


def test_an_erased_copy_is_offered_as_the_pdf_now_not_as_the_signed_one(firm, django_capture_on_commit_callbacks):
    from leads.services.privacy import customer_erase

    version = priced_version()
    with django_capture_on_commit_callbacks(execute=True):
        quotations.quotation_version_accept(version=version, via="homeowner_link", name="王芳", signature=PNG)
    staff = Client()
    staff.force_login(MembershipFactory(tenant=firm).user)
    assert zh("Download the signed PDF") in staff.get(f"/contracts/versions/{version.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=version.quotation.lead.customer)
    page = staff.get(f"/contracts/versions/{version.pk}/").content.decode()
    assert zh("Download the signed PDF") not in page and zh("Download the PDF") in page
    download = staff.get(f"/contracts/versions/{version.pk}/pdf/")
    assert download.status_code == 200 and "-signed" not in download["Content-Disposition"]
    assert zh("Copy — not the signed original") in pdf_text(download.content)[0]


def test_the_homeowners_page_does_not_make_the_copy_its_download_does(firm, client):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    copy = SignedDocument.objects.get()
    page = client.get(homeowner_links.url_for(version))
    copy.refresh_from_db()
    assert page.status_code == 200 and not copy.is_rendered
    html = page.content.decode()
    assert 'data-testid="signed-copy-pending"' in html and zh("Download the signed PDF") in html
    download = client.get(homeowner_links.url_for(version) + "pdf/")
    copy.refresh_from_db()
    assert copy.is_rendered and hashlib.sha256(download.content).hexdigest() == copy.sha256
    assert download["Content-Disposition"].endswith('-signed.pdf"')


def test_an_email_of_an_accepted_version_carries_the_signed_copy_named_as_its_download(
    firm, django_capture_on_commit_callbacks
):
    from contracts.services import delivery

    version = priced_version()
    with django_capture_on_commit_callbacks(execute=True):
        quotations.quotation_version_accept(version=version, via="homeowner_link", name="王芳", signature=PNG)
    copy = SignedDocument.objects.get()
    delivery.quotation_send_to_customer(
        version=version, channels=["email"], email="wang.fang@example.com", base_url="http://testserver/"
    )
    mail = Notification.objects.get()
    with copy.file.open("rb") as stored:
        assert bytes(mail.attachment) == stored.read()
    assert mail.attachment_name == documents.download_name(version=version, signed=True)


def test_an_emailed_draft_is_sent_first_and_its_pdf_shows_it_sent(firm):
    from contracts.services import delivery

    version = priced_version(send=False)
    delivery.quotation_send_to_customer(
        version=version, channels=["email", "sms"], email="wang.fang@example.com", base_url="http://testserver/"
    )
    version.refresh_from_db()
    assert version.status == "sent" and DocumentDelivery.objects.count() == 2
    mail = Notification.objects.get(channel="email")
    text, _pages = pdf_text(bytes(mail.attachment))
    assert zh("Not signed") in text and zh("Draft — not sent") not in text
    # The day it was sent as the firm's clock shows it (late in the UTC day it is already tomorrow in Beijing).
    assert timezone.localtime(version.sent_at, version.tenant.zone).date().isoformat() in text
    assert mail.attachment_name == documents.download_name(version=version, signed=False)


def test_a_contract_signed_through_the_api_records_the_ip(firm):
    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    key = ApiKeyFactory()
    response = Client().post(
        "/api/v1/contracts/",
        {
            "quotation_version": version.pk,
            "number": "HT-2026-031",
            "package_type": "full",
            "planned_start": "2026-12-01",
            "planned_end": "2027-03-01",
            "signed_on": "2026-11-24",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}",
        REMOTE_ADDR="198.51.100.31",
    )
    assert response.status_code == 201, response.content
    copy = SignedDocument.objects.get(contract_id=response.json()["id"])
    assert copy.content["firm_signature"]["ip"] == "198.51.100.31"


def test_the_sweeper_makes_the_copies_whose_task_never_ran(firm, monkeypatch):
    from datetime import timedelta

    from django.conf import settings as django_settings
    from django.utils import timezone

    from contracts import tasks
    from renocrm.sweeps.models import SweepFailure

    version = priced_version()
    quotations.quotation_version_accept(version=version, via="staff", name="王芳")  # its task never runs here
    copy = SignedDocument.objects.get()
    # Just signed: its task has time yet.
    assert tasks.render_waiting_signed_copies.delay(tenant_id=firm.pk).get() == 0
    copy.refresh_from_db()
    assert not copy.is_rendered
    SignedDocument.objects.filter(pk=copy.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    # A worker that cannot make PDFs leaves it waiting out a backoff.
    with monkeypatch.context() as patched:
        patched.setattr(pdf, "cjk_font_family", lambda: None)
        assert tasks.render_waiting_signed_copies.delay(tenant_id=firm.pk).get() == 0
    assert SweepFailure.objects.get(sweeper=documents.SIGNED_COPY_SWEEP).row_key == str(copy.pk)
    SweepFailure.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.render_waiting_signed_copies.delay(tenant_id=firm.pk).get() == 1
    copy.refresh_from_db()
    with copy.file.open("rb") as stored:
        assert copy.is_rendered and copy.sha256 == hashlib.sha256(stored.read()).hexdigest()
    assert not SweepFailure.objects.exists()
    assert tasks.render_waiting_signed_copies.delay(tenant_id=firm.pk).get() == 0, "once"
    schedule = [entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert "contracts.tasks.sweep_signed_copies" in schedule
