"""The lead funnel and referrals report: conversion by channel and what referrals by existing customers
bring."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads import selectors as lead_selectors
from renocrm.periods import Period

from ..exports import INTEGER, MONEY, PERCENT, Column, Table
from .tables import Viewer, share, table


def lead_tables(period: Period, viewer: Viewer) -> list[Table]:
    funnel = lead_selectors.lead_funnel(start=period.start, end=period.end)
    referrals = lead_selectors.referral_performance(start=period.start, end=period.end)
    return lead_tables_from(funnel, referrals)


FUNNEL_STAGES = ("created", "contacted", "measured", "proposal", "won", "lost")
REFERRAL_COLUMNS = {
    "referrer_name": Column(gettext_lazy("Referrer")),
    "referred": Column(gettext_lazy("Referred"), INTEGER),
    "won": Column(gettext_lazy("Won"), INTEGER),
    "rewards_pending": Column(gettext_lazy("Rewards pending"), INTEGER),
    "rewards_fulfilled": Column(gettext_lazy("Rewards fulfilled"), INTEGER),
    "reward_amount": Column(gettext_lazy("Reward amount"), MONEY),
}


def lead_tables_from(funnel: list[dict], referrals: list[dict]) -> list[Table]:
    """The funnel per channel and the referrers' results, from the leads selectors' rows."""
    stage_labels = {
        "created": gettext_lazy("Leads"),
        "contacted": gettext_lazy("Contacted"),
        "measured": gettext_lazy("Measured"),
        "proposal": gettext_lazy("Proposal"),
        "won": gettext_lazy("Won"),
        "lost": gettext_lazy("Lost"),
    }
    totals = {stage: sum(row[stage] for row in funnel) for stage in FUNNEL_STAGES}
    funnel_table = Table(
        _("Lead funnel by channel"),
        [Column(gettext_lazy("Channel"))]
        + [Column(stage_labels[stage], INTEGER) for stage in FUNNEL_STAGES]
        + [Column(gettext_lazy("Win rate (%)"), PERCENT)],
        [
            [
                row["label"],
                *(row[stage] for stage in FUNNEL_STAGES),
                round(100 * row["win_rate"], 1) if row["win_rate"] is not None else None,
            ]
            for row in funnel
        ],
        # The leads app's win rate is won / created, so the total's is the same over all channels.
        total=[_("Total"), *totals.values(), share(totals["won"], totals["created"])],
        empty=_("No leads in this period."),
    )
    referral_table = table(
        _("Referrals"),
        REFERRAL_COLUMNS,
        referrals,
        total=[
            _("Total"),
            *(sum(row[k] for row in referrals) for k in ("referred", "won", "rewards_pending", "rewards_fulfilled")),
            sum((row["reward_amount"] or 0 for row in referrals), start=0),
        ],
        empty=_("No referrals in this period."),
    )
    return [funnel_table, referral_table]
