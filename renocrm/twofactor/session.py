"""What one browser session knows about two-factor sign-in. Nothing outlives the session: every sign-in
with a password asks for a code again, and no browser is ever remembered as trusted."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from . import selectors

# Whether the signed-in user has a confirmed device, read once at sign-in so pages cost no query for it; the
# pages that add or remove devices in this session keep it current.
HAS_DEVICE = "_twofactor_has_device"
# The authenticator secret offered on the set-up page until the user confirms it with a code.
PENDING_KEY = "_twofactor_pending_key"
# New recovery codes, shown once on the next page and then gone.
NEW_CODES = "_twofactor_new_codes"


def signed_in(sender, request, user, **kwargs) -> None:
    """On sign-in (``user_logged_in``): no code entered yet, whatever the session held before."""
    session = getattr(request, "session", None)
    if session is None:
        return
    for key in (DEVICE_ID_SESSION_KEY, PENDING_KEY, NEW_CODES):
        session.pop(key, None)
    session[HAS_DEVICE] = selectors.has_two_factor(user)


def has_device(request) -> bool:
    known = request.session.get(HAS_DEVICE)
    if not isinstance(known, bool):
        # A session begun before two-factor sign-in existed: look once.
        known = request.session[HAS_DEVICE] = selectors.has_two_factor(request.user)
    return known


def has_device_now(request) -> bool:
    """Read again from the database (the code page): another admin or the operator may have reset the
    devices since sign-in, and a user whose devices are gone must not be asked for a code they cannot give."""
    known = request.session[HAS_DEVICE] = selectors.has_two_factor(request.user)
    return known


def is_verified(request) -> bool:
    return request.user.is_authenticated and request.user.is_verified()


def mark_verified(request, device) -> None:
    """The session has entered a code of ``device``: a new session key, as at any change of privilege."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session[HAS_DEVICE] = True


def forget_devices(request) -> None:
    """The user's devices are gone (turned off in this session)."""
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.user.otp_device = None
    request.session[HAS_DEVICE] = False


def keep_new_codes(request, codes: list[str]) -> None:
    request.session[NEW_CODES] = codes


def take_new_codes(request) -> list[str] | None:
    return request.session.pop(NEW_CODES, None)
