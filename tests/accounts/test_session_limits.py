"""How long a staff session lives: signed out after SESSION_IDLE_TIMEOUT_SECONDS without a request and after
SESSION_COOKIE_AGE in any case; and login throttling keyed on the client's address behind our own proxy."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.accounts.conftest import PASSWORD

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def session_row(client) -> Session | None:
    return Session.objects.filter(session_key=client.session.session_key).first()


def test_a_session_idle_longer_than_the_timeout_is_signed_out(client, admin_a, settings):
    assert settings.SESSION_IDLE_TIMEOUT_SECONDS == 8 * 3600
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(admin_a)
        assert signed_in(client)
        clock.shift(timedelta(hours=7, minutes=59))
        assert signed_in(client)
        # Eight hours and a minute after the last request: the next one finds the session ended.
        clock.shift(timedelta(hours=8, minutes=1))
        response = client.get("/")
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
        assert "_auth_user_id" not in client.session
        assert not signed_in(client)


def test_a_busy_session_still_ends_at_its_maximum_age(client, admin_a, settings):
    assert settings.SESSION_COOKIE_AGE == 7 * 24 * 3600
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(admin_a)
        assert signed_in(client)
        # A request every seven hours, day and night, for almost a week: never idle for long.
        for _ in range(23):
            clock.shift(timedelta(hours=7))
            assert signed_in(client)
        clock.shift(timedelta(hours=7, minutes=1))  # a week and a minute since the first request
        assert not signed_in(client)


def test_requests_within_a_minute_do_not_write_the_session(client, admin_a):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(admin_a)
        signed_in(client)
        written = session_row(client).session_data
        clock.shift(timedelta(seconds=30))
        signed_in(client)
        assert session_row(client).session_data == written
        clock.shift(timedelta(seconds=31))
        signed_in(client)
        assert session_row(client).session_data != written


def login(client, username, password, address):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR=address,
    )


@pytest.mark.usefixtures("english")
def test_behind_our_proxy_a_lockout_is_per_client_not_per_proxy(client, admin_a, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(5):
        login(client, "admin-a", "wrong", "198.51.100.1")
    assert login(client, "admin-a", PASSWORD, "198.51.100.1").status_code == 429
    # The same account from another client of the same proxy is not locked out by the first one's failures.
    assert login(client, "admin-a", PASSWORD, "198.51.100.2").status_code == 302
