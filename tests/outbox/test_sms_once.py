"""A text goes out once, whatever happens between the gateway and our database: the attempt is committed
before the gateway is called; an attempt whose outcome is unknown (no answer, the gateway's own failure, a
worker killed mid-send) makes every later attempt look the text up first; Tencent Cloud, which lists a text
only once its receipt is in, waits for that receipt before sending again; a text found is kept with the time
it went out; and the receipts sweep keeps each receipt as it fetches it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg2
import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from renocrm.outbox import receipts, services, tasks
from renocrm.outbox.models import Notification, SmsReceipt
from renocrm.outbox.sms_aliyun import CHINA, AliyunBackend
from renocrm.outbox.sms_gateways import GatewayBackend, GatewayConfig
from renocrm.tenancy.context import tenant_context
from tests.outbox.texts import MOBILE, deliver, survey_text


class WorkerKilled(BaseException):
    """The worker's process ends here (a SIGKILL, the hard time limit): nothing after it runs."""


def killed_after_the_gateway_took_it(monkeypatch):
    """The gateway takes the text, and the worker dies before it can record the answer."""
    send = AliyunBackend.send

    def send_then_die(self, message):
        send(self, message)
        raise WorkerKilled

    monkeypatch.setattr(AliyunBackend, "send", send_then_die)
    return lambda: monkeypatch.setattr(AliyunBackend, "send", send)


def lookups(fake) -> list[dict]:
    return [call for call in fake.calls if fake.action(call) == "QuerySendDetails"]


# The attempt is committed before the gateway is called -----------------------------------------------------------


def _committed(idempotency_key: str) -> tuple:
    """What another session sees of the text and its receipt: only what was committed."""
    owner = django_settings.DATABASES["owner"]
    conn = psycopg2.connect(
        dbname=owner["NAME"],
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
        host=owner.get("HOST") or None,
        port=owner.get("PORT") or None,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT n.attempts, n.sending_since IS NOT NULL, r.status, r.maybe_sent_at IS NOT NULL"
                " FROM outbox_notification n LEFT JOIN outbox_smsreceipt r ON r.notification_id = n.id"
                " WHERE n.idempotency_key = %s",
                [idempotency_key],
            )
            return cursor.fetchone()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_the_attempt_is_committed_before_the_gateway_is_called_with_no_transaction_open(aliyun, firm_a, monkeypatch):
    seen = []
    send = AliyunBackend.send

    def watched(self, message):
        seen.append((connection.in_atomic_block, _committed(message.idempotency_key)))
        return send(self, message)

    monkeypatch.setattr(AliyunBackend, "send", watched)
    with tenant_context(firm_a):
        note = survey_text()  # committed here: its task runs (eagerly) as the worker would, after commit
    # While the gateway was taking it: no transaction open, and the attempt counted, the text marked in flight
    # and "maybe sent", all committed.
    assert seen == [(False, (1, True, SmsReceipt.Status.UNKNOWN, True))]
    with tenant_context(firm_a):
        note.refresh_from_db()
        receipt = SmsReceipt.objects.get(notification=note)
    assert (note.status, note.attempts, note.sending_since) == (Notification.Status.SENT, 1, None)
    assert (receipt.status, receipt.maybe_sent_at) == (SmsReceipt.Status.WAITING, None)
    assert len(aliyun.sends()) == 1


def test_a_worker_killed_after_the_gateway_took_the_text_does_not_send_it_twice(aliyun, firm, monkeypatch):
    note = survey_text()
    mend = killed_after_the_gateway_took_it(monkeypatch)
    with pytest.raises(WorkerKilled):
        services.notification_deliver(notification_id=note.pk)
    mend()
    note.refresh_from_db()
    assert note.status == Notification.Status.PENDING and note.attempts == 1, "the attempt was kept"
    assert note.sending_since is not None
    receipt = SmsReceipt.objects.get(notification=note)
    assert receipt.status == SmsReceipt.Status.UNKNOWN and receipt.maybe_sent_at is not None

    # The task runs again at once (late acknowledgement): the text is in flight, so it is left alone.
    assert services.notification_deliver(notification_id=note.pk) is None
    assert len(aliyun.calls) == 1

    # The sweep, once the attempt's lease has run out: the text is looked up and found, not sent again.
    later = timezone.now() + services.SENDING_LEASE + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        tasks.sweep_firm_notifications.delay(tenant_id=note.tenant_id)
    note.refresh_from_db()
    assert (note.status, note.attempts, note.sending_since) == (Notification.Status.SENT, 2, None)
    assert len(aliyun.sent) == 1 and len(aliyun.sends()) == 1
    assert lookups(aliyun), "the gateway was asked for the text first"
    receipt.refresh_from_db()
    assert (receipt.status, receipt.maybe_sent_at) == (SmsReceipt.Status.WAITING, None)


