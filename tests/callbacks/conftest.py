"""Fixtures shared by the callbacks tests."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from callbacks.services import plan
from renocrm.outbox import sms
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.worksites.test_handover_services import add_required_documents, open_worksite, pass_all
from worksites.services import handover as handover_services


@pytest.fixture(autouse=True)
def sms_outbox():
    """The SMS messages sent in this test (the in-memory backend)."""
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


HANDED_OVER_ON = date(2026, 1, 31)


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def member(firm, role="customer_service", **user):
    return MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()}).user


@pytest.fixture
def agent(firm):
    """A customer-service agent of firm A with a phone for the assignment texts."""
    return member(firm, name="Zhou Min", phone="13700000001")


def hand_over(*, number="HT-001", on: date | None = None, customer_service=None, by=None):
    """A worksite handed over through the real services (on ``on``, travelling there if given), so the
    callbacks are written by the ``project.handed_over`` handler. Call inside the firm's context."""

    def run():
        worksite = open_worksite(number)
        if customer_service is not None:
            worksite.customer_service = customer_service
            worksite.save(update_fields=["customer_service"])
        foreman = by or member(worksite.tenant, role="project_manager")
        handover = handover_services.handover_start(worksite=worksite, started_by=foreman)
        pass_all(handover, foreman)
        add_required_documents(handover, foreman)
        handover_services.handover_complete(handover=handover, completed_by=foreman, on=on)
        worksite.refresh_from_db()
        return worksite

    if on is None:
        return run()
    # 11:00 in Shanghai on that day.
    with time_machine.travel(datetime(on.year, on.month, on.day, 3, 0, tzinfo=UTC), tick=False):
        return run()


def handover_steps_only():
    """The default plan with its construction milestones switched off, so that finishing the phases on the
    way to a handover writes no callbacks and the handover's are the only ones. Call inside the firm."""
    rows = [
        {
            "id": step.pk,
            "name": step.name,
            "anchor": step.anchor,
            "phase_kind": step.phase_kind,
            "offset": step.offset,
            "unit": step.unit,
            "method": step.method,
            "is_active": step.anchor == step.Anchor.HANDOVER,
        }
        for step in plan.plan_steps()
    ]
    return [step for step in plan.plan_save(rows=rows) if step.is_active]


@pytest.fixture
def handed_over(firm, agent):
    """A worksite of firm A handed over on Saturday 31 January 2026 with the default plan's handover steps
    (``handover_steps_only``); its customer-service agent is ``agent``. Its callbacks fall due on 4 February
    (3 working days), 28 February, 30 April, 31 July 2026 and 31 January 2027."""
    handover_steps_only()
    return hand_over(on=HANDED_OVER_ON, customer_service=agent)
