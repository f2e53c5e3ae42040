from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import override

from contracts import selectors
from contracts.models import (
    ChangeOrder,
    Contract,
    ContractSettings,
    Instalment,
    MeasurementAppointment,
    QuotationItem,
    QuotationVersion,
)
from contracts.services import change_orders, design, payments, quotations, signing
from leads.models import Lead, ReferralReward
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_day_start, firm_today
from tests.factories import StaffFactory
from tests.leads.factories import CustomerFactory, LeadFactory

TILES = {"category": "masonry", "name": "Floor tiles laying", "unit": "m²", "quantity": "80", "unit_price": "65"}
WIRING = {"category": "plumbing_electrical", "name": "Rewiring", "unit": "m", "quantity": "12.5", "unit_price": "33.33"}
PAINT = {"category": "painting", "name": "Wall paint", "unit": "m²", "quantity": "200", "unit_price": "25"}


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def sent_version(items=(TILES, WIRING), lead=None):
    quotation = quotations.quotation_create(lead=lead or LeadFactory(), title="Whole flat", items=list(items))
    return quotations.quotation_version_send(version=quotation.versions.get())


def signed_contract(amount_items=(TILES, WIRING, PAINT), lead=None, **kwargs):
    version = sent_version(amount_items, lead=lead)
    quotations.quotation_version_accept(version=version, via="staff", name="Wang Fang")
    return signing.contract_sign(
        version=version,
        number=kwargs.pop("number", "HT-001"),
        package_type="full",
        planned_start=date(2026, 12, 1),
        planned_end=date(2027, 3, 1),
        signed_on=date(2026, 11, 24),
        **kwargs,
    )


def events(event_type):
    return list(OutboxEvent.objects.filter(event_type=event_type).order_by("id"))


def test_a_measurement_appointment_is_booked_from_today_on_and_announced(firm):
    lead = LeadFactory(with_property=True)
    today_start = firm_day_start(firm_today())
    with override("en"), pytest.raises(ValidationError) as refused:
        design.measurement_appointment_schedule(lead=lead, scheduled_at=today_start - timedelta(minutes=1))
    assert refused.value.message_dict == {"scheduled_at": ["The appointment cannot be on a day that has passed."]}
    assert not MeasurementAppointment.objects.exists() and not events("measurement.scheduled")

    earlier_today = design.measurement_appointment_schedule(lead=lead, scheduled_at=today_start)
    booked = design.measurement_appointment_schedule(
        lead=lead, scheduled_at=today_start + timedelta(days=3, hours=10), notes="bring laser"
    )
    assert [e.payload for e in events("measurement.scheduled")] == [
        {"id": a.pk, "lead_id": lead.pk, "scheduled_at": a.scheduled_at.isoformat(), "designer_id": None}
        for a in (earlier_today, booked)
    ]


def test_totals_are_exact_decimals_rounded_half_up(firm):
    version = sent_version()
    amounts = [item.amount for item in version.items.order_by("position")]
    assert amounts == [Decimal("5200.00"), Decimal("416.63")]  # 12.5 × 33.33 = 416.625
    assert version.total == Decimal("5616.63")


def test_negative_quantities_are_refused(firm):
    with pytest.raises(ValidationError):
        quotations.quotation_create(lead=LeadFactory(), title="x", items=[{**TILES, "quantity": "-1"}])


def test_a_sent_version_cannot_change_even_in_the_database(firm):
    version = sent_version()
    with override("en"), pytest.raises(ValidationError, match="can no longer change"):
        quotations.quotation_version_set_items(version=version, items=[PAINT])
    with pytest.raises(Exception, match="sent"), transaction.atomic():
        QuotationItem.objects.filter(version=version).update(unit_price=1)
    with pytest.raises(Exception, match="sent"), transaction.atomic():
        QuotationItem.objects.filter(version=version).delete()
    assert version.items.count() == 2


