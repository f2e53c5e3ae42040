import factory
from django.conf import settings

from renocrm.outbox.models import (
    NoticeSettings,
    Notification,
    OutboxEvent,
    SmsReceipt,
    StaffNotice,
    WebhookDelivery,
    WebhookEndpoint,
    WecomRobot,
)
from renocrm.tenancy.context import require_current_tenant
from tests.factories import StaffFactory


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    event_type = "lead.created"
    payload = factory.LazyFunction(lambda: {"id": 1})


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    event = factory.SubFactory(OutboxEventFactory)
    endpoint = factory.SubFactory(WebhookEndpointFactory)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    channel = Notification.Channel.SMS
    recipient = "13800138000"
    body = "您好"
    idempotency_key = factory.Sequence(lambda n: f"test-{n}")


class SmsReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsReceipt

    notification = factory.SubFactory(NotificationFactory)
    provider = "aliyun"
    message_id = factory.Sequence(lambda n: f"biz-{n}")
    status = SmsReceipt.Status.WAITING


class NoticeSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoticeSettings
        django_get_or_create = ("tenant",)

    tenant = factory.LazyFunction(require_current_tenant)
    sign_name = "美家装饰"


class WecomRobotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WecomRobot

    name = factory.Sequence(lambda n: f"Team {n}")
    webhook_url = factory.Sequence(lambda n: f"{settings.WECOM_WEBHOOK_URL}?key=robot-key-{n:04d}")
    kinds = factory.LazyFunction(lambda: [WecomRobot.Kind.NEW_LEADS])


class StaffNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffNotice

    user = factory.SubFactory(StaffFactory)
    subject = "回访到期"
    body = "回访到期：王先生（幸福小区 3-201），电话回访。"
    link = "/callbacks/"
    idempotency_key = factory.Sequence(lambda n: f"test-notice-{n}")
