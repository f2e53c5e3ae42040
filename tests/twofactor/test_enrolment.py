import re

from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from renocrm.twofactor import session as twofactor_session
from tests.twofactor.support import code_for, enrol, password_login, verify_session

SETUP = reverse("twofactor:setup")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_setup_page_draws_the_qr_code_inline_and_breaks_no_content_security_policy(client, sales):
    client.force_login(sales)

    response = client.get(SETUP)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<svg class="qr-code"' in page
    assert "<img" not in page.split('<main id="main"')[1]  # no image file or data: URL carries the secret
    assert not INLINE_SCRIPT.search(page)
    assert ' style="' not in page and "<style" not in page and " onclick=" not in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # The key typed by hand is the one in the QR code, and the one the session will confirm.
    key = client.session[twofactor_session.PENDING_KEY]
    secret = re.search(r'data-testid="twofactor-secret">([A-Z2-7 ]+)<', page).group(1)
    assert secret.replace(" ", "") == __import__("base64").b32encode(bytes.fromhex(key)).decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_enrolling_with_a_real_code_turns_it_on_and_shows_ten_recovery_codes_once(client, sales):
    client.force_login(sales)
    client.get(SETUP)
    key = client.session[twofactor_session.PENDING_KEY]

    response = client.post(SETUP, {"otp_token": code_for(key), "next": "/leads/"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("twofactor:recovery-codes"))
    device = TOTPDevice.objects.get(user=sales)
    assert device.confirmed and device.key == key
    shown = client.get(response["Location"])
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", shown.content.decode())
    assert len(set(codes)) == 10
    assert sorted(StaticToken.objects.filter(device__user=sales).values_list("token", flat=True)) == sorted(
        code.replace("-", "") for code in codes
    )
    assert 'href="/leads/"' in shown.content.decode()
    # Shown once only.
    assert client.get(response["Location"])["Location"] == reverse("twofactor:manage")
    # This session entered the code: no second code is asked for.
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_wrong_code_at_set_up_turns_nothing_on(client, sales):
    client.force_login(sales)
    client.get(SETUP)
    key = client.session[twofactor_session.PENDING_KEY]
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"

    response = client.post(SETUP, {"otp_token": wrong})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=sales).exists()
    assert client.session[twofactor_session.PENDING_KEY] == key  # the same QR code is offered again


def test_new_recovery_codes_replace_the_old_ones_after_an_authenticator_code(client, sales):
    device, old_codes = enrol(sales)
    client.force_login(sales)
    verify_session(client, device)

    refused = client.post(reverse("twofactor:regenerate"), {"otp_token": old_codes[0]})
    assert refused.status_code == 400  # a recovery code does not make new recovery codes
    response = client.post(reverse("twofactor:regenerate"), {"otp_token": code_for(device, steps_ahead=1)})

    assert response["Location"] == reverse("twofactor:recovery-codes")
    new_codes = set(StaticToken.objects.filter(device__user=sales).values_list("token", flat=True))
    assert len(new_codes) == 10 and not new_codes & set(old_codes)


def test_turning_it_off_asks_a_current_code(client, sales):
    device, codes = enrol(sales)
    client.force_login(sales)
    verify_session(client, device)

    refused = client.post(reverse("twofactor:disable"), {"otp_token": "000000"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=sales).exists()

    response = client.post(reverse("twofactor:disable"), {"otp_token": codes[3]})

    assert response["Location"] == reverse("twofactor:manage")
    assert not TOTPDevice.objects.filter(user=sales).exists()
    assert not StaticToken.objects.filter(device__user=sales).exists()
    assert client.get(reverse("dashboard:home")).status_code == 200
    # The next sign-in asks for the password only.
    client.post(reverse("accounts:logout"))
    password_login(client, sales)
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_management_page_shows_the_state_and_set_up_link(client, sales):
    client.force_login(sales)
    page = client.get(reverse("twofactor:manage")).content.decode()
    assert "You sign in with your password alone." in page
    assert SETUP in page

    device, _codes = enrol(sales)
    verify_session(client, device)
    page = client.get(reverse("twofactor:manage")).content.decode()
    assert 'data-testid="codes-left">10<' in page
    assert reverse("twofactor:disable") in page
