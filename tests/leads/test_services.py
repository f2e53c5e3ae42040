from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from leads import selectors
from leads.models import Customer, Lead, LeadSettings, LeadStatusChange, ReferralReward
from leads.services import pipeline, referrals
from leads.validators import normalize_mobile
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "8613800138000"])
def test_mobile_numbers_are_normalised(raw):
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize("bad", ["12800138000", "1380013800", "138001380001", "021-12345678", ""])
def test_invalid_mobiles_are_refused(firm, bad):
    with pytest.raises(ValidationError) as error:
        pipeline.lead_create(channel="phone", name="王", mobile=bad)
    assert "mobile" in error.value.message_dict or "customer" in error.value.message_dict
    assert not Customer.objects.exists()


def test_a_known_mobile_links_the_existing_customer(firm):
    first, linked_first = pipeline.lead_create(channel="online", name="王芳", mobile="13800138000")
    second, linked_second = pipeline.lead_create(channel="showroom", name="王芳 (showroom)", mobile="+86 138-0013-8000")
    assert (linked_first, linked_second) == (False, True)
    assert first.customer_id == second.customer_id
    assert Customer.objects.count() == 1
    assert Customer.objects.get().name == "王芳"


def test_two_firms_may_hold_the_same_mobile(firm_a, firm_b):
    for firm in (firm_a, firm_b):
        with tenant_context(firm):
            lead, linked = pipeline.lead_create(channel="online", name="王芳", mobile="13800138000")
            assert not linked
    with tenant_context(firm_a):
        assert Customer.objects.count() == 1


