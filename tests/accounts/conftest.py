import pytest

from renocrm.accounts.roles import Role
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "pass-for-tests-1"


def member(firm, role, username, name):
    return MembershipFactory(tenant=firm, role=role, user=UserFactory(username=username, name=name)).user


@pytest.fixture
def admin_a(firm_a):
    return member(firm_a, Role.ADMIN, "admin-a", "Wang Fang")


@pytest.fixture
def sales_a(firm_a):
    return member(firm_a, Role.SALES, "sales-a", "Li Lei")


@pytest.fixture
def english(settings):
    """Pages in English, so assertions read the source strings."""
    settings.LANGUAGE_CODE = "en"
