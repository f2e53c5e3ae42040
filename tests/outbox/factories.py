import factory

from renocrm.outbox.models import Notification, OutboxEvent, WebhookDelivery, WebhookEndpoint


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
