"""Writes for two-factor sign-in: setting up an authenticator app, recovery codes, checking a code, turning
it off, another admin's or the operator's reset of a lost device, and the firm's rule for its admins.

Devices are django-otp's: one TOTP device (the authenticator app) and one static device holding the ten
single-use recovery codes. They belong to the person, not to a firm (one user may work for several firms),
so their changes go to the log; a change a firm admin makes for the firm goes to the firm's audit trail too.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from renocrm.accounts.models import Membership
from renocrm.audit.models import AuditEvent
from renocrm.audit.services import platform_change_record
from renocrm.tenancy.models import Tenant

from . import selectors

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "default"
WRONG_CODE = _("That code is not right. Enter the 6-digit code your authenticator app shows now.")


def normalise_code(token: str) -> str:
    """What the user typed, without the spaces and dashes codes are shown with, in lower case."""
    return re.sub(r"[\s-]", "", token or "").lower()


def authenticator_key_new() -> str:
    """A new secret (20 random bytes, hex) for an authenticator app: offered on the set-up page, stored only
    once the user confirms it with a code."""
    return random_hex(20)


def authenticator_url(*, user, key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


@transaction.atomic
def two_factor_enrol(*, user, key: str, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn two-factor sign-in on with the authenticator app set up from ``key``, once it shows a right
    ``token``; returns the device and the ten new recovery codes (to be shown once)."""
    # One enrolment at a time per person (two tabs): the second waits, then finds the first's device.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if selectors.has_two_factor(user):
        raise ValidationError(_("Two-factor sign-in is already on."), code="already_on")
    device = TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=True)
    device.full_clean(exclude=["user"])
    token = normalise_code(token)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not (token.isdigit() and totp.verify(int(token), device.tolerance)):
        raise ValidationError({"otp_token": WRONG_CODE}, code="wrong_code")
    # The code just used cannot sign in again.
    device.last_t = totp.t()
    device.drift = totp.drift
    device.set_last_used_timestamp(commit=False)
    device.save()
    codes = _recovery_codes_replace(user)
    logger.info("two-factor: user %s turned two-factor sign-in on", user.pk)
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """Ten new recovery codes in place of the old ones, which stop working."""
    if selectors.authenticator(user) is None:
        raise ValidationError(_("Two-factor sign-in is off."), code="off")
    codes = _recovery_codes_replace(user)
    logger.info("two-factor: user %s made new recovery codes", user.pk)
    return codes


def _recovery_codes_replace(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name=DEVICE_NAME, defaults={"confirmed": True})
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.token_set.all().delete()
    device.throttle_reset()
    codes = _distinct_codes(RECOVERY_CODE_COUNT)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _distinct_codes(count: int) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        code = StaticToken.random_token()  # 8 characters, 40 random bits
        if code not in codes:
            codes.append(code)
    return codes


def format_recovery_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class CodeCheck:
    device: object | None = None  # the device that took the code
    wait_until: datetime | None = None  # too many wrong codes: the device checks none before then

    @property
    def ok(self) -> bool:
        return self.device is not None


@transaction.atomic
def two_factor_code_check(*, user, token: str, recovery_codes: bool = True) -> CodeCheck:
    """Check a code the user typed: six digits against the authenticator, anything else against the recovery
    codes (when allowed), each used up once it has been taken. django-otp's own throttling holds: after each
    wrong code a device checks nothing for 1, 2, 4, 8 … seconds, and a refused check is reported with
    ``wait_until``. The devices are locked for the check, so the same code cannot be taken twice at once."""
    token = normalise_code(token)
    if token.isdigit() and len(token) == 6:
        model = TOTPDevice
    elif recovery_codes and token:
        model = StaticDevice
    else:
        return CodeCheck()
    for device in model.objects.devices_for_user(user, confirmed=True).select_for_update().order_by("pk"):
        allowed, refusal = device.verify_is_allowed()
        if not allowed:
            return CodeCheck(wait_until=(refusal or {}).get("locked_until"))
        if device.verify_token(token):
            return CodeCheck(device=device)
    return CodeCheck()


