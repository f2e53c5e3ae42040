"""The contracts staff pages and the homeowner's acceptance link, through the Django test client."""

import base64
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import signing
from django.test import Client

from contracts import homeowner_links
from contracts.models import (
    ChangeOrder,
    Contract,
    DesignAgreement,
    Instalment,
    MeasurementAppointment,
    QuotationVersion,
)
from contracts.services import change_orders, design, quotations
from leads.models import Lead
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_services import PAINT, TILES, WIRING, sent_version, signed_contract
from tests.factories import MembershipFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.usefixtures("english")

# A 1×1 PNG: what the signature pad sends, as far as the server can tell.
PNG_HEADER = "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(PNG_HEADER + "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")
    ).decode()
)


@pytest.fixture
def designer(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="designer")
    client.force_login(membership.user)
    client.user = membership.user
    return client


def items_post(rows, prefix="items", extra=None, initial=0):
    """A formset's POST as the page sends it; ``initial`` rows are the ones the page showed filled in."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{key}": value for key, value in row.items()})
    return {**data, **(extra or {})}


@pytest.mark.parametrize(
    "url", ["/contracts/", "/contracts/quotations/", "/contracts/change-orders/"], ids=["contracts", "quotations", "co"]
)
def test_lists_open_for_designers_and_are_refused_to_customer_service(client, designer, firm_a, url):
    assert designer.get(url).status_code == 200
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    assert client.get(url).status_code == 403


def test_lead_page_shows_the_quotation_panel(designer, firm_a):
    with tenant_context(firm_a):
        version = sent_version()
        lead_id = version.quotation.lead_id
    page = designer.get(f"/leads/{lead_id}/").content.decode()
    assert "Whole flat" in page and f"/contracts/versions/{version.pk}/" in page


def test_design_agreement_and_measurement_forms(designer, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory(with_property=True)
    bad = designer.post(f"/contracts/leads/{lead.pk}/design-agreements/new/", {"fee": "-5", "signed_on": "2026-11-20"})
    assert bad.status_code == 200 and bad.context["form"].errors["fee"]
    designer.post(f"/contracts/leads/{lead.pk}/design-agreements/new/", {"fee": "3000", "signed_on": "2026-11-20"})
    with tenant_context(firm_a):
        agreement = DesignAgreement.objects.get()
    designer.post(f"/contracts/design-agreements/{agreement.pk}/paid/", {"paid_on": "2026-11-21"})
    response = designer.post(
        f"/contracts/leads/{lead.pk}/measurements/new/",
        {"scheduled_at": f"{date.today() + timedelta(days=7)}T10:00", "notes": "bring laser"},
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        agreement.refresh_from_db()
        assert (agreement.paid, agreement.paid_on) == (True, date(2026, 11, 21))
        assert MeasurementAppointment.objects.get().notes == "bring laser"


def test_quotation_editor_saves_items_refuses_bad_rows_and_freezes_when_sent(designer, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    response = designer.post(f"/contracts/leads/{lead.pk}/quotations/new/", {"title": "三居室翻新"})
    version_url = response.url
    bad = designer.post(version_url, items_post([{**TILES, "quantity": "-2"}], extra={"items": "1"}))
    assert bad.status_code == 200 and bad.context["items_formset"].forms[0].errors["quantity"]
    rows = [TILES, WIRING, {"category": "", "name": "", "unit": "", "quantity": "", "unit_price": ""}]
    assert designer.post(version_url, items_post(rows, extra={"items": "1"})).status_code == 302
    with tenant_context(firm_a):
        version = QuotationVersion.objects.get(quotation__lead=lead)
        assert version.total == Decimal("5616.63") and version.items.count() == 2

    designer.post(f"/contracts/versions/{version.pk}/send/")
    refused = designer.post(version_url, items_post([PAINT], extra={"items": "1"}), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert "no longer change" in " ".join(refused.context["items_formset"].non_form_errors())
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.status == "sent" and version.items.count() == 2


def test_new_version_copies_and_the_compare_page_shows_the_difference(designer, firm_a):
    with tenant_context(firm_a):
        version = sent_version()
    response = designer.post(f"/contracts/versions/{version.pk}/copy/")
    with tenant_context(firm_a):
        copy = QuotationVersion.objects.get(quotation=version.quotation, number=version.number + 1)
    assert response.url == f"/contracts/versions/{copy.pk}/"
    designer.post(response.url, items_post([TILES, PAINT], extra={"items": "1"}, initial=2))
    page = designer.get(f"/contracts/versions/{version.pk}/compare/{copy.pk}/")
    comparison = page.context["comparison"]
    assert [i["name"] for i in comparison["added"]] == ["Wall paint"]
    assert [i["name"] for i in comparison["removed"]] == ["Rewiring"]
    assert comparison["total_difference"] == "4583.37"  # 5000 added, 416.63 removed


def test_staff_records_acceptance_then_signs_the_contract_with_the_default_schedule(designer, firm_a):
    with tenant_context(firm_a):
        version = sent_version((TILES, WIRING, PAINT))
    designer.post(f"/contracts/versions/{version.pk}/", {"accept": "1", "accept-name": "王芳"})
    page = designer.get(f"/contracts/sign/{version.pk}/")
    schedule = page.context["instalments"]
    assert [f.initial["amount"] for f in schedule.forms[:3]] == [
        Decimal("3184.99"),
        Decimal("6369.98"),
        Decimal("1061.66"),
    ]
    post = {
        "number": "HT-100",
        "package_type": "full",
        "signed_on": "2026-11-24",
        "planned_start": "2026-12-01",
        "planned_end": "2027-03-01",
        **items_post([{"name": "Tiles", "unit": "m²", "quantity": "80", "unit_price": "120"}], prefix="materials"),
        **items_post(
            [
                {"kind": "deposit", "amount": "5000", "trigger": "on_signing", "due_on": "2026-11-24"},
                {"kind": "final", "amount": "5616.62", "trigger": "acceptance", "due_days_after_trigger": "3"},
            ],
            prefix="instalments",
        ),
    }
    short = designer.post(f"/contracts/sign/{version.pk}/", post, HTTP_ACCEPT_LANGUAGE="en")
    assert short.status_code == 200
    assert "add up to" in " ".join(short.context["form"].non_field_errors())
    with tenant_context(firm_a):
        assert not Contract.objects.exists()

    post["instalments-1-amount"] = "5616.63"
    response = designer.post(f"/contracts/sign/{version.pk}/", post)
    with tenant_context(firm_a):
        contract = Contract.objects.get()
        assert response.url == f"/contracts/{contract.pk}/"
        assert contract.amount == Decimal("10616.63") and contract.project.lead.status == Lead.Status.WON
        assert [i.amount for i in contract.instalments.all()] == [Decimal("5000.00"), Decimal("5616.63")]
        assert contract.main_materials.get().amount == Decimal("9600.00")
    detail = designer.get(response.url).content.decode()
    assert "HT-100" in detail and "Tiles" in detail


def test_sign_form_refuses_bad_dates_and_an_unaccepted_version(designer, firm_a):
    with tenant_context(firm_a):
        version = sent_version()
    post = {
        "number": "HT-1",
        "package_type": "half",
        "signed_on": "2026-11-24",
        "planned_start": "2026-12-01",
        "planned_end": "2026-11-01",
        **items_post([], prefix="materials"),
        **items_post([], prefix="instalments"),
    }
    response = designer.post(f"/contracts/sign/{version.pk}/", post)
    assert response.context["form"].errors["planned_end"]
    post["planned_end"] = "2027-01-01"
    response = designer.post(f"/contracts/sign/{version.pk}/", post, HTTP_ACCEPT_LANGUAGE="en")
    assert "not accepted" in " ".join(response.context["form"].non_field_errors())


def test_record_a_payment_on_the_contract_page(client, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()
        deposit = contract.instalments.get(kind="deposit")
    finance = MembershipFactory(tenant=firm_a, role="finance").user
    client.force_login(finance)
    client.post(f"/contracts/instalments/{deposit.pk}/pay/", {"paid_on": "2026-11-25"})
    again = client.post(
        f"/contracts/instalments/{deposit.pk}/pay/", {"paid_on": "2026-11-26"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "already recorded" in " ".join(str(m) for m in again.context["messages"])
    with tenant_context(firm_a):
        deposit.refresh_from_db()
        assert (deposit.paid_on, deposit.recorded_by) == (date(2026, 11, 25), finance)


def test_change_order_over_the_threshold_waits_for_a_new_version(designer, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()  # 10,616.63; 10 % is 1,061.66
    bad = designer.post(
        f"/contracts/{contract.pk}/change-orders/new/",
        {"reason": "more", **items_post([{**PAINT, "kind": "addition", "quantity": "0"}], prefix="lines")},
    )
    assert bad.context["lines"].forms[0].errors["quantity"]
    response = designer.post(
        f"/contracts/{contract.pk}/change-orders/new/",
        {"reason": "业主加做墙漆", **items_post([{**PAINT, "kind": "addition", "quantity": "60"}], prefix="lines")},
    )
    order_url = response.url
    page = designer.get(order_url)
    assert page.context["needs_requote"] is True
    listing = designer.get("/contracts/change-orders/")
    assert listing.context["orders"][0].needs_requote is True
    # A change this large is the general manager's to approve, and only once the customer accepted a re-quote.
    manager = Client()
    manager.force_login(MembershipFactory(tenant=firm_a, role="admin").user)
    refused = manager.post(order_url, {"approve": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    refusal = " ".join(str(m) for m in refused.context["messages"])
    assert "exceeds 10% of the contract amount" in refusal and "new quotation version" in refusal
    with tenant_context(firm_a):
        order = ChangeOrder.objects.get()
        assert order.status == "draft"
        # The customer accepts a re-quote; then the change order goes through and the amount follows.
        requote = quotations.quotation_version_copy(version=contract.quotation_version)
        quotations.quotation_version_send(version=requote)
        quotations.quotation_version_accept(version=requote, via="staff", name="王芳")
    manager.post(order_url, {"approve": "1"})
    with tenant_context(firm_a):
        order.refresh_from_db()
        contract.refresh_from_db()
        assert order.status == "approved" and contract.amount == Decimal("12116.63")
        assert sum(i.amount for i in Instalment.objects.filter(contract=contract)) == contract.amount


def test_lists_filter_and_keep_their_query_count(designer, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        signed_contract(number="HT-A")
    budgets = {}
    for url in ("/contracts/", "/contracts/quotations/", "/contracts/change-orders/"):
        with django_assert_max_num_queries(40) as counted:
            assert designer.get(url).status_code == 200
        budgets[url] = len(counted.captured_queries)
    with tenant_context(firm_a):
        for n in range(6):
            contract = signed_contract(number=f"HT-{n}")
            change_orders.change_order_create(
                contract=contract, reason="x", lines=[{**TILES, "kind": "addition", "quantity": "1"}]
            )
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            page = designer.get(url)
        assert page.status_code == 200
    assert [c.number for c in designer.get("/contracts/", {"q": "HT-A"}).context["contracts"]] == ["HT-A"]
    assert len(designer.get("/contracts/change-orders/", {"status": "draft"}).context["orders"]) == 6


def test_lead_panel_keeps_its_query_count_as_quotations_grow(designer, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        lead = LeadFactory()
        sent_version(lead=lead)
    url = f"/leads/{lead.pk}/"
    with django_assert_max_num_queries(30) as few:
        designer.get(url)
    with tenant_context(firm_a):
        for _ in range(3):
            version = sent_version(lead=lead)
            quotations.quotation_version_copy(version=version)
            design.design_agreement_create(lead=lead, fee=Decimal("3000"), signed_on=date(2026, 11, 20))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = designer.get(url)
    assert page.content.decode().count("/contracts/versions/") == 7


def test_contract_page_keeps_its_query_count_as_change_orders_grow(designer, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        contract = signed_contract()
    url = f"/contracts/{contract.pk}/"
    with django_assert_max_num_queries(30) as few:
        designer.get(url)
    with tenant_context(firm_a):
        for _ in range(4):
            change_orders.change_order_create(
                contract=contract, reason="x", lines=[{**TILES, "kind": "addition", "quantity": "1"}]
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = designer.get(url)
    with tenant_context(firm_a):
        orders = list(ChangeOrder.objects.filter(contract=contract))
    html = page.content.decode()
    assert len(orders) == 4 and all(f'href="/contracts/change-orders/{order.pk}/"' in html for order in orders)


def test_another_firms_records_are_404(designer, firm_a, firm_b):
    with tenant_context(firm_b):
        contract = signed_contract()
        version = contract.quotation_version
        order = change_orders.change_order_create(
            contract=contract, reason="x", lines=[{**TILES, "kind": "addition", "quantity": "1"}]
        )
        instalment = contract.instalments.first()
        lead = LeadFactory()
    for url in (
        f"/contracts/{contract.pk}/",
        f"/contracts/versions/{version.pk}/",
        f"/contracts/sign/{version.pk}/",
        f"/contracts/change-orders/{order.pk}/",
        f"/contracts/{contract.pk}/change-orders/new/",
        f"/contracts/leads/{lead.pk}/quotations/new/",
        f"/contracts/leads/{lead.pk}/design-agreements/new/",
    ):
        response = designer.get(url)
        assert response.status_code == 404, url
        assert contract.number not in response.content.decode()
    finance = Client(HTTP_ACCEPT_LANGUAGE="en")  # of firm A, who may record payments: another firm's is not there
    finance.force_login(MembershipFactory(tenant=firm_a, role="finance").user)
    assert finance.post(f"/contracts/instalments/{instalment.pk}/pay/", {"paid_on": "2026-11-25"}).status_code == 404
    with tenant_context(firm_b):
        instalment.refresh_from_db()
        assert instalment.paid_on is None


def test_homeowner_accepts_through_the_signed_link_with_a_signature(client, firm_a):
    with tenant_context(firm_a):
        version = sent_version()
        url = homeowner_links.url_for(version)
    page = client.get(url)
    assert page.status_code == 200 and "Floor tiles laying" in page.content.decode()
    unsigned = client.post(url, {"name": "王芳", "signature": "", "agree": "on"})
    assert unsigned.context["form"].errors["signature"]
    forged = client.post(url, {"name": "王芳", "signature": "data:image/png;base64,aGVsbG8=", "agree": "on"})
    assert forged.context["form"].errors["signature"]
    # A PNG whose image data is cut short would stop the signed copy's PDF: refused at the edge.
    short = "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"  # too little image data
    broken = "data:image/png;base64," + base64.b64encode(bytes.fromhex(PNG_HEADER + short)).decode()
    cut = client.post(url, {"name": "王芳", "signature": broken, "agree": "on"})
    assert cut.status_code == 200 and cut.context["form"].errors["signature"]
    done = client.post(url, {"name": "王芳", "signature": PNG, "agree": "on"}, REMOTE_ADDR="203.0.113.7")
    assert done.status_code == 200 and "accepted" in done.templates[0].name
    with tenant_context(firm_a):
        version.refresh_from_db()
    assert (version.status, version.accepted_via, version.accepted_name) == ("accepted", "homeowner_link", "王芳")
    assert version.accepted_ip == "203.0.113.7" and version.signature == PNG and version.accepted_at
    # Opening the link again shows the acceptance, not the form.
    again = client.get(url)
    assert again.templates[0].name == "contracts/homeowner_accepted.html" and "form" not in again.context


def test_tampered_expired_and_withdrawn_links_show_no_data(client, firm_a):
    with tenant_context(firm_a):
        version = sent_version()
        token = homeowner_links.token_for(version)
    tampered = client.get(f"/contracts/accept/{token[:-2]}xy/")
    assert tampered.status_code == 404 and "Floor tiles" not in tampered.content.decode()
    forged = signing.dumps([firm_a.pk, version.pk], salt="another-purpose", compress=True)
    assert client.get(f"/contracts/accept/{forged}/").status_code == 404
    with time_machine.travel(date.today() + timedelta(days=15)):
        expired = client.get(f"/contracts/accept/{token}/")
    assert expired.status_code == 404 and expired.context["problem"] == homeowner_links.EXPIRED
    with tenant_context(firm_a):
        quotations.quotation_version_copy(version=version)
        version.refresh_from_db()
        QuotationVersion.objects.filter(pk=version.pk).update(status="superseded")
    withdrawn = client.get(f"/contracts/accept/{token}/")
    assert withdrawn.status_code == 404 and withdrawn.context["problem"] == homeowner_links.CLOSED
