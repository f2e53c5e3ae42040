"""The staff list of the current firm, as its admins read it."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from renocrm.tenancy.context import require_current_tenant

from .models import Membership, StaffChange, StaffInvitation


def staff_members(*, search: str = "", status: str = ""):
    """The firm's members, active first, then by name; ``search`` matches name, sign-in name, mobile or
    e-mail; ``status`` is "active", "inactive" or "" (both)."""
    members = Membership.objects.filter(tenant=require_current_tenant()).select_related("user")
    if search:
        members = members.filter(
            Q(user__name__icontains=search)
            | Q(user__username__icontains=search)
            | Q(user__phone__icontains=search)
            | Q(user__email__icontains=search)
        )
    if status in ("active", "inactive"):
        members = members.filter(is_active=status == "active")
    return members.order_by("-is_active", "user__name", "user__username")


def staff_member(pk) -> Membership | None:
    return Membership.objects.filter(tenant=require_current_tenant(), pk=pk).select_related("user").first()


def open_invitations():
    return (
        StaffInvitation.objects.filter(accepted_at__isnull=True, withdrawn_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_is_expired(invitation: StaffInvitation) -> bool:
    return invitation.expires_at <= timezone.now()


def staff_changes(*, member=None, actions=None, limit: int = 20):
    changes = StaffChange.objects.select_related("member", "by", "invitation").order_by("-at", "-pk")
    if member is not None:
        changes = changes.filter(member=member)
    if actions is not None:
        changes = changes.filter(action__in=actions)
    return changes[:limit]