def test_a_new_version_copies_and_edits_without_touching_the_old(firm):
    v1 = sent_version()
    v2 = quotations.quotation_version_copy(version=v1)
    assert (v2.number, v2.status, v2.total) == (2, "draft", v1.total)
    quotations.quotation_version_set_items(version=v2, items=[{**TILES, "unit_price": "70"}, PAINT])
    v1.refresh_from_db()
    assert v1.total == Decimal("5616.63") and v1.items.count() == 2
    comparison = selectors.quotation_versions_compare(old=v1, new=QuotationVersion.objects.get(pk=v2.pk))
    assert [item["name"] for item in comparison["added"]] == ["Wall paint"]
    assert [item["name"] for item in comparison["removed"]] == ["Rewiring"]
    assert comparison["changed"] == [
        {
            "room": "",
            "category": "masonry",
            "name": "Floor tiles laying",
            "changes": {"unit_price": ["65.00", "70.00"], "amount": ["5200.00", "5600.00"]},
        }
    ]
    assert comparison["total_difference"] == "4983.37"  # 5600 + 5000 - 5616.63


def test_exactly_one_accepted_version(firm):
    v1 = sent_version()
    with override("en"), pytest.raises(ValidationError, match="sent"):
        quotations.quotation_version_accept(version=quotations.quotation_version_copy(version=v1), via="staff")
    quotations.quotation_version_accept(version=v1, via="staff", name="Wang")
    v2 = quotations.quotation_version_send(version=quotations.quotation_version_copy(version=v1))
    quotations.quotation_version_accept(version=v2, via="staff", name="Wang")
    statuses = dict(QuotationVersion.objects.filter(quotation=v1.quotation).values_list("number", "status"))
    assert statuses == {1: "superseded", 2: "draft", 3: "accepted"}
    with pytest.raises(IntegrityError), transaction.atomic():
        QuotationVersion.objects.filter(pk=v1.pk).update(status="accepted")
    assert [e.payload["number"] for e in events("quotation.accepted")] == [1, 3]


def test_homeowner_acceptance_needs_a_signature(firm):
    with pytest.raises(ValidationError):
        quotations.quotation_version_accept(version=sent_version(), via="homeowner_link", name="Wang", signature="")


def test_signing_wins_the_lead_opens_the_project_and_splits_the_payments(firm):
    contract = signed_contract()
    assert contract.amount == contract.original_amount == Decimal("10616.63")
    instalments = list(contract.instalments.order_by("sequence"))
    assert [(i.kind, i.amount) for i in instalments] == [
        ("deposit", Decimal("3184.99")),
        ("midterm", Decimal("6369.98")),
        ("final", Decimal("1061.66")),
    ]
    assert sum(i.amount for i in instalments) == contract.amount
    assert instalments[0].due_on == date(2026, 11, 24) and instalments[1].due_on is None
    lead = Lead.objects.get(pk=contract.project.lead_id)
    assert lead.status == Lead.Status.WON
    assert contract.project.customer_id == lead.customer_id
    assert [e.payload["contract_id"] for e in events("contract.signed")] == [contract.pk]
    assert [e.payload["kind"] for e in events("payment.due")] == ["deposit"]


def test_signing_a_referred_lead_rewards_the_referrer(firm):
    referrer = CustomerFactory()
    lead = LeadFactory(channel="referral", referrer=referrer)
    signed_contract(lead=lead)
    reward = ReferralReward.objects.get(lead=lead)
    assert reward.referrer_id == referrer.pk


def test_instalments_must_add_up_and_nothing_is_written_otherwise(firm):
    version = sent_version()
    quotations.quotation_version_accept(version=version, via="staff", name="Wang")
    schedule = [
        {"kind": "deposit", "amount": "1000", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "final", "amount": "1000", "trigger": "acceptance"},
    ]
    with pytest.raises(ValidationError) as error:
        signing.contract_sign(
            version=version,
            number="HT-9",
            package_type="half",
            planned_start=date(2026, 12, 1),
            planned_end=date(2027, 1, 1),
            signed_on=date(2026, 11, 24),
            instalments=schedule,
        )
    assert "2000.00" in str(error.value) and "5616.63" in str(error.value)
    assert not Contract.objects.exists()
    assert Lead.objects.get(pk=version.quotation.lead_id).status != Lead.Status.WON


