import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.twofactor.support import code_for, enrol, password_login, wrong_code

VERIFY = reverse("twofactor:verify")


def test_wrong_codes_lock_the_account_out_as_wrong_passwords_do(client, sales):
    device, codes = enrol(sales)
    limit = settings.AXES_FAILURE_LIMIT
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        password_login(client, sales)
        for _ in range(limit - 1):
            refused = client.post(VERIFY, {"otp_token": wrong_code(device)})
            assert refused.status_code == 200
            assert "That code is not right" in refused.content.decode()
            traveller.shift(60)  # past django-otp's wait, which is not what this test is about

        locked = client.post(VERIFY, {"otp_token": wrong_code(device)})

        assert locked.status_code == 429
        assert "Too many failed log-in attempts" in locked.content.decode()
        # The half-signed-in session is over, and the password step is locked too, even the right password.
        assert "_auth_user_id" not in client.session
        again = password_login(client, sales)
        assert again.status_code == 429
        assert "_auth_user_id" not in client.session

    attempt = AccessAttempt.objects.get(username=sales.username)
    assert attempt.failures_since_start >= limit
    # The codes typed are not recorded.
    assert "otp_token=****" in attempt.post_data
    assert codes[0] not in attempt.post_data


def test_a_right_code_clears_earlier_wrong_ones(client, sales):
    device, _codes = enrol(sales)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        password_login(client, sales)
        client.post(VERIFY, {"otp_token": wrong_code(device)})
        traveller.shift(5)
        assert client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)}).status_code == 302

    assert not AccessAttempt.objects.filter(username=sales.username).exists()


def test_while_locked_out_not_even_the_right_code_is_checked(client, sales):
    device, codes = enrol(sales)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        password_login(client, sales)
        client.post(VERIFY, {"otp_token": wrong_code(device)})
        # Another client at the same address fails the password until the limit; this session is then locked.
        other = client.__class__()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            password_login(other, sales, password="wrong")
        traveller.shift(60)

        response = client.post(VERIFY, {"otp_token": codes[0]})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert device.user.staticdevice_set.get().token_set.count() == 10  # the recovery code was not spent
