import pytest

from renocrm.accounts.roles import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def english(settings, firm_a):
    """Pages in English (the firm's language and the default), so assertions read the source strings."""
    settings.LANGUAGE_CODE = "en"
    firm_a.language = "en"
    firm_a.save(update_fields=["language"])


def member(firm, role, username):
    return MembershipFactory(tenant=firm, role=role, user=UserFactory(username=username, language="en")).user


@pytest.fixture
def admin(firm_a):
    return member(firm_a, Role.ADMIN, "admin-a")


@pytest.fixture
def second_admin(firm_a):
    return member(firm_a, Role.ADMIN, "admin-a2")


@pytest.fixture
def sales(firm_a):
    return member(firm_a, Role.SALES, "sales-a")


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_superuser=True, is_staff=True, language="en")
