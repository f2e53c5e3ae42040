"""An e-mail's attached file (a quotation's PDF: the homeowner's name, address and signature) is kept on the
notification only while a retry may still need it: dropped once the message is sent or given up, and by the
homeowner's erasure."""

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from leads.services.privacy import customer_erase
from renocrm.outbox import services
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.leads.factories import CustomerFactory

PDF = ("quotation-7-v1.pdf", b"%PDF-1.7 the homeowner's quotation", "application/pdf")


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionError("mail server down")


def _mail(key: str, *, body: str = "您好") -> Notification:
    return services.notification_send(
        channel="email", recipient="wang@example.com", subject="报价", body=body, idempotency_key=key, attachment=PDF
    )


def test_a_sent_notification_keeps_no_attachment(firm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _mail("mail-sent")
    notification.refresh_from_db()
    assert notification.status == "sent" and bytes(notification.attachment) == b""


def test_a_notification_given_up_keeps_no_attachment_and_a_retry_keeps_it(firm, settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_notification_attachments.RefusingBackend"
    notification = _mail("mail-refused")
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    # Still pending: the retry sends the same file.
    assert notification.status == "pending" and bytes(notification.attachment) == PDF[1]
    Notification.objects.filter(pk=notification.pk).update(attempts=services.MAX_NOTIFICATION_ATTEMPTS - 1)
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == "failed" and bytes(notification.attachment) == b""


def test_a_notification_whose_last_attempt_was_cut_off_keeps_no_attachment(firm):
    notification = _mail("mail-interrupted")
    Notification.objects.filter(pk=notification.pk).update(
        attempts=services.MAX_NOTIFICATION_ATTEMPTS, sending_since="2020-01-01T00:00:00Z"
    )
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == "failed" and bytes(notification.attachment) == b""


def test_erasing_the_homeowner_drops_the_attachment_of_a_message_still_pending(firm):
    customer = CustomerFactory(name="王芳")
    notification = _mail("mail-pending", body="王芳您好，附件是您的报价单。")
    customer_erase(customer=customer)
    notification.refresh_from_db()
    assert (bytes(notification.attachment), notification.attachment_name) == (b"", "")
    assert "王芳" not in notification.body
