import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory
from tests.twofactor.support import code_for, enrol, password_login, wrong_code

VERIFY = reverse("twofactor:verify")
HOME = reverse("dashboard:home")


def test_after_the_password_a_user_with_a_device_must_enter_a_code_before_any_page(client, sales):
    device, _codes = enrol(sales)

    response = password_login(client, sales)
    assert response.status_code == 302

    for url in (HOME, reverse("leads:list"), reverse("twofactor:manage"), reverse("twofactor:setup")):
        held = client.get(url)
        assert held.status_code == 302
        assert held["Location"].startswith(VERIFY)
    assert client.get(f"{VERIFY}?next=/leads/").status_code == 200

    response = client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1), "next": "/leads/"})

    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    assert client.get(HOME).status_code == 200


def test_the_code_page_sends_back_to_the_page_first_asked_for_and_never_elsewhere(client, sales):
    device, _codes = enrol(sales)
    password_login(client, sales)

    held = client.get("/leads/?status=new")
    assert held["Location"] == f"{VERIFY}?next=%2Fleads%2F%3Fstatus%3Dnew"

    response = client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1), "next": "https://evil.example/"})
    assert response["Location"] == HOME


def test_a_wrong_code_is_refused_and_the_device_then_waits_before_checking_again(client, sales):
    device, _codes = enrol(sales)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        password_login(client, sales)

        wrong = client.post(VERIFY, {"otp_token": wrong_code(device)})
        assert wrong.status_code == 200
        assert "That code is not right" in wrong.content.decode()
        # django-otp's throttling: right away, even the right code is not checked.
        early = client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)})
        assert "Too many wrong codes. Try again in" in early.content.decode()

        traveller.shift(2)
        right = client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)})
        assert right.status_code == 302


def test_a_code_is_taken_once_only(client, sales):
    device, _codes = enrol(sales)
    code = code_for(device, steps_ahead=1)
    password_login(client, sales)
    assert client.post(VERIFY, {"otp_token": code}).status_code == 302

    client.post(reverse("accounts:logout"))
    password_login(client, sales)
    assert client.post(VERIFY, {"otp_token": code}).status_code == 200


def test_a_recovery_code_signs_in_once(client, sales):
    _device, codes = enrol(sales)
    password_login(client, sales)

    response = client.post(VERIFY, {"otp_token": codes[0].upper()[:4] + "-" + codes[0][4:]})

    assert response.status_code == 302
    assert client.get(HOME).status_code == 200
    assert StaticToken.objects.filter(device__user=sales).count() == 9

    client.post(reverse("accounts:logout"))
    password_login(client, sales)
    again = client.post(VERIFY, {"otp_token": codes[0]})
    assert again.status_code == 200
    assert "That code is not right" in again.content.decode()
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_a_new_sign_in_asks_again_nothing_is_remembered(client, sales):
    device, _codes = enrol(sales)
    password_login(client, sales)
    client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)})
    assert client.get(HOME).status_code == 200

    client.post(reverse("accounts:logout"))
    password_login(client, sales)

    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_while_a_code_is_owed_logout_static_files_health_and_the_portal_stay_open(client, sales):
    enrol(sales)
    password_login(client, sales)

    assert client.get("/healthz").status_code == 200
    assert client.get("/static/dashboard/app.css").status_code != 302  # (not collected in tests: 404)
    assert client.get("/portal/not-a-real-link/").status_code == 404
    assert client.post(reverse("accounts:logout"))["Location"] == reverse("accounts:login")


def test_the_api_refuses_a_session_that_owes_a_code_but_takes_an_api_key(client, sales, firm_a):
    enrol(sales)
    password_login(client, sales)

    refused = client.get("/api/v1/leads/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "two_factor_required"

    with tenant_context(firm_a):
        key = ApiKeyFactory()
    assert client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}").status_code == 200


def test_htmx_requests_are_sent_to_the_code_page_as_a_whole_page(client, sales):
    enrol(sales)
    password_login(client, sales)

    response = client.get(reverse("leads:list"), HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"].startswith(VERIFY)


def test_staff_without_a_device_sign_in_with_the_password_alone(client, sales):
    password_login(client, sales)

    assert client.get(HOME).status_code == 200
    assert client.get(VERIFY)["Location"] == HOME


def test_a_page_costs_no_query_for_two_factor_sign_in_when_nobody_set_it_up(client, sales, settings):
    """The page query budgets (tests/test_page_query_budgets.py) hold with or without it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales)
    client.get(HOME)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    with_two_factor = count()
    settings.MIDDLEWARE = [
        name for name in settings.MIDDLEWARE if not name.startswith(("django_otp.", "renocrm.twofactor."))
    ]
    assert count() == with_two_factor


def test_a_user_whose_device_was_reset_meanwhile_is_not_asked_for_a_code(client, sales):
    enrol(sales)
    password_login(client, sales)
    assert client.get(HOME)["Location"].startswith(VERIFY)

    call_command("twofactor_reset", sales.username)

    assert client.get(f"{VERIFY}?next=/leads/")["Location"] == "/leads/"
    assert client.get(HOME).status_code == 200
