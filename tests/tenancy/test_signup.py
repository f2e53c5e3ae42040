"""A new firm signs up: open (a trial at once, its admin signed in), with the operator's approval (awaiting it),
or closed; every mistake shown at once; the guards against abuse."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from renocrm.accounts.models import Membership
from renocrm.tenancy import views
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from renocrm.tenancy.services import firm_slug
from tests.factories import MembershipFactory, UserFactory
from worksites.models import PhaseKind, PhaseTemplate
from worksites.services.schedule import DEFAULT_TEMPLATE, phase_templates_get

SIGNUP, LOGIN, HOME = reverse("tenancy:signup"), reverse("accounts:login"), reverse("dashboard:home")
IP = "198.51.100.7"
User = get_user_model()


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The attempt counter lives in Redis, beyond the test's transaction: each test starts from none."""
    cache.delete(f"firm-signup:{IP}")
    yield
    cache.delete(f"firm-signup:{IP}")


@pytest.fixture
def visitor(db):
    return Client(REMOTE_ADDR=IP)


def form(**changes):
    data = {
        "firm_name": "Bright Home Renovation",
        "admin_name": "Chen Jing",
        "mobile": "13912345678",
        "email": "chen.jing@example.com",
        "password": "tiles-and-grout-2026",
        "website": "",
    }
    return {**data, **changes}


def log_in(client):
    return client.post(LOGIN, {"username": "13912345678", "password": "tiles-and-grout-2026"})


def test_an_open_sign_up_starts_a_trial_and_signs_the_admin_in(visitor):
    assert visitor.get(SIGNUP).status_code == 200

    response = visitor.post(SIGNUP, form())

    assert response.status_code == 302 and response["Location"] == HOME
    firm = Tenant.objects.get(name="Bright Home Renovation")
    assert (firm.status, firm.is_active, firm.language) == (Tenant.Status.TRIAL, True, "en")
    assert firm.slug.startswith("bright-home-renovation-") and firm.status_changed_at is not None
    admin = User.objects.get(username="13912345678")
    assert (admin.name, admin.phone, admin.email) == ("Chen Jing", "13912345678", "chen.jing@example.com")
    assert admin.check_password("tiles-and-grout-2026")
    membership = Membership.objects.get(user=admin)
    assert (membership.tenant, membership.roles, membership.is_active) == (firm, ["admin"], True)
    home = visitor.get(HOME)
    assert home.status_code == 200 and "Bright Home Renovation" in home.content.decode()
    # The admin signs in again with the mobile number.
    visitor.post(reverse("accounts:logout"))
    assert log_in(Client(REMOTE_ADDR=IP))["Location"] == HOME


def test_the_new_firm_works_with_the_products_defaults_in_its_language(visitor):
    visitor.post(SIGNUP, form())
    firm = Tenant.objects.get(name="Bright Home Renovation")

    for name in ("tenancy:settings", "tenancy:firm-profile", "worksites:template", "callbacks:plan", "aftercare:rules"):
        assert visitor.get(reverse(name)).status_code == 200, name
    with tenant_context(firm):
        template = phase_templates_get()
        assert [row.kind for row in template] == [kind for kind, _, _ in DEFAULT_TEMPLATE]
        with translation.override("en"):
            assert [row.name for row in template] == [str(PhaseKind(kind).label) for kind, _, _ in DEFAULT_TEMPLATE]
        assert template[0].name == "Technical handover", "in the firm's language, English"
        assert PhaseTemplate.objects.count() == len(DEFAULT_TEMPLATE)


def test_with_approval_the_firm_waits_and_its_admin_is_told_so(visitor, settings):
    settings.FIRM_SIGNUP = "approval"

    response = visitor.post(SIGNUP, form())

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="signup-pending"' in page and "awaiting approval" in page
    assert "_auth_user_id" not in visitor.session
    firm = Tenant.objects.get(name="Bright Home Renovation")
    assert (firm.status, firm.is_active) == (Tenant.Status.PENDING, False)
    # Signing in before the approval: the no-firm page says why.
    assert log_in(visitor)["Location"] == HOME
    refused = visitor.get(HOME)
    assert refused.status_code == 403
    assert "Bright Home Renovation is awaiting approval" in refused.content.decode()


