"""Reads for two-factor sign-in: a user's authenticator and recovery codes, who must use them, and the firm's
staff with theirs."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role


def has_two_factor(user) -> bool:
    """Whether the user has a confirmed authenticator or recovery codes: a code is asked after the password."""
    return user_has_device(user, confirmed=True)


def authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_required(user, membership) -> bool:
    """Whether ``user`` must sign in with a second factor while working in ``membership``'s firm (None: in no
    firm): always the platform operator; a firm admin when their firm requires it. Everyone else may choose."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(
        membership is not None
        and membership.is_active
        and membership.has_role(Role.ADMIN)
        and membership.tenant.require_admin_two_factor
    )


def firm_staff_two_factor(*, tenant) -> list[Membership]:
    """The firm's active members, admins first, each with ``has_two_factor``."""
    members = (
        Membership.objects.filter(tenant=tenant, is_active=True, user__is_active=True)
        .select_related("user")
        .annotate(
            has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True))
            | Exists(StaticDevice.objects.filter(user=OuterRef("user_id"), confirmed=True))
        )
        .order_by("user__username")
    )
    return sorted(members, key=lambda membership: not membership.has_role(Role.ADMIN))