def test_a_last_attempt_cut_off_fails_the_text_without_sending_it_again(aliyun, firm, monkeypatch):
    note = survey_text()
    Notification.objects.filter(pk=note.pk).update(attempts=services.MAX_NOTIFICATION_ATTEMPTS - 1)
    mend = killed_after_the_gateway_took_it(monkeypatch)
    with pytest.raises(WorkerKilled):
        services.notification_deliver(notification_id=note.pk)
    mend()
    with time_machine.travel(timezone.now() + services.SENDING_LEASE + timedelta(seconds=1), tick=False):
        note = deliver(note)
    assert (note.status, note.attempts) == (Notification.Status.FAILED, services.MAX_NOTIFICATION_ATTEMPTS)
    assert "interrupted" in note.last_error and note.sms_params == {}
    assert len(aliyun.sends()) == 1


# "Maybe sent" is never lost ------------------------------------------------------------------------------------------


def test_a_refusal_after_no_answer_does_not_make_the_next_attempt_send_blind(aliyun, firm):
    aliyun.stall = 1.6  # the gateway takes the text but answers after the client gave up
    note = deliver(survey_text())
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.UNKNOWN
    aliyun.stall = 0

    # The next attempt looks the text up; the gateway's records lag and do not show it yet, so it is sent,
    # and refused for now (a rate limit).
    aliyun.unlisted = True
    aliyun.send_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    note = deliver(note)
    receipt = SmsReceipt.objects.get(notification=note)
    assert (note.status, receipt.status) == (Notification.Status.PENDING, SmsReceipt.Status.REFUSED)
    assert receipt.maybe_sent_at is not None, "the first attempt may still have gone out"

    # The attempt after the refusal looks the text up again, finds the first one, and sends nothing.
    aliyun.unlisted = False
    asked = len(lookups(aliyun))
    note = deliver(note)
    assert note.status == Notification.Status.SENT
    assert len(lookups(aliyun)) == asked + 1
    assert len(aliyun.sent) == 1, "taken once by the gateway"


def test_an_alibaba_cloud_server_error_is_no_answer_not_a_refusal(aliyun, firm):
    aliyun.http_error = (503, {"Code": "ServiceUnavailable", "Message": "The service is unavailable."})
    note = deliver(survey_text())
    receipt = SmsReceipt.objects.get(notification=note)
    assert (note.status, receipt.status) == (Notification.Status.PENDING, SmsReceipt.Status.UNKNOWN)
    assert receipt.maybe_sent_at is not None and "503" in note.last_error
    aliyun.http_error = None

    note = deliver(note)
    assert note.status == Notification.Status.SENT
    assert [aliyun.action(call) for call in aliyun.calls[-2:]] == ["QuerySendDetails", "SendSms"], "looked up first"


@pytest.mark.parametrize("code", ["InternalError", "InternalError.Timeout", "InternalError.SendAndRecvFail"])
def test_a_tencent_cloud_internal_error_is_no_answer_not_a_refusal(tencent, firm, code):
    tencent.error = code
    note = deliver(survey_text())
    receipt = SmsReceipt.objects.get(notification=note)
    assert (note.status, receipt.status) == (Notification.Status.PENDING, SmsReceipt.Status.UNKNOWN)
    assert receipt.maybe_sent_at is not None and code in note.last_error


# Tencent Cloud: no resend before the receipt could have come ----------------------------------------------------------


def test_tencent_does_not_send_again_while_the_receipt_of_a_text_without_an_answer_may_still_come(
    tencent, firm, settings
):
    tencent.stall = 1.6  # taken, answered too late; the carrier has not reported yet
    note = deliver(survey_text())
    first = SmsReceipt.objects.get(notification=note)
    assert first.status == SmsReceipt.Status.UNKNOWN
    tencent.stall = 0

    # The next attempt finds no receipt carrying the key: it does not send, and does not count.
    note = deliver(note)
    assert len(tencent.sends()) == 1
    assert (note.status, note.attempts) == (Notification.Status.PENDING, 1)
    assert note.retry_after is not None and note.retry_after > timezone.now()
    assert "receipt" in note.last_error
    # Nor is it tried before then, by a task or by the sweep.
    asked = len(tencent.calls)
    assert services.notification_deliver(notification_id=note.pk) is None
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 0
    tasks.sweep_firm_notifications.delay(tenant_id=note.tenant_id)
    assert len(tencent.calls) == asked

    # The carrier's receipt comes: the next look-up finds the text, delivered, and keeps it with its receipt.
    tencent.deliver("2433:338999")
    with time_machine.travel(note.retry_after + timedelta(seconds=1)):
        note = deliver(note)
    assert note.status == Notification.Status.SENT and len(tencent.sends()) == 1
    receipt = SmsReceipt.objects.get(notification=note)
    assert (receipt.status, receipt.message_id) == (SmsReceipt.Status.DELIVERED, "2433:338999")
    assert receipt.accepted_at == first.maybe_sent_at, "sent no earlier than the attempt without an answer"
    assert receipt.received_at is not None and receipt.next_check_at is None


