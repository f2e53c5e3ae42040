"""The hourly sweep that raises overdue rectification items: once per deadline, in the firm's time zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.factories import MembershipFactory
from tests.worksites.factories import HandoverFactory, RectificationItemFactory, WorksiteFactory
from worksites.models import RectificationItem
from worksites.services import handover as services
from worksites.tasks import handover as tasks

UTC = ZoneInfo("UTC")


def member(firm, role="project_manager", **user):
    return MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()}).user


def overdue_item(firm, *, deadline, owner=None, project_manager=None, **fields):
    with tenant_context(firm):
        handover = HandoverFactory(worksite=WorksiteFactory(project_manager=project_manager))
        return RectificationItemFactory(
            handover=handover, owner=owner or member(firm, email="owner@example.com"), deadline=deadline, **fields
        )


def notifications(firm):
    with tenant_context(firm):
        return sorted(
            (n.idempotency_key, n.channel, n.recipient, n.subject != "")
            for n in Notification.objects.filter(idempotency_key__startswith="rectification-overdue:")
        )


def sweep(firm, today=None):
    with tenant_context(firm):
        return services.rectification_items_raise_overdue(today=today)


def test_the_owner_and_the_project_manager_are_told_once_per_deadline(firm_a):
    owner = member(firm_a, email="li.gong@example.com")
    manager = member(firm_a, phone="13800138000", email="pm@example.com")
    item = overdue_item(firm_a, deadline=date(2027, 3, 9), owner=owner, project_manager=manager)
    today = date(2027, 3, 10)

    assert sweep(firm_a, today) == 1
    assert sweep(firm_a, today) == 0
    assert sweep(firm_a, today + timedelta(days=1)) == 0
    key = f"rectification-overdue:{item.pk}:2027-03-09"
    # E-mail (with a subject) to the owner, who has no phone; a text to the manager's phone.
    assert notifications(firm_a) == [
        (f"{key}:{owner.pk}", "email", "li.gong@example.com", True),
        (f"{key}:{manager.pk}", "sms", "13800138000", False),
    ]
    with tenant_context(firm_a):
        item.refresh_from_db()
        assert item.overdue_raised_on == today
        body = Notification.objects.get(recipient="13800138000").body
    assert item.description in body


def test_not_yet_due_fixed_and_closed_items_are_left_alone(firm_a):
    today = date(2027, 3, 10)
    overdue_item(firm_a, deadline=today)  # due today: not late yet
    overdue_item(firm_a, deadline=today - timedelta(days=2), status=RectificationItem.Status.FIXED)
    overdue_item(firm_a, deadline=today - timedelta(days=2), status=RectificationItem.Status.CLOSED)
    assert sweep(firm_a, today) == 0
    assert notifications(firm_a) == []


def test_the_owner_who_is_also_the_project_manager_gets_one_message(firm_a):
    foreman = member(firm_a, email="foreman@example.com")
    overdue_item(firm_a, deadline=date(2027, 3, 1), owner=foreman, project_manager=foreman)
    assert sweep(firm_a, date(2027, 3, 10)) == 1
    assert [n[2] for n in notifications(firm_a)] == ["foreman@example.com"]


def test_the_raised_items_are_marked_in_one_update_however_many(firm_a):
    for day in (1, 2, 3):
        overdue_item(firm_a, deadline=date(2027, 3, day))
    with CaptureQueriesContext(connection) as queries:
        assert sweep(firm_a, date(2027, 3, 10)) == 3
    marks = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "worksites_rectificationitem"')]
    assert len(marks) == 1


def test_a_failed_recheck_sets_a_new_deadline_that_is_raised_again(firm_a):
    owner = member(firm_a, email="owner@example.com")
    qc = member(firm_a, role="qc")
    with time_machine.travel(datetime(2027, 3, 10, 2, 0, tzinfo=UTC), tick=False):
        item = overdue_item(firm_a, deadline=date(2027, 3, 8), owner=owner)
        assert sweep(firm_a) == 1
        with tenant_context(firm_a):
            services.rectification_item_mark_fixed(item=item)
            services.rectification_item_recheck(
                item=item, passed=False, rechecked_by=qc, note="Still leaks", new_deadline=date(2027, 3, 12)
            )
        assert sweep(firm_a) == 0  # the new deadline has not passed
    with time_machine.travel(datetime(2027, 3, 13, 2, 0, tzinfo=UTC), tick=False):
        assert sweep(firm_a) == 1
        assert sweep(firm_a) == 0
    assert [n[0] for n in notifications(firm_a)] == [
        f"rectification-overdue:{item.pk}:2027-03-08:{owner.pk}",
        f"rectification-overdue:{item.pk}:2027-03-12:{owner.pk}",
    ]


def test_overdue_is_judged_by_the_firms_own_day(firm_a):
    """01:00 on 11 March in Shanghai is still 10 March in UTC: a 10 March deadline is past in the firm's
    day, though not in UTC."""
    item = overdue_item(firm_a, deadline=date(2027, 3, 10))
    with time_machine.travel(datetime(2027, 3, 10, 15, 30, tzinfo=UTC), tick=False):  # 23:30 in Shanghai
        assert sweep(firm_a) == 0
    with time_machine.travel(datetime(2027, 3, 10, 17, 0, tzinfo=UTC), tick=False):  # 01:00 on the 11th
        assert sweep(firm_a) == 1
    with tenant_context(firm_a):
        item.refresh_from_db()
    assert item.overdue_raised_on == date(2027, 3, 11)


def test_the_beat_task_sweeps_every_active_firm_and_runs_twice_safely(
    firm_a, firm_b, django_capture_on_commit_callbacks
):
    from tests.factories import TenantFactory

    dormant = TenantFactory(slug="dormant", status=Tenant.Status.SUSPENDED)
    item_a = overdue_item(firm_a, deadline=date(2027, 3, 1))
    item_b = overdue_item(firm_b, deadline=date(2027, 3, 2), owner=member(firm_b, email="b@example.com"))
    item_dormant = overdue_item(dormant, deadline=date(2027, 3, 2))
    with time_machine.travel(datetime(2027, 3, 10, 2, 0, tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_overdue_rectifications()
        tasks.sweep_overdue_rectifications()
    assert [n[0] for n in notifications(firm_a)] == [f"rectification-overdue:{item_a.pk}:2027-03-01:{item_a.owner_id}"]
    assert [n[2] for n in notifications(firm_b)] == ["b@example.com"]
    assert notifications(dormant) == []
    with tenant_context(dormant):
        assert RectificationItem.objects.get(pk=item_dormant.pk).overdue_raised_on is None
    with tenant_context(firm_b):
        assert RectificationItem.objects.get(pk=item_b.pk).overdue_raised_on == date(2027, 3, 10)


@pytest.mark.parametrize("language", ["en"])
def test_the_message_is_in_the_firms_language(firm_a, language):
    firm_a.language = language
    firm_a.save()
    overdue_item(firm_a, deadline=date(2027, 3, 1))
    overdue_item(firm_a, deadline=date(2027, 3, 9))
    sweep(firm_a, date(2027, 3, 10))
    with tenant_context(firm_a):
        message, yesterdays = Notification.objects.order_by("id")
    assert message.subject.startswith("Rectification item overdue")
    assert "9 days late" in message.body and "2027-03-01" in message.body
    assert "(1 day late)" in yesterdays.body