def test_partner_duplicate_within_the_window_returns_the_open_lead(firm):
    with time_machine.travel(datetime(2026, 10, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        first, created = pipeline.lead_create_from_partner(name="李雷", mobile="13900139000")
    assert created
    with time_machine.travel(datetime(2026, 10, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        again, created = pipeline.lead_create_from_partner(name="李雷", mobile="139 0013 9000")
    assert (again.pk, created) == (first.pk, False)
    with time_machine.travel(datetime(2026, 11, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        later, created = pipeline.lead_create_from_partner(name="李雷", mobile="13900139000")
    assert created and later.pk != first.pk and later.customer_id == first.customer_id


def test_the_pipeline_moves_forward_and_refuses_the_rest_clearly(firm):
    lead = LeadFactory()
    pipeline.lead_change_status(lead=lead, status="contacted")
    pipeline.lead_change_status(lead=lead, status="proposal")  # measured on the spot: a step may be skipped
    with pytest.raises(ValidationError) as error, translation.override("en"):
        pipeline.lead_change_status(lead=lead, status="contacted")
    assert (
        "“Proposal”" in error.value.message_dict["status"][0] and "“Contacted”" in error.value.message_dict["status"][0]
    )
    with pytest.raises(ValidationError, match="signing its contract"), translation.override("en"):
        pipeline.lead_change_status(lead=lead, status="won")
    assert [(c.from_status, c.to_status) for c in LeadStatusChange.objects.filter(lead=lead)] == [
        ("new", "contacted"),
        ("contacted", "proposal"),
    ]
    assert [e.payload["to"] for e in OutboxEvent.objects.filter(event_type="lead.status_changed").order_by("id")] == [
        "contacted",
        "proposal",
    ]


def test_lost_needs_a_reason_and_may_reopen(firm):
    lead = LeadFactory()
    with pytest.raises(ValidationError) as error:
        pipeline.lead_change_status(lead=lead, status="lost", reason="  ")
    assert "reason" in error.value.message_dict
    pipeline.lead_change_status(lead=lead, status="lost", reason="Chose a cheaper firm")
    assert Lead.objects.get(pk=lead.pk).lost_reason == "Chose a cheaper firm"
    pipeline.lead_change_status(lead=lead, status="contacted")
    assert Lead.objects.get(pk=lead.pk).lost_reason == ""


def test_a_won_lead_is_closed(firm):
    lead = pipeline.lead_mark_won(lead=LeadFactory())
    for status in ("contacted", "lost"):
        with pytest.raises(ValidationError):
            pipeline.lead_change_status(lead=lead, status=status, reason="x")
    with pytest.raises(ValidationError):
        pipeline.lead_mark_won(lead=lead)


def test_referral_needs_a_referrer_and_only_a_referral_has_one(firm):
    referrer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        pipeline.lead_create(channel="referral", name="韩梅梅", mobile="13700137000")
    assert "referrer" in error.value.message_dict
    with pytest.raises(ValidationError):
        pipeline.lead_create(channel="online", name="韩梅梅", mobile="13700137000", referrer=referrer)
    with pytest.raises(ValidationError, match="refer themselves"), translation.override("en"):
        pipeline.lead_create(channel="referral", customer=referrer, referrer=referrer)


def test_winning_a_referred_lead_rewards_the_referrer_once_per_firm_setting(firm):
    LeadSettings.objects.create(referral_reward_kind="gift", referral_reward_gift="扫地机器人")
    referrer = CustomerFactory()
    lead, _ = pipeline.lead_create(channel="referral", name="韩梅梅", mobile="13700137000", referrer=referrer)
    pipeline.lead_mark_won(lead=lead)
    reward = ReferralReward.objects.get()
    assert (reward.referrer_id, reward.kind, reward.gift, reward.amount) == (referrer.pk, "gift", "扫地机器人", None)
    referrals.referral_reward_fulfil(reward=reward)
    assert ReferralReward.objects.get().status == "fulfilled"


def test_property_must_belong_to_the_leads_customer(firm):
    other_property = PropertyFactory()
    with pytest.raises(ValidationError) as error:
        pipeline.lead_create(channel="online", customer=CustomerFactory(), property=other_property)
    assert "property" in error.value.message_dict


def test_budget_range_must_be_ordered(firm):
    with pytest.raises(ValidationError) as error:
        pipeline.lead_create(channel="online", name="王", mobile="13800138000", budget_min=300000, budget_max=200000)
    assert "budget_max" in error.value.message_dict


def test_assignees_must_be_members_with_a_fitting_role(firm, firm_b):
    sales = MembershipFactory(tenant=firm, role="sales").user
    qc = MembershipFactory(tenant=firm, role="qc").user
    outsider = MembershipFactory(tenant=firm_b, role="sales").user
    lead, _ = pipeline.lead_create(channel="online", name="王", mobile="13800138000", assigned_to=sales)
    assert lead.assigned_to == sales
    for user in (qc, outsider):
        with pytest.raises(ValidationError) as error:
            pipeline.lead_assign(lead=lead, assigned_to=user)
        assert "assigned_to" in error.value.message_dict


def test_follow_up_sets_the_next_date_and_marks_a_new_lead_contacted(firm):
    lead = LeadFactory()
    pipeline.follow_up_record(
        lead=lead, kind="call", outcome="Asked for a site measurement", next_contact_on=date(2026, 12, 2)
    )
    lead.refresh_from_db()
    assert (lead.status, lead.next_follow_up_on) == ("contacted", date(2026, 12, 2))


def test_due_and_overdue_follow_ups_use_the_firms_today(firm):
    sales = MembershipFactory(tenant=firm, role="sales").user
    today_lead = LeadFactory(assigned_to=sales, next_follow_up_on=date(2026, 11, 25))
    late_lead = LeadFactory(assigned_to=sales, next_follow_up_on=date(2026, 11, 24))
    LeadFactory(assigned_to=sales, next_follow_up_on=date(2026, 11, 20), status="lost")  # closed: not listed
    LeadFactory(next_follow_up_on=date(2026, 11, 25))  # someone else's
    # 17:30 UTC on the 24th is already 01:30 on the 25th in Shanghai.
    with time_machine.travel(datetime(2026, 11, 24, 17, 30, tzinfo=ZoneInfo("UTC"))):
        assert list(selectors.follow_ups_due(user=sales)) == [today_lead]
        assert list(selectors.follow_ups_overdue(user=sales)) == [late_lead]
    firm.time_zone = "Europe/London"  # a firm elsewhere: still the 24th there
    with time_machine.travel(datetime(2026, 11, 24, 17, 30, tzinfo=ZoneInfo("UTC"))):
        assert list(selectors.follow_ups_due(user=sales)) == [late_lead]


def test_pipeline_counts(firm):
    LeadFactory()
    LeadFactory(status="proposal")
    LeadFactory(status="proposal")
    counts = selectors.pipeline_counts()
    assert counts["new"] == 1 and counts["proposal"] == 2 and counts["won"] == 0