def test_tencent_sends_again_once_no_receipt_came_in_the_receipt_wait(tencent, firm, settings):
    tencent.stall = 1.6
    note = deliver(survey_text())
    tencent.stall = 0
    with time_machine.travel(timezone.now() + timedelta(hours=settings.SMS_RECEIPT_WAIT_HOURS, minutes=1)):
        note = deliver(note)
    assert note.status == Notification.Status.SENT
    assert len(tencent.sends()) == 2, "nothing came in the wait: the first one never went out"


# A text found is kept as it went out ------------------------------------------------------------------------------


def test_a_text_found_by_the_look_up_keeps_when_it_went_out_and_its_receipt_is_found(aliyun, firm):
    aliyun.stall = 1.6
    note = deliver(survey_text())
    aliyun.stall = 0
    went_out = aliyun.sent[0]["date"].replace(microsecond=0)

    # Retried the next day: the look-up goes back to the day the text went out.
    next_day = timezone.now() + timedelta(days=1)
    with time_machine.travel(next_day, tick=False):
        note = deliver(note)
    receipt = SmsReceipt.objects.get(notification=note)
    assert note.status == Notification.Status.SENT and len(aliyun.sends()) == 1
    assert receipt.accepted_at == went_out and note.sent_at == went_out

    aliyun.sent[0]["status"] = 3  # delivered
    with time_machine.travel(next_day + timedelta(minutes=2), tick=False):
        assert receipts.sms_receipts_check() == 1
    receipt.refresh_from_db()
    assert receipt.status == SmsReceipt.Status.DELIVERED
    asked = lookups(aliyun)[-1]["query"]
    assert asked["SendDate"] == went_out.astimezone(CHINA).strftime("%Y%m%d")


def test_a_text_found_already_reported_keeps_its_receipt(aliyun, firm):
    aliyun.stall = 1.6
    note = deliver(survey_text())
    aliyun.stall = 0
    aliyun.sent[0].update(status=2, err_code="MOBILE_NOT_ON_SERVICE")
    note = deliver(note)
    receipt = SmsReceipt.objects.get(notification=note)
    assert note.status == Notification.Status.SENT
    assert (receipt.status, receipt.error_code) == (SmsReceipt.Status.UNDELIVERED, "MOBILE_NOT_ON_SERVICE")
    assert receipt.next_check_at is None


# The receipts sweep ---------------------------------------------------------------------------------------------------


def waiting_texts(fake, count: int) -> list[Notification]:
    notes = [deliver(survey_text(key=f"k:{n}", recipient=f"1390000000{n}")) for n in range(count)]
    for sent in fake.sent:
        sent["status"] = 3
    return notes


def test_each_receipt_is_kept_as_it_is_fetched(aliyun, firm, monkeypatch):
    first, second = waiting_texts(aliyun, 2)
    report, calls = AliyunBackend.report, []

    def dies_on_the_second(self, **kwargs):
        calls.append(kwargs["message_id"])
        if len(calls) == 2:
            raise WorkerKilled  # the hard time limit, in the middle of the run
        return report(self, **kwargs)

    monkeypatch.setattr(AliyunBackend, "report", dies_on_the_second)
    with pytest.raises(WorkerKilled):
        receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2))
    statuses = dict(SmsReceipt.objects.values_list("notification_id", "status"))
    assert statuses == {first.pk: SmsReceipt.Status.DELIVERED, second.pk: SmsReceipt.Status.WAITING}


def test_a_silent_gateway_is_asked_once_per_run(aliyun, firm, settings, monkeypatch):
    waiting_texts(aliyun, 3)
    settings.SMS_ENDPOINT = "http://127.0.0.1:9"  # the gateway is down
    report, calls = AliyunBackend.report, []
    monkeypatch.setattr(AliyunBackend, "report", lambda self, **kwargs: calls.append(1) or report(self, **kwargs))
    assert receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2)) == 0
    assert len(calls) == 1, "the others are left due for the next run"
    assert set(SmsReceipt.objects.values_list("status", flat=True)) == {SmsReceipt.Status.WAITING}


def test_a_run_stops_at_its_time_budget(aliyun, firm):
    waiting_texts(aliyun, 3)
    assert receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2), budget=0) == 1
    assert SmsReceipt.objects.filter(status=SmsReceipt.Status.WAITING).count() == 2
    assert receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2)) == 2


def test_the_base_gateway_reports_by_the_same_keywords_as_its_subclasses():
    with pytest.raises(NotImplementedError):
        GatewayBackend(GatewayConfig()).report(
            recipient=MOBILE, message_id="1", idempotency_key="k", accepted_at=datetime.now(CHINA)
        )


def test_a_found_text_is_asked_for_by_its_key_and_number(aliyun, firm):
    aliyun.stall = 1.6
    note = deliver(survey_text())
    aliyun.stall = 0
    deliver(note)
    asked = lookups(aliyun)[0]["query"]
    assert asked["PhoneNumber"] == MOBILE and "BizId" not in asked
    assert json.loads(aliyun.sends()[0]["query"]["TemplateParam"])["name"] == "王先生"
