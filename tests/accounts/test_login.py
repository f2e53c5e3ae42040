import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.accounts.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")


def login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_with_right_password_lands_on_the_dashboard(client, admin_a):
    response = login(client, "admin-a", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Hello, Wang Fang" in page.content.decode()
    assert "Firm A" in page.content.decode()


def test_wrong_password_shows_the_form_again_and_signs_nobody_in(client, admin_a):
    response = login(client, "admin-a", "not-the-password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("dashboard:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=/")


def test_logout_signs_out_by_post_only(client, admin_a):
    client.force_login(admin_a)

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_five_failures_lock_the_account_even_for_the_right_password(client, admin_a):
    for _ in range(4):
        assert login(client, "admin-a", "wrong").status_code == 200

    locked = login(client, "admin-a", "wrong")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()

    response = login(client, "admin-a", PASSWORD)
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_user_and_address(client, admin_a, sales_a):
    for _ in range(5):
        login(client, "admin-a", "wrong")

    assert login(client, "sales-a", PASSWORD).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client, admin_a):
    response = client.post(reverse("accounts:password-reset"), {"email": admin_a.email})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [admin_a.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", message.body).group(1)

    # The token in the link is swapped for a session marker on the first visit.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Bamboo-roof-72", "new_password2": "Bamboo-roof-72"}
    )
    assert done["Location"] == reverse("accounts:password-reset-complete")

    assert login(client, "admin-a", PASSWORD).status_code == 200
    assert login(client, "admin-a", "Bamboo-roof-72").status_code == 302


def test_password_reset_for_an_unknown_address_sends_nothing_and_looks_the_same(client, db):
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-done")
    assert mail.outbox == []


def test_a_used_reset_link_no_longer_works(client, admin_a):
    client.post(reverse("accounts:password-reset"), {"email": admin_a.email})
    link = re.search(r"(/accounts/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "Bamboo-roof-72", "new_password2": "Bamboo-roof-72"})

    again = client.get(link, follow=True)

    assert again.context["validlink"] is False
    assert "This link no longer works" in again.content.decode()


def test_signed_in_user_without_a_firm_sees_the_no_firm_page(client, db):
    UserFactory(username="loner")

    response = login(client, "loner", PASSWORD)
    page = client.get(response["Location"])

    assert page.status_code == 403
    assert "You are not a member of any firm" in page.content.decode()
    assert client.get(reverse("accounts:no-firm")).status_code == 200


def test_member_opening_the_no_firm_page_goes_to_the_dashboard(client, admin_a):
    client.force_login(admin_a)

    response = client.get(reverse("accounts:no-firm"))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
