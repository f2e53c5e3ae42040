"""Reads about firms that are not tied to the current firm's scope."""

from __future__ import annotations

from .models import Tenant


def firms_not_operating_for(user) -> list[Tenant]:
    """The firms where ``user`` is an active member but which are not operating (suspended or awaiting
    approval): why such a user has no firm to work in."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        Tenant.objects.filter(
            memberships__user=user,
            memberships__is_active=True,
            status__in=[Tenant.Status.SUSPENDED, Tenant.Status.PENDING],
        )
        .distinct()
        .order_by("name")
    )