def test_an_unaccepted_version_cannot_be_signed(firm):
    with override("en"), pytest.raises(ValidationError, match="not accepted"):
        signing.contract_sign(
            version=sent_version(),
            number="HT-1",
            package_type="half",
            planned_start=date(2026, 12, 1),
            planned_end=date(2027, 1, 1),
            signed_on=date(2026, 11, 24),
        )


def test_contract_numbers_are_unique_per_firm_only(firm_a, firm_b):
    with tenant_context(firm_a):
        signed_contract(number="HT-2026-001")
        with override("en"), pytest.raises(ValidationError, match="already used"):
            signed_contract(number="HT-2026-001")
    with tenant_context(firm_b):
        assert signed_contract(number="HT-2026-001").number == "HT-2026-001"


def test_mid_inspection_makes_the_midterm_instalment_due_once(firm):
    contract = signed_contract()
    due = payments.instalments_fall_due(contract=contract, trigger="mid_inspection", on=date(2027, 1, 10))
    assert [i.kind for i in due] == ["midterm"]
    assert payments.instalments_fall_due(contract=contract, trigger="mid_inspection", on=date(2027, 1, 11)) == []
    final = payments.instalments_fall_due(contract=contract, trigger="acceptance", on=date(2027, 3, 1))
    assert final[0].due_on == date(2027, 3, 4)  # final payment within 3 days of acceptance
    assert [e.payload["kind"] for e in events("payment.due")] == ["deposit", "midterm", "final"]


def finance():
    return StaffFactory(membership__role="finance")


def test_payment_is_recorded_once(firm):
    deposit = signed_contract().instalments.get(kind="deposit")
    payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=finance())
    with pytest.raises(ValidationError):
        payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 26), by=finance())
    assert [e.payload["instalment_id"] for e in events("payment.received")] == [deposit.pk]


def change(kind, amount):
    return {
        "kind": kind,
        "category": "carpentry",
        "name": f"{kind} cabinet",
        "unit": "item",
        "quantity": "1",
        "unit_price": str(amount),
    }


def test_a_small_change_order_moves_the_amount_and_the_unpaid_schedule(firm):
    contract = signed_contract()
    deposit = contract.instalments.get(kind="deposit")
    payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=finance())
    order = change_orders.change_order_create(
        contract=contract, reason="Extra cabinet", lines=[change("addition", 700)]
    )
    change_orders.change_order_approve(order=order)
    contract.refresh_from_db()
    assert contract.amount == Decimal("11316.63")
    instalments = {i.kind: i.amount for i in contract.instalments.all()}
    assert instalments["deposit"] == Decimal("3184.99")  # paid: untouched
    assert sum(instalments.values()) == contract.amount
    assert instalments["midterm"] > Decimal("6369.98") and instalments["final"] > Decimal("1061.66")
    assert [e.payload["net"] for e in events("change_order.approved")] == ["700.00"]


def test_changes_over_ten_percent_need_a_newly_accepted_version(firm):
    contract = signed_contract()  # 10616.63: the threshold is 1061.66
    first = change_orders.change_order_create(contract=contract, reason="a", lines=[change("addition", 600)])
    change_orders.change_order_approve(order=first)
    # Removals count too: 600 approved + 300 + 200 = 1100 > 1061.66, although the net change is smaller.
    second = change_orders.change_order_create(
        contract=contract, reason="b", lines=[change("addition", 300), change("removal", 200)]
    )
    assert change_orders.change_order_needs_requote(order=second)
    with override("en"), pytest.raises(ValidationError, match="new quotation version"):
        change_orders.change_order_approve(order=second)
    assert ChangeOrder.objects.get(pk=second.pk).status == "draft"

    requote = quotations.quotation_version_send(
        version=quotations.quotation_version_copy(version=contract.quotation_version)
    )
    quotations.quotation_version_accept(version=requote, via="staff", name="Wang")
    change_orders.change_order_approve(order=second)
    contract.refresh_from_db()
    assert contract.quotation_version_id == requote.pk
    assert contract.amount == Decimal("11316.63")


