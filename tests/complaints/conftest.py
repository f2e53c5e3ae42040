"""Fixtures shared by the complaints tests."""

import pytest

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.ui.conftest import browser  # noqa: F401 — the real-browser fixture, for test_browser.py
from tests.worksites.factories import WorksiteFactory


def staff(firm, role="customer_service", **user):
    """An active member of ``firm`` in ``role``; ``user`` sets fields of the user (phone, email …)."""
    return MembershipFactory(tenant=firm, role=role, **{"user__" + k: v for k, v in user.items()}).user


@pytest.fixture
def api(client, partner):
    """A client sending firm A's all-scope partner key with every request, asking for English messages."""
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


@pytest.fixture
def team(firm_a):
    """Firm A's complaint handlers: a customer service agent and a project manager on a worksite, a
    department head and a general manager set in the complaint settings."""
    from complaints.services.settings import complaint_settings_get

    class Team:
        pass

    t = Team()
    with tenant_context(firm_a):
        t.agent = staff(firm_a, "customer_service", phone="13800000001")
        t.pm = staff(firm_a, "project_manager", phone="13800000002")
        t.head = staff(firm_a, "customer_service", phone="13800000003")
        t.gm = staff(firm_a, "admin", phone="13800000004")
        t.worksite = WorksiteFactory(customer_service=t.agent, project_manager=t.pm)
        t.project = t.worksite.project
        t.customer = t.project.customer
        settings = complaint_settings_get()
        settings.department_head, settings.general_manager = t.head, t.gm
        settings.save()
    return t
