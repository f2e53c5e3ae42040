"""The weekly callback report e-mail: on Monday from 08:00 in each firm's own time zone, last week's figures
to the firm's admins who have an e-mail address, once per week and recipient, in the firm's language, with
mobile numbers masked and a link to the full report."""

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.core import mail

from callbacks.models import Callback
from renocrm.accounts.roles import Role
from renocrm.dashboard import tasks
from renocrm.dashboard.reports.weekly_email import weekly_callback_report_send
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.callbacks.factories import CallbackFactory, SurveyFactory
from tests.dashboard.report_fixtures import member

# Monday 23 November 2026: 08:45 in Shanghai is 00:45 in London.
SUNDAY_0745_SHANGHAI = datetime(2026, 11, 22, 23, 45, tzinfo=UTC)
MONDAY_0845_SHANGHAI = datetime(2026, 11, 23, 0, 45, tzinfo=UTC)
MONDAY_0845_LONDON = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
LAST_WEEK = "2026-11-16"


def last_week_data(firm, *, mobile):
    """Last week in ``firm``: one unreachable callback, two surveys (one satisfied), and a callback of the
    week before that the report must leave out."""
    with tenant_context(firm):
        unreachable = CallbackFactory(due_on=date(2026, 11, 18), status=Callback.Status.UNREACHABLE)
        unreachable.customer.mobile, unreachable.customer.name = mobile, "Zhao Lei"
        unreachable.customer.save()
        noon = datetime(2026, 11, 17, 4, 0, tzinfo=UTC)
        SurveyFactory(callback__due_on=date(2026, 11, 17), submitted_at=noon, overall=5, nps=10)
        SurveyFactory(callback__due_on=date(2026, 11, 19), submitted_at=noon, overall=2, nps=4)
        CallbackFactory(due_on=date(2026, 11, 12), status=Callback.Status.UNREACHABLE)


@pytest.fixture
def firms(firm_a, firm_b):
    """Firm A in Shanghai speaking Chinese, firm B in London speaking English; each with an admin who has
    an e-mail address, an admin without one and a customer-service agent."""
    firm_b.time_zone, firm_b.language = "Europe/London", "en"
    firm_b.save()
    people = {}
    for firm, tag in ((firm_a, "a"), (firm_b, "b")):
        people[tag] = member(firm, Role.ADMIN, username=f"boss-{tag}", email=f"boss-{tag}@example.com")
        member(firm, Role.ADMIN, username=f"no-mail-{tag}", email="")
        member(firm, Role.CUSTOMER_SERVICE, username=f"agent-{tag}", email=f"agent-{tag}@example.com")
    last_week_data(firm_a, mobile="13812341234")
    last_week_data(firm_b, mobile="13987654321")
    return people


@pytest.fixture(autouse=True)
def empty_outbox():
    mail.outbox.clear()


def sweep(at, capture):
    with time_machine.travel(at, tick=False), capture(execute=True):
        tasks.sweep_weekly_callback_reports()


def sent_to():
    return sorted(message.to[0] for message in mail.outbox)


def test_each_firm_gets_it_on_its_own_monday_morning_once(firm_a, firm_b, firms, django_capture_on_commit_callbacks):
    sweep(SUNDAY_0745_SHANGHAI, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    sweep(MONDAY_0845_SHANGHAI, django_capture_on_commit_callbacks)
    assert sent_to() == ["boss-a@example.com"]
    sweep(MONDAY_0845_SHANGHAI + timedelta(minutes=5), django_capture_on_commit_callbacks)
    assert sent_to() == ["boss-a@example.com"]
    sweep(MONDAY_0845_LONDON, django_capture_on_commit_callbacks)
    sweep(MONDAY_0845_LONDON + timedelta(hours=1), django_capture_on_commit_callbacks)
    assert sent_to() == ["boss-a@example.com", "boss-b@example.com"]
    # Tuesday: nothing more this week.
    sweep(MONDAY_0845_LONDON + timedelta(days=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    for firm, tag in ((firm_a, "a"), (firm_b, "b")):
        with tenant_context(firm):
            keys = list(Notification.objects.values_list("idempotency_key", flat=True))
        assert keys == [f"weekly-callback-report:{LAST_WEEK}:{firms[tag].pk}"]


def test_an_admin_added_on_monday_gets_their_own_copy(firm_a, firms):
    with tenant_context(firm_a):
        assert weekly_callback_report_send(now=MONDAY_0845_SHANGHAI) == 1
        late = member(firm_a, Role.ADMIN, username="late", email="late@example.com")
        assert weekly_callback_report_send(now=MONDAY_0845_SHANGHAI + timedelta(hours=1)) == 1
        assert weekly_callback_report_send(now=MONDAY_0845_SHANGHAI + timedelta(hours=2)) == 0
        assert sorted(Notification.objects.values_list("recipient", flat=True)) == [
            "boss-a@example.com",
            late.email,
        ]


def test_before_eight_on_monday_nothing_is_sent(firm_a, firms):
    with tenant_context(firm_a):
        assert weekly_callback_report_send(now=datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == 0
        assert weekly_callback_report_send(now=datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == 1


def test_the_e_mail_speaks_the_firms_language_and_masks_mobiles(firms, django_capture_on_commit_callbacks):
    sweep(MONDAY_0845_SHANGHAI, django_capture_on_commit_callbacks)
    sweep(MONDAY_0845_LONDON, django_capture_on_commit_callbacks)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    chinese, english = by_recipient["boss-a@example.com"], by_recipient["boss-b@example.com"]
    assert "2026-11-16" in english.subject and "2026-11-22" in english.subject and "Firm B" in english.subject
    body = english.body
    for line in (
        "Planned callbacks: 3",
        "Done: 2",
        "Unreachable: 1",
        "Surveys answered: 2",
        "Satisfied (%): 50.0",
        "Net promoter score: 0.0",
    ):
        assert line in body
    assert "- 2026-11-18 Zhao Lei 139****4321" in body
    assert "13987654321" not in body
    url = f"{settings.SITE_URL}/reports/callbacks/?period=custom&start=2026-11-16&end=2026-11-22"
    assert url in body
    # Firm A's e-mail is in Chinese (where the strings are translated) and masks its own homeowner's mobile.
    assert "已完成: 2" in chinese.body and "无法联系" in chinese.body
    assert "138****1234" in chinese.body and "13812341234" not in chinese.body
    assert url in chinese.body


def test_the_e_mail_carries_the_report_as_an_excel_file_with_masked_mobiles(firms, django_capture_on_commit_callbacks):
    sweep(MONDAY_0845_LONDON, django_capture_on_commit_callbacks)
    (message,) = [message for message in mail.outbox if message.to == ["boss-b@example.com"]]
    ((name, content, mimetype),) = message.attachments
    assert name == "Callback report_2026-11-16.xlsx"
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = [str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert "139****4321" in cells and "13987654321" not in " ".join(cells)
    assert "Zhao Lei" in cells