def test_closed_sign_up_has_no_page_and_creates_nothing(visitor, settings):
    settings.FIRM_SIGNUP = "closed"

    assert visitor.get(SIGNUP).status_code == 404
    response = visitor.post(SIGNUP, form())

    assert response.status_code == 404 and "Sign-up is closed" in response.content.decode()
    assert not Tenant.objects.exists() and not User.objects.exists()
    assert 'data-testid="signup-link"' not in visitor.get(LOGIN).content.decode()


def test_the_login_page_links_to_sign_up_while_it_is_open(visitor, settings):
    page = visitor.get(LOGIN).content.decode()
    assert 'data-testid="signup-link"' in page and f'href="{SIGNUP}"' in page
    settings.FIRM_SIGNUP = "approval"
    assert 'data-testid="signup-link"' in visitor.get(LOGIN).content.decode()


def test_a_mobile_number_or_e_mail_with_an_account_is_refused_on_its_field(visitor):
    UserFactory(username="someone", phone="13912345678", email="taken@example.com")

    response = visitor.post(SIGNUP, form(mobile="+86 139 1234 5678"))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["mobile"]
    response = visitor.post(SIGNUP, form(mobile="13700000000", email="Taken@Example.com"))
    assert list(response.context["form"].errors) == ["email"]
    assert not Tenant.objects.exists()


def test_every_mistake_is_shown_at_once(visitor):
    UserFactory(username="13912345678", email="taken@example.com")

    response = visitor.post(SIGNUP, form(firm_name="", admin_name="", email="taken@example.com", password="123"))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"firm_name", "admin_name", "mobile", "email", "password"}
    assert "already has an account" in errors["mobile"][0] and "already has an account" in errors["email"][0]
    assert any("too short" in text for text in errors["password"])
    page = response.content.decode()
    assert page.count('class="field__error"') >= 5
    assert 'value="taken@example.com"' in page, "what was typed is kept"
    assert not Tenant.objects.exists()


def test_a_mobile_number_that_is_not_one_is_refused(visitor):
    response = visitor.post(SIGNUP, form(mobile="12345"))
    assert list(response.context["form"].errors) == ["mobile"]


def test_a_filled_in_hidden_field_creates_nothing(visitor):
    response = visitor.post(SIGNUP, form(website="http://spam.example"))

    assert response.status_code == 400
    assert not Tenant.objects.exists() and not User.objects.exists()


def test_too_many_attempts_from_one_address_are_refused_for_an_hour(visitor):
    for _ in range(views.SIGNUP_ATTEMPTS):
        assert visitor.post(SIGNUP, form(password="1")).status_code == 400

    response = visitor.post(SIGNUP, form())

    assert response.status_code == 429
    assert "Too many sign-up attempts" in response.content.decode()
    assert not Tenant.objects.exists()
    assert Client(REMOTE_ADDR="198.51.100.8").get(SIGNUP).status_code == 200


def test_someone_signed_in_is_sent_to_their_dashboard(firm_a, visitor):
    visitor.force_login(MembershipFactory(tenant=firm_a).user)

    assert visitor.get(SIGNUP)["Location"] == HOME
    visitor.post(SIGNUP, form())
    assert Tenant.objects.count() == 1


def test_slugs_are_unique_and_readable_where_the_name_allows():
    first, second = firm_slug("Bright Home"), firm_slug("Bright Home")
    assert first != second and first.startswith("bright-home-")
    assert firm_slug("上海美居装饰工程有限公司").startswith("firm-")
    assert len(firm_slug("x" * 200)) <= 60
