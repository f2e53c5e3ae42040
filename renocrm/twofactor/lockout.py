"""Wrong two-factor codes count with django-axes exactly as wrong passwords do: the same failure limit, the
same cool-off, keyed on the same username and address (AXES_* in renocrm/settings/base.py). Someone who has
the password therefore gets no more guesses at the code than at the password, and a lockout reached on the
code also refuses the password step until it cools off.

A right password resets axes' count (AXES_RESET_ON_SUCCESS), so signing in again would start the code's
count afresh; django-otp's own throttling does not reset that way: each device waits 1, 2, 4, 8 … seconds
after every wrong code until a right one, across sessions."""

from __future__ import annotations

from axes.conf import settings as axes_settings
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib.auth.signals import user_login_failed


def credentials(user) -> dict:
    return {"username": user.get_username()}


def is_locked(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, credentials(user))


def count_failure(request, user) -> bool:
    """Record a wrong code as a failed sign-in; True when that locks the user out."""
    user_login_failed.send(sender=__name__, credentials=credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def count_success(request, user) -> None:
    """A right code clears the failures, as a right password does."""
    if not axes_settings.AXES_RESET_ON_SUCCESS:
        return
    handler = AxesProxyHandler.get_implementation()
    reset = getattr(handler, "reset_user_attempts", None)
    if reset is not None:
        AxesProxyHandler.update_request(request)
        reset(request, credentials(user))


def lockout_response(request, user):
    """The page axes shows a locked-out sign-in (accounts/locked_out.html, 429)."""
    return get_lockout_response(request, None, credentials(user))
