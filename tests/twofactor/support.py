"""Two-factor sign-in in tests: enrol a user with a real authenticator secret, compute its codes as the app
on a phone would (django_otp.oath), sign in with the password, and mark a test client's session verified."""

from __future__ import annotations

import time

from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from renocrm.twofactor import services

PASSWORD = "pass-for-tests-1"


def code_for(key_or_device, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` 30-second steps later)."""
    key = key_or_device if isinstance(key_or_device, str) else key_or_device.key
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def wrong_code(device) -> str:
    """Six digits the device does not take now."""
    near = {code_for(device, steps_ahead=step) for step in (-2, -1, 0, 1, 2, 3)}
    return next(
        code for code in ("000000", "111111", "222222", "333333", "444444", "555555", "666666") if code not in near
    )


def enrol(user):
    """Turn two-factor sign-in on for ``user``: (the authenticator device, the ten recovery codes). The code
    used to confirm it is spent; the next one to sign in with is ``code_for(device, steps_ahead=1)``."""
    key = services.authenticator_key_new()
    return services.two_factor_enrol(user=user, key=key, token=code_for(key))


def password_login(client, user, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": user.username, "password": password})


def verify_session(client, device) -> None:
    """Mark the client's signed-in session as having entered a code of ``device``."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