def test_only_a_draft_change_order_can_need_a_new_version(firm):
    contract = signed_contract()  # 10616.63: the threshold is 1061.66
    rejected = change_orders.change_order_create(contract=contract, reason="a", lines=[change("addition", 2000)])
    assert change_orders.change_order_needs_requote(order=rejected)
    change_orders.change_order_reject(order=rejected)
    assert not change_orders.change_order_needs_requote(order=ChangeOrder.objects.get(pk=rejected.pk))


def test_the_threshold_is_a_firm_setting(firm):
    contract = signed_contract()
    ContractSettings.objects.update_or_create(defaults={"change_order_threshold_percent": Decimal("20")})
    order = change_orders.change_order_create(contract=contract, reason="a", lines=[change("addition", 1500)])
    assert not change_orders.change_order_needs_requote(order=order)
    change_orders.change_order_approve(order=order, by=StaffFactory(membership__role="admin"))


def test_a_reduction_larger_than_what_is_unpaid_is_refused(firm):
    contract = signed_contract()
    ContractSettings.objects.update_or_create(defaults={"change_order_threshold_percent": Decimal("100")})
    for instalment in contract.instalments.exclude(kind="final"):
        payments.instalment_record_payment(instalment=instalment, paid_on=date(2026, 12, 1), by=finance())
    order = change_orders.change_order_create(contract=contract, reason="skip", lines=[change("removal", 2000)])
    with override("en"), pytest.raises(ValidationError, match="still to be paid"):
        change_orders.change_order_approve(order=order, by=StaffFactory(membership__role="admin"))
    contract.refresh_from_db()
    assert contract.amount == Decimal("10616.63")
    assert sum(i.amount for i in Instalment.objects.filter(contract=contract)) == contract.amount


def test_firm_settings_change_the_default_split(firm):
    ContractSettings.objects.update_or_create(
        defaults={
            "deposit_percent": Decimal("50"),
            "midterm_percent": Decimal("45"),
            "final_percent": Decimal("5"),
        }
    )
    contract = signed_contract()
    assert [i.amount for i in contract.instalments.order_by("sequence")] == [
        Decimal("5308.32"),
        Decimal("4777.48"),
        Decimal("530.83"),
    ]


def test_rollback_of_signing_leaves_no_project_and_no_event(firm):
    version = sent_version()
    quotations.quotation_version_accept(version=version, via="staff", name="Wang")
    with pytest.raises(RuntimeError), transaction.atomic():
        signing.contract_sign(
            version=version,
            number="HT-7",
            package_type="full",
            planned_start=date(2026, 12, 1),
            planned_end=date(2027, 1, 1),
            signed_on=date(2026, 11, 24),
        )
        raise RuntimeError("the caller failed after signing")
    assert not Contract.objects.exists()
    assert events("contract.signed") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM contracts_project")
        assert cursor.fetchone()[0] == 0


def test_planned_end_before_start_is_refused(firm):
    version = sent_version()
    quotations.quotation_version_accept(version=version, via="staff", name="Wang")
    with pytest.raises(ValidationError) as error:
        signing.contract_sign(
            version=version,
            number="HT-8",
            package_type="full",
            planned_start=date(2027, 1, 1),
            planned_end=date(2026, 12, 1),
            signed_on=date(2026, 11, 24),
        )
    assert "planned_end" in error.value.message_dict