@transaction.atomic
def two_factor_disable(*, user, membership) -> None:
    """Turn two-factor sign-in off (the caller has checked a current code). Refused where it is required."""
    if selectors.two_factor_required(user, membership):
        raise ValidationError(
            _("Two-factor sign-in is required for your account and cannot be turned off."), code="required"
        )
    count = _devices_delete(user)
    logger.info("two-factor: user %s turned two-factor sign-in off (%d devices)", user.pk, count)


@transaction.atomic
def two_factor_reset(*, user, by: str) -> int:
    """Remove a user's authenticator and recovery codes (a lost phone): at their next page they are asked to
    set it up again where it is required, and sign in with the password alone where it is not. ``by`` says
    who did it, for the log. Returns how many devices were removed."""
    count = _devices_delete(user)
    logger.warning("two-factor: reset for user %s (%s) by %s, %d devices removed", user.pk, user.username, by, count)
    return count


def _devices_delete(user) -> int:
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    static, _by_model = StaticDevice.objects.filter(user=user).delete()
    return removed + static


@transaction.atomic
def member_two_factor_reset(*, tenant: Tenant, actor, member) -> None:
    """A firm admin removes a colleague's lost authenticator. Not their own (they turn it off with a code),
    not the platform operator's, and not someone who also works for another firm, whose second factor guards
    that firm too: those are reset by the operator (``manage.py twofactor_reset``)."""
    if member.pk == actor.pk:
        raise ValidationError(_("To turn off your own two-factor sign-in, use your two-factor page."), code="self")
    memberships = Membership.objects.filter(user=member, is_active=True, tenant__is_active=True)
    if not memberships.filter(tenant=tenant).exists() or not member.is_active:
        raise ValidationError(_("Not a member of this firm."), code="not_member")
    # Any other firm counts, even one suspended or a membership ended: it may come back.
    if member.is_superuser or Membership.objects.filter(user=member).exclude(tenant=tenant).exists():
        raise ValidationError(
            _("This person also signs in elsewhere; only the platform operator can reset their two-factor sign-in."),
            code="elsewhere",
        )
    if not selectors.has_two_factor(member):
        raise ValidationError(_("This person has not set up two-factor sign-in."), code="off")
    devices = list(TOTPDevice.objects.filter(user=member).values_list("pk", flat=True))
    count = _devices_delete(member)
    for pk in devices:
        platform_change_record(
            tenant=tenant,
            actor_id=actor.pk,
            action=AuditEvent.Action.DELETE,
            table=TOTPDevice._meta.db_table,
            row_id=pk,
            changes={"user_id": member.pk, "name": DEVICE_NAME},
        )
    logger.warning(
        "two-factor: reset for user %s by firm admin %s of firm %s, %d devices removed",
        member.pk,
        actor.pk,
        tenant.pk,
        count,
    )


@transaction.atomic
def firm_two_factor_policy_set(*, tenant: Tenant, actor, required: bool) -> bool:
    """Require (or stop requiring) the firm's admins to sign in with a second factor. Turning it on needs the
    admin doing it to have set up their own first, or the next page would send them to set it up. Returns
    whether anything changed."""
    firm = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if firm.require_admin_two_factor == required:
        return False
    if required and not selectors.has_two_factor(actor):
        raise ValidationError(
            {
                "require_admin_two_factor": _(
                    "Set up two-factor sign-in for yourself first: with this on, every firm admin must use it."
                )
            },
            code="actor_without_two_factor",
        )
    Tenant.objects.filter(pk=firm.pk).update(require_admin_two_factor=required)
    tenant.require_admin_two_factor = required
    # The firm's table of firms is a platform table, which the trail's trigger does not watch.
    platform_change_record(
        tenant=tenant,
        actor_id=actor.pk,
        action=AuditEvent.Action.UPDATE,
        table=Tenant._meta.db_table,
        row_id=tenant.pk,
        changes={"require_admin_two_factor": [not required, required]},
    )
    logger.warning(
        "two-factor: firm %s %s two-factor sign-in for its admins (by user %s)",
        tenant.pk,
        "requires" if required else "no longer requires",
        actor.pk,
    )
    return True
