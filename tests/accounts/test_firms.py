import pytest
from django.urls import reverse

from renocrm.accounts.roles import Role
from renocrm.tenancy.models import Tenant
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def two_firm_user(firm_a, firm_b):
    user = UserFactory(username="designer-ab", name="Chen Jing")
    MembershipFactory(user=user, tenant=firm_a, role=Role.DESIGNER)
    MembershipFactory(user=user, tenant=firm_b, role=Role.ADMIN)
    return user


def firm_shown(client):
    return client.get(reverse("dashboard:home")).context["current_firm"]


def test_switching_to_an_own_firm_changes_the_working_firm(client, two_firm_user, firm_a, firm_b):
    client.force_login(two_firm_user)
    assert firm_shown(client) == firm_a

    response = client.post(reverse("accounts:switch-firm"), {"tenant": firm_b.pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    page = client.get(reverse("dashboard:home"))
    assert page.context["current_firm"] == firm_b
    assert "You are now working in Firm B." in page.content.decode()
    # The role follows the firm.
    assert page.context["membership"].role == Role.ADMIN


def test_switching_to_someone_elses_firm_is_not_found_and_changes_nothing(client, admin_a, firm_b):
    client.force_login(admin_a)

    response = client.post(reverse("accounts:switch-firm"), {"tenant": firm_b.pk})

    assert response.status_code == 404
    assert firm_shown(client).slug == "firm-a"


def test_switching_to_a_missing_firm_answers_like_a_foreign_one(client, admin_a, firm_b):
    client.force_login(admin_a)
    missing = Tenant.objects.order_by("-pk").first().pk + 100

    assert client.post(reverse("accounts:switch-firm"), {"tenant": missing}).status_code == 404
    assert client.post(reverse("accounts:switch-firm"), {"tenant": "x"}).status_code == 404


def test_switching_to_a_firm_the_user_left_is_not_found(client, two_firm_user, firm_b):
    two_firm_user.memberships.filter(tenant=firm_b).update(is_active=False)
    client.force_login(two_firm_user)

    assert client.post(reverse("accounts:switch-firm"), {"tenant": firm_b.pk}).status_code == 404


def test_switch_firm_needs_a_post(client, two_firm_user, firm_b):
    client.force_login(two_firm_user)

    assert client.get(reverse("accounts:switch-firm"), {"tenant": firm_b.pk}).status_code == 405


def test_firm_switcher_is_shown_only_to_users_of_several_firms(client, two_firm_user, admin_a):
    switch_url = reverse("accounts:switch-firm")
    client.force_login(two_firm_user)
    assert switch_url in client.get(reverse("dashboard:home")).content.decode()

    client.force_login(admin_a)
    assert switch_url not in client.get(reverse("dashboard:home")).content.decode()


def test_switcher_lists_only_the_users_own_firms(client, two_firm_user):
    TenantFactory(name="Firm C", slug="firm-c")
    client.force_login(two_firm_user)

    html = client.get(reverse("dashboard:home")).content.decode()

    assert "Firm B" in html
    assert "Firm C" not in html
