import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from renocrm.twofactor import session as twofactor_session
from tests.twofactor.support import code_for, enrol, password_login

SETUP = reverse("twofactor:setup")
VERIFY = reverse("twofactor:verify")
HOME = reverse("dashboard:home")


@pytest.fixture
def firm_requires(firm_a):
    firm_a.require_admin_two_factor = True
    firm_a.save(update_fields=["require_admin_two_factor"])
    return firm_a


def test_an_admin_of_a_firm_that_requires_it_is_sent_to_set_it_up_before_anything(client, admin, firm_requires):
    password_login(client, admin)

    for url in (HOME, reverse("leads:list"), reverse("twofactor:manage"), reverse("twofactor:policy")):
        held = client.get(url)
        assert held.status_code == 302
        assert held["Location"].startswith(SETUP), url
    assert client.get(f"{SETUP}?next=/leads/").status_code == 200
    key = client.session[twofactor_session.PENDING_KEY]

    enrolled = client.post(SETUP, {"otp_token": code_for(key), "next": "/leads/"})

    assert enrolled["Location"] == f"{reverse('twofactor:recovery-codes')}?next=%2Fleads%2F"
    assert client.get(HOME).status_code == 200


def test_the_requirement_holds_for_admins_only_and_only_where_the_firm_sets_it(client, admin, sales, firm_a):
    password_login(client, admin)
    assert client.get(HOME).status_code == 200  # the firm does not require it

    firm_a.require_admin_two_factor = True
    firm_a.save(update_fields=["require_admin_two_factor"])
    assert client.get(HOME)["Location"].startswith(SETUP)  # from the next page on

    client.post(reverse("accounts:logout"))
    password_login(client, sales)
    assert client.get(HOME).status_code == 200  # other staff may choose


def test_a_required_user_cannot_turn_it_off(client, admin, firm_requires):
    device, codes = enrol(admin)
    password_login(client, admin)
    client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)})

    response = client.post(reverse("twofactor:disable"), {"otp_token": codes[0]})

    assert response["Location"] == reverse("twofactor:manage")
    assert TOTPDevice.objects.filter(user=admin).exists()
    assert reverse("twofactor:disable") not in client.get(reverse("twofactor:manage")).content.decode()


def test_the_operator_must_always_set_it_up_also_for_the_platform_admin(client, operator):
    password_login(client, operator)

    held = client.get("/platform-admin/")
    assert held["Location"] == f"{SETUP}?next=%2Fplatform-admin%2F"
    client.get(SETUP)
    key = client.session[twofactor_session.PENDING_KEY]
    client.post(SETUP, {"otp_token": code_for(key)})

    assert client.get("/platform-admin/").status_code == 200


def test_the_operator_with_a_device_enters_a_code_before_the_platform_admin(client, operator):
    device, _codes = enrol(operator)
    client.post(reverse("admin:login"), {"username": "operator", "password": "pass-for-tests-1"})

    assert client.get("/platform-admin/")["Location"] == f"{VERIFY}?next=%2Fplatform-admin%2F"
    client.post(VERIFY, {"otp_token": code_for(device, steps_ahead=1)})
    assert client.get("/platform-admin/").status_code == 200
