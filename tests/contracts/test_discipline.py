"""Separation of duties on contracts: payments are recorded by finance (or a firm admin), a large change order
is approved by a firm admin who did not write it, and an instalment tied to a phase names a phase construction
knows. Each rule through the service, the staff pages and the API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.translation import override

from contracts import phases
from contracts.models import ChangeOrder, Contract, ContractSettings, Instalment
from contracts.services import change_orders, payments, quotations
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_pages import items_post
from tests.contracts.test_services import PAINT, TILES, WIRING, change, sent_version, signed_contract
from tests.factories import ApiKeyFactory, MembershipFactory, StaffFactory
from worksites.models import PhaseKind

pytestmark = pytest.mark.usefixtures("english")

ONLY_FINANCE = "Only finance, a firm admin or a role the firm gave that duty may record a payment as received."
OWN_ORDER = "You wrote this change order; it needs the approval of a manager other than its author."
NEEDS_MANAGER = (
    "This change order moves the price by more than 10% of the signed amount: a firm admin (or a role the firm "
    "gave that duty) must approve it."
)


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def staff(role, **membership):
    return StaffFactory(**{"membership__role": role, **{f"membership__{k}": v for k, v in membership.items()}})


def received():
    return list(OutboxEvent.objects.filter(event_type="payment.received"))


def no_requote():
    """The re-quote rule out of the way, so a test sees the approval rule alone."""
    ContractSettings.objects.update_or_create(defaults={"change_order_threshold_percent": Decimal("100")})


def login(client, firm, role, **user):
    membership = MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()})
    client.force_login(membership.user)
    return membership.user


def post_json(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **headers)


def key_headers(firm, scopes):
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# Payments: the service --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_firm_admins_record_a_payment_and_are_named_on_it(firm, role):
    deposit = signed_contract().instalments.get(kind="deposit")
    recorder = staff(role)
    payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=recorder)
    deposit.refresh_from_db()
    assert (deposit.paid_on, deposit.paid_amount, deposit.recorded_by) == (date(2026, 11, 25), deposit.amount, recorder)
    assert [e.payload["instalment_id"] for e in received()] == [deposit.pk]


@pytest.mark.parametrize("role", ["sales", "designer", "project_manager", "qc", "customer_service"])
def test_nobody_else_records_a_payment(firm, role):
    deposit = signed_contract().instalments.get(kind="deposit")
    with override("en"), pytest.raises(ValidationError) as refused:
        payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=staff(role))
    assert refused.value.message_dict == {"recorded_by": [ONLY_FINANCE]}
    deposit.refresh_from_db()
    assert deposit.paid_on is None and deposit.recorded_by is None and not received()


def test_finance_who_left_another_firms_finance_and_nobody_are_refused(firm, firm_b):
    deposit = signed_contract().instalments.get(kind="deposit")
    left = staff("finance", is_active=False)
    foreign = MembershipFactory(tenant=firm_b, role="finance").user
    for by in (left, foreign, None):
        with override("en"), pytest.raises(ValidationError) as refused:
            payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=by)
        assert refused.value.message_dict == {"recorded_by": [ONLY_FINANCE]}
    assert not received()


def test_a_partner_key_records_a_payment_only_with_the_payments_scope(firm):
    deposit = signed_contract().instalments.get(kind="deposit")
    contracts_key = ApiKeyFactory(scopes=["contracts:read", "contracts:write"])
    with override("en"), pytest.raises(ValidationError) as refused:
        payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), api_key=contracts_key)
    assert refused.value.message_dict == {"recorded_by": ["Recording a payment needs the payments:write scope."]}
    payments_key = ApiKeyFactory(scopes=["payments:write"])
    payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), api_key=payments_key)
    deposit.refresh_from_db()
    assert deposit.paid_on == date(2026, 11, 25) and deposit.recorded_by is None


# Payments: the pages ----------------------------------------------------------------------------------------


def test_only_finance_and_firm_admins_are_offered_the_payment_form(client, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()
        deposit = contract.instalments.get(kind="deposit")
    pay_url = f"/contracts/instalments/{deposit.pk}/pay/"
    for role, offered in [("sales", False), ("designer", False), ("project_manager", False), ("finance", True)]:
        login(client, firm_a, role)
        page = client.get(f"/contracts/{contract.pk}/")
        assert page.status_code == 200
        assert (pay_url in page.content.decode()) is offered, role


def test_a_payment_posted_by_sales_is_refused_and_finance_records_it(client, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()
        deposit = contract.instalments.get(kind="deposit")
    pay_url = f"/contracts/instalments/{deposit.pk}/pay/"
    for role in ("sales", "designer", "project_manager"):  # sales and designers manage contracts, not money
        login(client, firm_a, role)
        assert client.post(pay_url, {"paid_on": "2026-11-25"}).status_code == 403, role
    with tenant_context(firm_a):
        deposit.refresh_from_db()
        assert deposit.paid_on is None

    finance = login(client, firm_a, "finance", name="Li Cai")
    done = client.post(pay_url, {"paid_on": "2026-11-25"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Payment recorded." in messages_of(done) and "recorded by Li Cai" in done.content.decode()
    with tenant_context(firm_a):
        deposit.refresh_from_db()
        assert (deposit.paid_on, deposit.recorded_by) == (date(2026, 11, 25), finance)


# Payments: the API ------------------------------------------------------------------------------------------


def test_recording_a_payment_through_the_api_is_finance_s(client, firm_a, firm_b):
    with tenant_context(firm_a):
        contract = signed_contract()
        deposit, midterm = contract.instalments.order_by("sequence")[:2]
    url = f"/api/v1/instalments/{deposit.pk}/record-payment/"
    body = {"paid_on": "2026-11-25"}
    login(client, firm_a, "designer")
    refused = post_json(client, url, body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert client.get(f"/api/v1/instalments/{deposit.pk}/").status_code == 200  # seeing is not recording
    contracts_key = key_headers(firm_a, ["contracts:read", "contracts:write"])
    assert post_json(Client(), url, body, **contracts_key).status_code == 403
    with tenant_context(firm_a):
        deposit.refresh_from_db()
        assert deposit.paid_on is None

    payments_key = key_headers(firm_a, ["payments:write"])
    paid = post_json(Client(), url, body, **payments_key)
    assert paid.status_code == 200, paid.content
    assert (paid.json()["paid_on"], paid.json()["recorded_by"]) == ("2026-11-25", None)

    finance = login(client, firm_a, "finance")
    paid = post_json(client, f"/api/v1/instalments/{midterm.pk}/record-payment/", body)
    assert paid.status_code == 200 and paid.json()["recorded_by"] == finance.pk
    listed = {row["id"]: row["recorded_by"] for row in client.get("/api/v1/instalments/").json()["results"]}
    assert listed[deposit.pk] is None and listed[midterm.pk] == finance.pk

    foreign_key = key_headers(firm_b, ["payments:write"])
    with tenant_context(firm_a):
        final = contract.instalments.get(kind="final")
    assert (
        post_json(Client(), f"/api/v1/instalments/{final.pk}/record-payment/", body, **foreign_key).status_code == 404
    )


# Change orders: the service -------------------------------------------------------------------------------


def test_a_small_change_order_is_approved_as_before_even_by_its_author(firm):
    contract = signed_contract()  # 10,616.63: 10 % is 1,061.66
    author = staff("designer")
    order = change_orders.change_order_create(
        contract=contract, reason="cabinet", lines=[change("addition", 1000)], by=author
    )
    assert not change_orders.change_order_needs_manager(order=order)
    change_orders.change_order_approve(order=order, by=author)
    order.refresh_from_db()
    assert (order.status, order.decided_by) == ("approved", author)


def test_a_large_change_order_needs_a_firm_admin_who_did_not_write_it(firm):
    no_requote()
    contract = signed_contract()
    author = staff("designer")
    order = change_orders.change_order_create(
        contract=contract, reason="kitchen", lines=[change("addition", 1100)], by=author
    )
    assert change_orders.change_order_needs_manager(order=order)
    refusals = [
        (author, OWN_ORDER),
        (staff("sales"), NEEDS_MANAGER),
        (staff("finance"), NEEDS_MANAGER),
        (staff("admin", is_active=False), NEEDS_MANAGER),
        (None, NEEDS_MANAGER),  # a partner's key
    ]
    for by, message in refusals:
        with override("en"), pytest.raises(ValidationError) as refused:
            change_orders.change_order_approve(order=order, by=by)
        assert refused.value.message_dict == {"decided_by": [message]}
    contract.refresh_from_db()
    assert ChangeOrder.objects.get(pk=order.pk).status == "draft" and contract.amount == Decimal("10616.63")

    manager = staff("admin")
    change_orders.change_order_approve(order=order, by=manager)
    order.refresh_from_db()
    contract.refresh_from_db()
    assert (order.status, order.decided_by) == ("approved", manager) and contract.amount == Decimal("11716.63")


def test_a_firm_admin_does_not_approve_their_own_large_change_order(firm):
    no_requote()
    manager = staff("admin")
    order = change_orders.change_order_create(
        contract=signed_contract(), reason="kitchen", lines=[change("addition", 1100)], by=manager
    )
    with override("en"), pytest.raises(ValidationError) as refused:
        change_orders.change_order_approve(order=order, by=manager)
    assert refused.value.message_dict == {"decided_by": [OWN_ORDER]}
    change_orders.change_order_approve(order=order, by=staff("admin"))


def test_a_large_reduction_needs_the_general_manager_too(firm):
    no_requote()
    order = change_orders.change_order_create(
        contract=signed_contract(), reason="no wardrobe", lines=[change("removal", 1100)], by=staff("sales")
    )
    assert order.net == Decimal("-1100.00") and change_orders.change_order_needs_manager(order=order)
    with override("en"), pytest.raises(ValidationError) as refused:
        change_orders.change_order_approve(order=order, by=staff("sales"))
    assert refused.value.message_dict == {"decided_by": [NEEDS_MANAGER]}


def test_the_approval_share_is_a_firm_setting(firm):
    ContractSettings.objects.update_or_create(
        defaults={"change_order_threshold_percent": Decimal("100"), "change_order_approval_percent": Decimal("20")}
    )
    author = staff("designer")
    order = change_orders.change_order_create(
        contract=signed_contract(), reason="kitchen", lines=[change("addition", 2000)], by=author
    )
    assert not change_orders.change_order_needs_manager(order=order)  # 2,000 is under 20 % of 10,616.63
    change_orders.change_order_approve(order=order, by=author)
    order.refresh_from_db()
    assert not change_orders.change_order_needs_manager(order=order)  # decided: nothing left to approve


# Change orders: the pages ---------------------------------------------------------------------------------


def create_on_page(client, contract, amount):
    line = {**PAINT, "kind": "addition", "quantity": "1", "unit_price": str(amount)}
    response = client.post(
        f"/contracts/{contract.pk}/change-orders/new/", {"reason": "业主加做", **items_post([line], prefix="lines")}
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    return response.url


def test_the_author_and_non_managers_cannot_approve_a_large_change_order_on_the_page(client, firm_a):
    with tenant_context(firm_a):
        no_requote()
        contract = signed_contract()
    author = login(client, firm_a, "designer", name="Zhao Design")
    order_url = create_on_page(client, contract, 1100)
    page = client.get(order_url, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.context["needs_manager"] is True and 'data-testid="needs-manager"' in html
    assert 'name="approve"' not in html and 'name="reject"' in html and "Zhao Design" in html
    listing = client.get("/contracts/change-orders/")
    assert listing.context["orders"][0].needs_manager is True
    refused = client.post(order_url, {"approve": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert OWN_ORDER in messages_of(refused)

    login(client, firm_a, "sales")
    assert 'name="approve"' not in client.get(order_url).content.decode()
    refused = client.post(order_url, {"approve": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert NEEDS_MANAGER in messages_of(refused)
    with tenant_context(firm_a):
        assert ChangeOrder.objects.get().status == "draft"

    manager = login(client, firm_a, "admin")
    assert 'name="approve"' in client.get(order_url).content.decode()
    client.post(order_url, {"approve": "1"})
    with tenant_context(firm_a):
        order = ChangeOrder.objects.get()
        assert (order.status, order.created_by, order.decided_by) == ("approved", author, manager)


def test_a_firm_admin_is_not_offered_the_approval_of_their_own_large_change_order(client, firm_a):
    with tenant_context(firm_a):
        no_requote()
        contract = signed_contract()
    login(client, firm_a, "admin")
    order_url = create_on_page(client, contract, 1100)
    assert 'name="approve"' not in client.get(order_url).content.decode()
    refused = client.post(order_url, {"approve": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert OWN_ORDER in messages_of(refused)


def test_a_small_change_order_is_approved_by_its_author_on_the_page(client, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()
    login(client, firm_a, "designer")
    order_url = create_on_page(client, contract, 500)
    page = client.get(order_url)
    assert page.context["needs_manager"] is False and 'name="approve"' in page.content.decode()
    client.post(order_url, {"approve": "1"})
    with tenant_context(firm_a):
        assert ChangeOrder.objects.get().status == "approved"


# Change orders: the API -----------------------------------------------------------------------------------


def create_through_api(client, contract, amount, **headers):
    line = {"kind": "addition", "category": "carpentry", "name": "Cabinet", "unit": "item", "quantity": "1"}
    response = post_json(
        client,
        "/api/v1/change-orders/",
        {"contract": contract.pk, "reason": "kitchen", "lines": [{**line, "unit_price": str(amount)}]},
        **headers,
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_change_order_approval_refusals_through_the_api(client, firm_a):
    with tenant_context(firm_a):
        no_requote()
        contract = signed_contract()
    author = login(client, firm_a, "designer")
    order = create_through_api(client, contract, 1100)
    assert (order["needs_manager_approval"], order["created_by"]) == (True, author.pk)
    approve = f"/api/v1/change-orders/{order['id']}/approve/"
    refused = post_json(client, approve)
    assert refused.status_code == 400 and refused.json()["error"]["fields"] == {"decided_by": [OWN_ORDER]}
    login(client, firm_a, "sales")
    refused = post_json(client, approve)
    assert refused.status_code == 400 and refused.json()["error"]["fields"] == {"decided_by": [NEEDS_MANAGER]}
    partner = post_json(Client(), approve, **key_headers(firm_a, ["contracts:read", "contracts:write"]))
    assert partner.status_code == 400 and partner.json()["error"]["fields"] == {"decided_by": [NEEDS_MANAGER]}

    manager = login(client, firm_a, "admin")
    approved = post_json(client, approve)
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["decided_by"], body["needs_manager_approval"]) == ("approved", manager.pk, False)


def test_a_small_change_order_is_approved_by_its_author_through_the_api(client, firm_a):
    with tenant_context(firm_a):
        contract = signed_contract()
    author = login(client, firm_a, "designer")
    order = create_through_api(client, contract, 500)
    assert order["needs_manager_approval"] is False
    approved = post_json(client, f"/api/v1/change-orders/{order['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["decided_by"] == author.pk


# Instalments tied to a phase ----------------------------------------------------------------------------------


def phase_schedule(phase, trigger="phase_acceptance"):
    return [
        {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "midterm", "amount": "5616.63", "trigger": trigger, "trigger_phase": phase},
    ]


def test_construction_registers_its_phase_kinds():
    assert phases.phase_kind_choices() == list(PhaseKind.choices)


def test_an_instalment_names_a_phase_construction_knows(firm):
    with override("en"), pytest.raises(ValidationError) as refused:
        signed_contract(instalments=phase_schedule("waterproofing"))
    (message,) = refused.value.message_dict["instalments"]
    assert message.startswith("Instalment 2 names the phase “waterproofing”, which construction does not know.")
    assert "waterproofing_test" in message and "carpentry" in message
    # A phase on another trigger is no place for a typo either.
    with pytest.raises(ValidationError, match="carpentri"):
        signed_contract(instalments=phase_schedule("carpentri", trigger="mid_inspection"))
    assert not Contract.objects.exists()

    contract = signed_contract(instalments=phase_schedule("waterproofing_test"))
    assert contract.instalments.get(kind="midterm").trigger_phase == "waterproofing_test"


def test_without_construction_registered_no_phase_can_be_named(firm, monkeypatch):
    monkeypatch.setattr(phases, "_source", None)
    with override("en"), pytest.raises(ValidationError, match="The phases: —"):
        signed_contract(instalments=phase_schedule("waterproofing_test"))


def sign_post(schedule):
    return {
        "number": "HT-200",
        "package_type": "full",
        "signed_on": "2026-11-24",
        "planned_start": "2026-12-01",
        "planned_end": "2027-03-01",
        **items_post([], prefix="materials"),
        **items_post(schedule, prefix="instalments"),
    }


def test_the_sign_page_offers_the_phases_as_a_choice(client, firm_a):
    with tenant_context(firm_a):
        version = sent_version((TILES, WIRING, PAINT))
        quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    login(client, firm_a, "designer")
    url = f"/contracts/sign/{version.pk}/"
    page = client.get(url)
    field = page.context["instalments"].forms[0].fields["trigger_phase"]
    assert list(field.choices)[1:] == list(PhaseKind.choices)
    assert '<option value="waterproofing_test">' in page.content.decode()

    deposit = {"kind": "deposit", "amount": "5000", "trigger": "on_signing", "due_on": "2026-11-24"}
    midterm = {"kind": "midterm", "amount": "5616.63", "trigger": "phase_acceptance"}
    typo = client.post(url, sign_post([deposit, {**midterm, "trigger_phase": "waterproofing"}]))
    assert typo.status_code == 200 and typo.context["instalments"].forms[1].errors["trigger_phase"]
    blank = client.post(url, sign_post([deposit, {**midterm, "trigger_phase": ""}]), HTTP_ACCEPT_LANGUAGE="en")
    assert blank.context["instalments"].forms[1].errors["trigger_phase"] == [
        "Choose the phase whose acceptance makes this instalment due."
    ]
    with tenant_context(firm_a):
        assert not Contract.objects.exists()

    signed = client.post(url, sign_post([deposit, {**midterm, "trigger_phase": "waterproofing_test"}]))
    assert signed.status_code == 302
    with tenant_context(firm_a):
        assert Instalment.objects.get(kind="midterm").trigger_phase == "waterproofing_test"


def test_the_api_takes_only_the_phases_construction_knows(client, firm_a):
    with tenant_context(firm_a):
        version = sent_version((TILES, WIRING, PAINT))
        quotations.quotation_version_accept(version=version, via="staff", name="王芳")
    login(client, firm_a, "designer")
    body = {
        "quotation_version": version.pk,
        "number": "HT-300",
        "package_type": "full",
        "planned_start": "2026-12-01",
        "planned_end": "2027-03-01",
        "signed_on": "2026-11-24",
        "instalments": [
            {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": "2026-11-24"},
            {"kind": "midterm", "amount": "5616.63", "trigger": "phase_acceptance", "trigger_phase": "waterproofing"},
        ],
    }
    typo = post_json(client, "/api/v1/contracts/", body)
    assert typo.status_code == 400
    assert typo.json()["error"]["fields"]["instalments"]["1"] == {
        "trigger_phase": ['"waterproofing" is not a valid choice.']
    }
    body["instalments"][1]["trigger_phase"] = "waterproofing_test"
    signed = post_json(client, "/api/v1/contracts/", body)
    assert signed.status_code == 201, signed.content
    assert signed.json()["instalments"][1]["trigger_phase"] == "waterproofing_test"
