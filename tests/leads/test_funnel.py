"""The lead funnel by channel and the referral performance: exact figures for one firm's period, with leads
just outside the period (in the firm's time zone) and another firm's leads left out."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leads import selectors
from leads.models import Lead, ReferralReward
from renocrm.tenancy.context import tenant_context
from tests.leads.factories import CustomerFactory, LeadFactory, LeadStatusChangeFactory, ReferralRewardFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
S = Lead.Status


def lead(at: datetime, *, status=S.NEW, channel=Lead.Channel.ONLINE, referrer=None, log=()):
    """A lead created at ``at`` (firm time) in ``status``, with its status log ``log`` of (from, to) pairs."""
    created = LeadFactory(status=status, channel=channel, referrer=referrer)
    Lead.objects.filter(pk=created.pk).update(created_at=at)
    for from_status, to_status in log:
        LeadStatusChangeFactory(lead=created, from_status=from_status, to_status=to_status)
    return created


def march(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def figures(firm_a, firm_b):
    """Online: new, won, proposal, and a lost lead that had been measured. Referral: R1 (Chen) refers a won
    lead with a pending cash reward and a contacted one; R3 (An) a won lead with a fulfilled cash reward,
    created in the last minutes of March; R2 (Bai) a lost lead with a fulfilled gift, and a lead of February
    (with a reward) that does not count; R4 (Ai) a new lead. A showroom lead of April 1st (firm time) and
    another firm's won lead are outside."""
    with tenant_context(firm_b):
        lead(march(10), status=S.WON)
    with tenant_context(firm_a):
        lead(march(2))
        lead(march(3), status=S.WON)
        lead(march(4), status=S.PROPOSAL)
        lead(
            march(5),
            status=S.LOST,
            log=[(S.NEW, S.CONTACTED), (S.CONTACTED, S.MEASURED), (S.MEASURED, S.LOST)],
        )
        chen, an, bai, ai = (CustomerFactory(name=name) for name in ("Chen", "An", "Bai", "Ai"))
        referral = {"channel": Lead.Channel.REFERRAL}
        won_by_chen = lead(march(6), status=S.WON, referrer=chen, **referral)
        ReferralRewardFactory(referrer=chen, lead=won_by_chen, amount=Decimal("500.00"))
        lead(march(7), status=S.CONTACTED, referrer=chen, **referral)
        won_by_an = lead(march(31, 23), status=S.WON, referrer=an, **referral)
        ReferralRewardFactory(
            referrer=an, lead=won_by_an, amount=Decimal("800.00"), status=ReferralReward.Status.FULFILLED
        )
        lost_by_bai = lead(march(8), status=S.LOST, referrer=bai, **referral)
        ReferralRewardFactory(
            referrer=bai,
            lead=lost_by_bai,
            kind=ReferralReward.Kind.GIFT,
            amount=None,
            gift="Tea set",
            status=ReferralReward.Status.FULFILLED,
        )
        february = lead(datetime(2026, 2, 28, 23, 30, tzinfo=SHANGHAI), status=S.WON, referrer=bai, **referral)
        ReferralRewardFactory(referrer=bai, lead=february, amount=Decimal("300.00"))
        lead(march(9), referrer=ai, **referral)
        lead(datetime(2026, 4, 1, 0, 10, tzinfo=SHANGHAI), channel=Lead.Channel.SHOWROOM)
        yield firm_a


def test_the_funnel_counts_each_stage_a_lead_reached_per_channel(figures):
    with tenant_context(figures):
        funnel = selectors.lead_funnel(**MARCH)

    assert [row["channel"] for row in funnel] == list(Lead.Channel.values)
    by_channel = {row["channel"]: row for row in funnel}
    # The lost online lead had been measured: it counts as contacted and measured, not as a proposal.
    assert by_channel["online"] == {
        "channel": "online",
        "label": Lead.Channel.ONLINE.label,
        "created": 4,
        "contacted": 3,
        "measured": 3,
        "proposal": 2,
        "won": 1,
        "lost": 1,
        "win_rate": 0.25,
    }
    referral = by_channel["referral"]
    assert (referral["created"], referral["contacted"], referral["measured"], referral["proposal"]) == (5, 3, 2, 2)
    assert (referral["won"], referral["lost"], referral["win_rate"]) == (2, 1, 0.4)
    # The showroom lead came on April 1st in the firm's time zone; nobody else wrote in March.
    for channel in ("showroom", "partner", "phone", "event", "aftercare", "other"):
        row = by_channel[channel]
        assert (row["created"], row["contacted"], row["won"], row["lost"], row["win_rate"]) == (0, 0, 0, 0, None)


def test_the_funnel_is_one_query(figures, django_assert_num_queries):
    with tenant_context(figures), django_assert_num_queries(1):
        selectors.lead_funnel(**MARCH)


def test_referral_performance_per_referrer(figures):
    with tenant_context(figures):
        rows = selectors.referral_performance(**MARCH)

    assert [
        (
            row["referrer_name"],
            row["referred"],
            row["won"],
            row["rewards_pending"],
            row["rewards_fulfilled"],
            row["reward_amount"],
        )
        for row in rows
    ] == [
        ("Chen", 2, 1, 1, 0, Decimal("500.00")),
        ("An", 1, 1, 0, 1, Decimal("800.00")),
        # Bai's February lead and its pending reward belong to another period; a gift adds no cash.
        ("Ai", 1, 0, 0, 0, Decimal("0.00")),
        ("Bai", 1, 0, 0, 1, Decimal("0.00")),
    ]
    with tenant_context(figures):
        assert {row["referrer_id"] for row in rows} == set(
            Lead.objects.filter(channel="referral").exclude(created_at__month=2).values_list("referrer", flat=True)
        )


def test_referral_performance_is_one_query(figures, django_assert_num_queries):
    with tenant_context(figures), django_assert_num_queries(1):
        selectors.referral_performance(**MARCH)


def test_an_empty_period_gives_zero_rows(figures):
    with tenant_context(figures):
        assert selectors.referral_performance(start=date(2025, 1, 1), end=date(2025, 1, 31)) == []
        assert all(row["created"] == 0 for row in selectors.lead_funnel(start=date(2025, 1, 1), end=date(2025, 1, 31)))
