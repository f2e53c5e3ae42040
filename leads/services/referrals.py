"""Writes for referral rewards: a reward is earned when the referred lead is won (``pipeline.lead_mark_won``)
and fulfilled here."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leads.models import ReferralReward


@transaction.atomic
def referral_reward_fulfil(*, reward: ReferralReward) -> ReferralReward:
    reward = ReferralReward.objects.select_for_update().get(pk=reward.pk)
    if reward.status != ReferralReward.Status.FULFILLED:
        reward.status, reward.fulfilled_at = ReferralReward.Status.FULFILLED, timezone.now()
        reward.save(update_fields=["status", "fulfilled_at"])
    return reward
