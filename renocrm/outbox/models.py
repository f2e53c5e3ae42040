from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.tenancy.models import TenantModel


class OutboxEvent(TenantModel):
    """A lifecycle event, written in the same transaction as the change it reports."""

    event_type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    audited = False

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "event_type", "-id"], name="outbox_tenant_type"),
            models.Index(fields=["tenant", "id"], condition=Q(dispatched_at__isnull=True), name="outbox_undispatched"),
        ]

    def __str__(self):
        return f"{self.event_type} #{self.pk}"


class WebhookEndpoint(TenantModel):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Empty: every event type.
    event_types = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    secret = models.CharField(max_length=80)
    # After a rotation the old secret still signs (as a second signature) until it expires.
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Off: mobile numbers and addresses in the events' data go out masked, as to anyone without the contacts
    # permission. Only a caller entitled to contact details may turn it on (services.webhook_endpoint_update).
    include_contacts = models.BooleanField(_("send contact details"), default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(TenantModel):
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    audited = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event", "endpoint"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "next_attempt_at"],
                condition=Q(delivered_at__isnull=True, given_up_at__isnull=True),
                name="webhook_delivery_due",
            ),
        ]


class Notification(TenantModel):
    """An SMS or e-mail to send exactly once per idempotency key."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("message status", "Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    idempotency_key = models.CharField(max_length=200)
    # One file for an e-mail (a report); kept with the row so a retry sends the same file.
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.BinaryField(default=b"", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    audited = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="notification_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], condition=Q(status="pending"), name="notification_pending"),
        ]
