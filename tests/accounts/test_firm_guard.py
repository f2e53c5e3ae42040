"""A form posts into the firm it was rendered for: a person of two firms who switched firm in another tab is
refused, with nothing written, when they send a form of the firm they left."""

import re

import pytest
from django.test import Client

from leads.models import Customer
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def two_firm_user(firm_a, firm_b):
    user = UserFactory(username="both", name="Both Firms")
    for firm in (firm_a, firm_b):
        MembershipFactory(tenant=firm, user=user, role=Role.ADMIN)
        firm.language = "en"
        firm.save(update_fields=["language"])
    return user


def test_a_form_of_the_firm_left_in_another_tab_is_refused_and_writes_nothing(two_firm_user, firm_a, firm_b):
    tab = Client(HTTP_ACCEPT_LANGUAGE="en")
    tab.force_login(two_firm_user)
    tab.post("/accounts/switch-firm/", {"tenant": firm_a.pk})
    form = tab.get("/leads/customers/new/").content.decode()
    rendered_for = re.search(r'name="_firm" value="(\d+)"', form)[1]
    assert rendered_for == str(firm_a.pk)

    tab.post("/accounts/switch-firm/", {"tenant": firm_b.pk})  # "another tab": the same session
    sent = tab.post("/leads/customers/new/", {"_firm": rendered_for, "name": "Wang Fang", "mobile": "13800138000"})
    assert sent.status_code == 409
    assert "You opened this form while working in Firm A" in sent.content.decode()
    for firm in (firm_a, firm_b):
        with tenant_context(firm):
            assert not Customer.objects.exists()

    # The same form sent for the firm now in use goes through.
    sent = tab.post("/leads/customers/new/", {"_firm": str(firm_b.pk), "name": "Wang Fang", "mobile": "13800138000"})
    assert sent.status_code == 302
    with tenant_context(firm_b):
        assert Customer.objects.get().name == "Wang Fang"


def test_htmx_requests_carry_the_firm_as_a_header(two_firm_user, firm_a, firm_b):
    tab = Client(HTTP_ACCEPT_LANGUAGE="en")
    tab.force_login(two_firm_user)
    tab.post("/accounts/switch-firm/", {"tenant": firm_a.pk})
    page = tab.get("/").content.decode()
    assert f'"X-RenoCRM-Firm": "{firm_a.pk}"' in page
    refused = tab.post("/leads/customers/new/", {"name": "X"}, HTTP_X_RENOCRM_FIRM=str(firm_b.pk))
    assert refused.status_code == 409
    # Switching firm and signing out are meant to cross firms.
    assert tab.post("/accounts/switch-firm/", {"tenant": firm_b.pk, "_firm": str(firm_a.pk)}).status_code == 302
