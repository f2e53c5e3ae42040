"""WeCom group robots: each robot gets the notices of the kinds it takes, posted once, against a local fake of
WeCom's robot webhook."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from callbacks.models import Callback
from callbacks.services.overdue import callbacks_overdue_announce
from renocrm.outbox import notice_settings, services, wecom
from renocrm.outbox.models import Notification, OutboxEvent, WecomRobot
from renocrm.tenancy.context import tenant_context
from tests.callbacks.factories import CallbackFactory
from tests.outbox.fakes import FakeWecom

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fake(settings):
    server = FakeWecom()
    settings.WECOM_WEBHOOK_URL = server.base
    # The fake listens on loopback: allowed here, refused in production.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    yield server
    server.close()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def robot(fake, name, kinds, key, **fields):
    return notice_settings.wecom_robot_create(name=name, webhook_url=f"{fake.base}?key={key}", kinds=kinds, **fields)


def dispatch(event_type, payload) -> OutboxEvent:
    event = services.event_emit(event_type=event_type, payload=payload)
    services.event_dispatch(event_id=event.pk)
    return event


def deliver_all():
    for note in Notification.objects.filter(channel=Notification.Channel.WECOM, status="pending").order_by("pk"):
        services.notification_deliver(notification_id=note.pk)


def test_the_robot_address_must_be_wecoms(settings):
    settings.WECOM_WEBHOOK_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    good = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert wecom.check_webhook_url(f"  {good} ") == good
    for bad in (
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
        "https://qyapi.weixin.qq.com.evil.cn/cgi-bin/webhook/send?key=693a91f6-7xxx",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx&debug=1",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a b",
        "https://169.254.169.254/cgi-bin/webhook/send?key=693a91f6-7xxx",
    ):
        with pytest.raises(ValidationError):
            wecom.check_webhook_url(bad)
    assert wecom.masked_url(good) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=••••5aaa"


def test_a_new_lead_goes_to_the_sales_robot_once(fake, firm):
    robot(fake, "Sales", [WecomRobot.Kind.NEW_LEADS], "sales-key-0001")
    robot(fake, "Service", [WecomRobot.Kind.COMPLAINT_ESCALATIONS], "service-key-0002")
    event = dispatch("lead.created", {"id": 42, "customer_id": 7, "channel": "partner", "status": "new"})
    services.event_dispatch(event_id=event.pk)  # dispatched again: claimed once, nothing new
    deliver_all()
    deliver_all()
    [post] = fake.posts()
    assert post["key"] == "sales-key-0001" and post["msgtype"] == "markdown"
    content = post["markdown"]["content"]
    assert "Firm A" in content and "#42" in content and "/leads/42/" in content
    note = Notification.objects.get(channel=Notification.Channel.WECOM)
    assert note.idempotency_key.startswith(f"wecom:{event.pk}:") and note.status == Notification.Status.SENT


def test_plain_text_robots_get_text(fake, firm):
    robot(fake, "Site", [WecomRobot.Kind.GATE_OVERRIDES], "site-key-0001", message_format="text")
    dispatch(
        "worksite.gate_overridden",
        {"worksite_id": 7, "project_id": 12, "gate": "waterproofing", "reason": "业主13912345678书面同意"},
    )
    deliver_all()
    [post] = fake.posts()
    assert post["msgtype"] == "text"
    text = post["text"]["content"]
    assert "#7" in text and "/worksites/7/" in text
    assert "13912345678" not in text, "a phone number in the reason is masked in the group"


def test_complaint_escalation_and_the_firms_language(fake, firm):
    firm.language = "en"
    firm.save(update_fields=["language"])
    robot(fake, "Service", [WecomRobot.Kind.COMPLAINT_ESCALATIONS], "service-key-0002")
    dispatch("complaint.escalated", {"id": 5, "from_level": 1, "to_level": 2, "breach": "respond"})
    deliver_all()
    content = fake.posts()[0]["markdown"]["content"]
    assert "Complaint #5 went from level 1 to level 2: not answered in time." in content


def test_wecom_refusals_retry_or_fail(fake, firm):
    robot(fake, "Sales", [WecomRobot.Kind.NEW_LEADS], "sales-key-0001")
    fake.errcodes = [45009]  # too many messages this minute
    dispatch("lead.created", {"id": 1, "channel": "online"})
    deliver_all()
    note = Notification.objects.get(channel=Notification.Channel.WECOM)
    assert note.status == Notification.Status.PENDING and "45009" in note.last_error
    deliver_all()
    note.refresh_from_db()
    assert note.status == Notification.Status.SENT and len(fake.posts()) == 2

    fake.errcodes = [93000]  # the robot's key was removed in WeCom
    dispatch("lead.created", {"id": 2, "channel": "online"})
    deliver_all()
    failed = Notification.objects.get(channel=Notification.Channel.WECOM, status=Notification.Status.FAILED)
    assert failed.attempts == 1


def test_a_removed_robot_posts_nothing(fake, firm):
    sales = robot(fake, "Sales", [WecomRobot.Kind.NEW_LEADS], "sales-key-0001")
    dispatch("lead.created", {"id": 1, "channel": "online"})
    notice_settings.wecom_robot_delete(robot=sales)
    deliver_all()
    assert fake.posts() == []
    assert Notification.objects.get(channel=Notification.Channel.WECOM).status == Notification.Status.FAILED


def test_another_firms_robots_hear_nothing(fake, firm_a, firm_b):
    with tenant_context(firm_b):
        robot(fake, "Sales", [WecomRobot.Kind.NEW_LEADS], "firm-b-key-0001")
    with tenant_context(firm_a):
        dispatch("lead.created", {"id": 1, "channel": "online"})
        assert not Notification.objects.filter(channel=Notification.Channel.WECOM).exists()
    assert fake.posts() == []


def test_overdue_callbacks_are_announced_once_a_day_from_nine(fake, firm):
    robot(fake, "Service", [WecomRobot.Kind.OVERDUE_CALLBACKS], "service-key-0002")
    CallbackFactory(status=Callback.Status.OPEN, due_on=date(2026, 3, 10))
    CallbackFactory(status=Callback.Status.OPEN, due_on=date(2026, 3, 12))
    CallbackFactory(status=Callback.Status.OPEN, due_on=date(2026, 3, 18))  # due today: not overdue yet
    with time_machine.travel(datetime(2026, 3, 18, 8, 30, tzinfo=SHANGHAI)):
        assert callbacks_overdue_announce() is None
    with time_machine.travel(datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)):
        event = callbacks_overdue_announce()
        assert event.payload == {"on": "2026-03-18", "count": 2, "oldest_due_on": "2026-03-10"}
        assert callbacks_overdue_announce() is None
        services.event_dispatch(event_id=event.pk)
        deliver_all()
    content = fake.posts()[0]["markdown"]["content"]
    assert "2026-03-10" in content and "bucket=overdue" in content
    with time_machine.travel(datetime(2026, 3, 19, 9, 5, tzinfo=SHANGHAI)):
        assert callbacks_overdue_announce().payload["on"] == "2026-03-19"


def test_the_test_button_posts_to_the_group(fake, firm):
    sales = robot(fake, "Sales", [WecomRobot.Kind.NEW_LEADS], "sales-key-0001")
    note = notice_settings.wecom_robot_test(robot=sales)
    services.notification_deliver(notification_id=note.pk)
    [post] = fake.posts()
    assert post["key"] == "sales-key-0001" and "Firm A" in post["markdown"]["content"]


def test_robot_names_are_unique_in_a_firm(fake, firm_a, firm_b):
    with tenant_context(firm_a):
        robot(fake, "Sales", [], "sales-key-0001")
        with pytest.raises(ValidationError) as refused:
            robot(fake, "Sales", [], "sales-key-0002")
        assert "name" in refused.value.message_dict
    with tenant_context(firm_b):
        robot(fake, "Sales", [], "sales-key-0003")
