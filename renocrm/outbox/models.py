from django.conf import settings
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
    # Manual redeliveries so far: each goes out under a new delivery id, ``<id>-r<n>``.
    redeliveries = models.PositiveIntegerField(default=0)
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
    """An SMS, e-mail or WeCom group-robot message to send exactly once per idempotency key."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        # To a firm's WeCom group robot: ``recipient`` is ``robot:<WecomRobot id>``, ``subject`` the message type
        # ("markdown" or "text"); the robot's URL holds its key and is read only when the message is sent.
        WECOM = "wecom", _("WeCom group")

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
    # An SMS's approved-template key (renocrm.outbox.sms_messages) and the values of its parameters: mainland
    # gateways send a registered template with these values, not ``body``, which the other backends send.
    sms_template = models.CharField(max_length=60, blank=True, default="", db_default="")
    sms_params = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    # The body (and an SMS's values) hold a credential, such as a sign-in link: blanked once the message is
    # sent or given up.
    holds_credential = models.BooleanField(default=False, db_default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set, and committed, before the backend is called; cleared with the outcome. A worker that died meanwhile
    # leaves it set: no other attempt starts until it is older than the longest a task may run
    # (``services.SENDING_LEASE``), and the next one treats the earlier attempt's outcome as unknown.
    sending_since = models.DateTimeField(null=True, blank=True)
    # No attempt before this time (a gateway that cannot find a text sent but not yet reported waits for its
    # receipt before sending again: renocrm.outbox.receipts).
    retry_after = models.DateTimeField(null=True, blank=True)
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


class SmsReceipt(TenantModel):
    """What a mainland SMS gateway said about one message: the id it gave it (Alibaba Cloud's BizId, Tencent
    Cloud's SerialNo) and, once the carrier reported, whether the phone received it. Receipts are fetched
    from the gateway by the ``sms-receipts`` sweep (renocrm.outbox.receipts)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the receipt")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Not delivered")
        REFUSED = "refused", _("Refused by the gateway")
        # The gateway did not answer (or the attempt was cut off): the message may or may not have gone out.
        UNKNOWN = "unknown", _("No answer from the gateway")
        NO_RECEIPT = "no_receipt", _("No receipt came")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="sms_receipts")
    provider = models.CharField(max_length=20)
    # Sent through the installation's own account (its credentials), not the firm's: its receipt is asked
    # of that account.
    through_installation = models.BooleanField(default=False, db_default=False)
    message_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    # When the first attempt whose outcome is unknown started: the text may have gone out since. Whatever
    # later attempts hear (a refusal included), each asks the gateway for a message carrying the
    # notification's idempotency key before sending; cleared only once the gateway took or found the text.
    maybe_sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)  # when the phone got it, as the carrier says
    checks = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)

    audited = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "notification"], name="sms_receipt_one_per_notification"),
        ]
        indexes = [
            models.Index(fields=["tenant", "next_check_at"], condition=Q(status="waiting"), name="sms_receipt_due"),
        ]

    def __str__(self):
        return f"{self.provider} {self.message_id or '-'} {self.status}"


class NoticeSettings(TenantModel):
    """How the firm's texts leave: through the installation's gateway or the firm's own Alibaba Cloud or Tencent
    Cloud account, under the firm's registered signature (签名), each RenoCRM message as one of the firm's
    approved templates. The credentials are written, never shown back; their columns are named so the audit
    trail hides them."""

    class Provider(models.TextChoices):
        INSTALLATION = "", _("The installation's SMS gateway")
        ALIYUN = "aliyun", _("Alibaba Cloud SMS")
        TENCENT = "tencent", _("Tencent Cloud SMS")

    provider = models.CharField(_("SMS provider"), max_length=10, choices=Provider.choices, blank=True, default="")
    sign_name = models.CharField(_("SMS signature"), max_length=30, blank=True)
    # Tencent Cloud's SmsSdkAppId: the SMS application the signature and templates belong to.
    app_id = models.CharField(_("SMS application ID"), max_length=40, blank=True)
    access_key_id = models.CharField(max_length=128, blank=True, db_column="access_key_id_secret")
    access_key_secret = models.CharField(max_length=256, blank=True)
    # {message key: {"code": the approved template's code, "params": {provider's parameter: RenoCRM's}}}
    templates = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("notice settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="notice_settings_one_per_firm")]

    def __str__(self):
        return self.get_provider_display()


class WecomRobot(TenantModel):
    """A WeCom (企业微信) group robot of the firm: the notices of the kinds it takes are posted to its group,
    so a firm can have one robot per team (sales, service, construction)."""

    class Kind(models.TextChoices):
        NEW_LEADS = "new_leads", _("New leads")
        OVERDUE_CALLBACKS = "overdue_callbacks", _("Overdue callbacks")
        COMPLAINT_ESCALATIONS = "complaint_escalations", _("Complaint escalations")
        GATE_OVERRIDES = "gate_overrides", _("Construction gates lifted")

    class Format(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown (WeCom)")
        TEXT = "text", _("Plain text (also readable in WeChat)")

    name = models.CharField(_("name"), max_length=60)
    # The URL carries the robot's key: anyone holding it can post to the group. Never shown back in full.
    webhook_url = models.CharField(_("webhook URL"), max_length=300, db_column="webhook_url_secret")
    kinds = ArrayField(models.CharField(max_length=30, choices=Kind.choices), default=list, blank=True)
    message_format = models.CharField(
        _("message format"), max_length=10, choices=Format.choices, default=Format.MARKDOWN
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("WeCom group robot")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="wecom_robot_name_once")]

    def __str__(self):
        return self.name


class StaffNotice(TenantModel):
    """A notice to one staff member in the app (the bell): every notice the system texts or e-mails staff is
    recorded here too, so it reaches even someone with neither a phone nor an e-mail address. Once per
    addressee and idempotency key, like the message it goes with; purged after ``staff_notices.RETENTION``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # A path in the app (never another site): the page the notice is about.
    link = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    audited = False

    class Meta:
        verbose_name = _("notice")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "idempotency_key"], name="staff_notice_once_per_key"),
        ]
        indexes = [
            # The bell: one person's unread count.
            models.Index(fields=["tenant", "user"], condition=Q(read_at__isnull=True), name="staff_notice_unread"),
            # Their list, newest first.
            models.Index(fields=["tenant", "user", "-id"], name="staff_notice_list"),
            # The retention purge.
            models.Index(fields=["tenant", "created_at"], name="staff_notice_created"),
        ]

    def __str__(self):
        return self.subject or self.body[:60]
