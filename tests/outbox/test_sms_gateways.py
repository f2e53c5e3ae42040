"""Texts through Alibaba Cloud and Tencent Cloud: each provider's real SDK against a local fake of its API.

What the SDK sends (action, template, signature, number, parameters, the idempotency key as OutId /
SessionContext), what the gateway's answers do to the notification (sent, retried, failed at once), a retry
after no answer that finds the message already out instead of sending it twice, and the receipts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from renocrm.outbox import receipts, services, sms
from renocrm.outbox.models import NoticeSettings, Notification, SmsReceipt
from renocrm.tenancy.context import tenant_context
from tests.outbox.fakes import FakeAliyun, FakeTencent

MOBILE = "13800138000"
SURVEY = {
    "customer_name": "王先生",
    "firm_name": "美家装饰",
    "agent_name": "李客服",
    "firm_phone": "400-800-1234",
    "survey_link": "https://crm.example.cn/portal/survey/abc/",
}


@pytest.fixture
def aliyun(settings):
    fake = FakeAliyun()
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = "LTAI5tInstallation", "installation-secret"
    settings.SMS_SIGN_NAME = "装修云"
    settings.SMS_ENDPOINT = fake.url
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SMS_TEMPLATES = {
        "callbacks.survey_link": {"code": "SMS_465300001", "params": {"name": "customer_name", "link": "survey_link"}},
        "staff.notice": {"code": "SMS_465300009", "params": {}},
    }
    yield fake
    fake.close()


@pytest.fixture
def tencent(settings):
    fake = FakeTencent()
    settings.SMS_BACKEND = "tencent"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = "AKIDinstallation0000", "installation-secret"
    settings.SMS_SIGN_NAME = "装修云"
    settings.SMS_APP_ID = "1400006666"
    settings.SMS_ENDPOINT = fake.url
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SMS_TEMPLATES = {
        "callbacks.survey_link": {"code": "1968001", "params": {"1": "customer_name", "2": "survey_link"}},
    }
    yield fake
    fake.close()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def survey_text(key="callback:7:sms:0", **overrides) -> Notification:
    return services.notification_send(
        channel=Notification.Channel.SMS,
        recipient=overrides.pop("recipient", MOBILE),
        body="王先生您好，美家装饰回访：https://crm.example.cn/portal/survey/abc/",
        idempotency_key=key,
        sms_template=overrides.pop("template", "callbacks.survey_link"),
        sms_params=overrides.pop("params", SURVEY),
    )


def deliver(notification: Notification) -> Notification:
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    return notification


# Alibaba Cloud ------------------------------------------------------------------------------------------------


def test_aliyun_sends_the_approved_template_under_the_signature_with_the_key_as_out_id(aliyun, firm):
    note = deliver(survey_text())
    [call] = aliyun.sends()
    assert call["headers"]["x-acs-version"] == "2017-05-25"
    assert "Credential=LTAI5tInstallation" in call["headers"]["authorization"]
    query = call["query"]
    assert query["PhoneNumbers"] == MOBILE
    assert query["SignName"] == "装修云"
    assert query["TemplateCode"] == "SMS_465300001"
    assert json.loads(query["TemplateParam"]) == {"name": "王先生", "link": "https://crm.example.cn/portal/survey/abc/"}
    assert query["OutId"] == "callback:7:sms:0"
    assert note.status == Notification.Status.SENT and note.attempts == 1
    assert note.sms_params == {}, "sent: the values (a customer's name) are not kept"
    receipt = SmsReceipt.objects.get(notification=note)
    assert (receipt.provider, receipt.message_id, receipt.status) == ("aliyun", "900000^0", SmsReceipt.Status.WAITING)
    assert receipt.next_check_at > receipt.accepted_at


def test_aliyun_business_limit_is_retried_with_the_same_out_id(aliyun, firm):
    aliyun.send_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    note = deliver(survey_text())
    assert (note.status, note.attempts) == (Notification.Status.PENDING, 1)
    assert "isv.BUSINESS_LIMIT_CONTROL" in note.last_error
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.REFUSED

    note = deliver(note)  # the notification sweep's retry
    assert (note.status, note.attempts) == (Notification.Status.SENT, 2)
    assert [call["query"]["OutId"] for call in aliyun.sends()] == ["callback:7:sms:0"] * 2
    assert len(aliyun.sent) == 1


def test_aliyun_throttling_until_the_last_attempt_fails_the_text(aliyun, firm):
    aliyun.send_codes = ["isv.BUSINESS_LIMIT_CONTROL"] * services.MAX_NOTIFICATION_ATTEMPTS
    note = survey_text()
    for _ in range(services.MAX_NOTIFICATION_ATTEMPTS):
        note = deliver(note)
    assert (note.status, note.attempts) == (Notification.Status.FAILED, services.MAX_NOTIFICATION_ATTEMPTS)
    assert deliver(note).attempts == services.MAX_NOTIFICATION_ATTEMPTS  # a failed text is not tried again


def test_aliyun_an_invalid_number_fails_at_once(aliyun, firm):
    aliyun.send_codes = ["isv.MOBILE_NUMBER_ILLEGAL"]
    note = deliver(survey_text())
    assert (note.status, note.attempts) == (Notification.Status.FAILED, 1)
    receipt = SmsReceipt.objects.get(notification=note)
    assert (receipt.status, receipt.error_code) == (SmsReceipt.Status.REFUSED, "isv.MOBILE_NUMBER_ILLEGAL")


def test_aliyun_http_errors_are_retried(aliyun, firm):
    aliyun.http_error = (403, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."})
    note = deliver(survey_text())
    assert note.status == Notification.Status.PENDING and "InvalidAccessKeyId.NotFound" in note.last_error
    aliyun.http_error = None
    assert deliver(note).status == Notification.Status.SENT


def test_aliyun_no_answer_then_the_retry_finds_the_message_already_out(aliyun, firm):
    aliyun.stall = 1.6  # the gateway takes the message but answers after the client gave up
    note = deliver(survey_text())
    assert note.status == Notification.Status.PENDING
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.UNKNOWN
    aliyun.stall = 0

    note = deliver(note)
    assert note.status == Notification.Status.SENT
    assert len(aliyun.sends()) == 1, "the retry asked the gateway and did not send the text again"
    lookups = [call for call in aliyun.calls if aliyun.action(call) == "QuerySendDetails"]
    assert lookups and lookups[0]["query"]["PhoneNumber"] == MOBILE
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.WAITING


def test_aliyun_no_answer_and_nothing_went_out_sends_again(aliyun, firm, settings):
    settings.SMS_ENDPOINT = "http://127.0.0.1:9"  # nothing listens: the connection is refused
    note = deliver(survey_text())
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.UNKNOWN
    settings.SMS_ENDPOINT = aliyun.url
    assert deliver(note).status == Notification.Status.SENT
    assert len(aliyun.sends()) == 1


def test_aliyun_receipts_delivered_failed_and_never(aliyun, firm, settings):
    ok, bad, silent = (deliver(survey_text(key=f"k:{n}", recipient=f"1390000000{n}")) for n in range(3))
    aliyun.sent[0]["status"] = 3
    aliyun.sent[1].update(status=2, err_code="MOBILE_NOT_ON_SERVICE")
    later = timezone.now() + timedelta(minutes=2)
    assert receipts.sms_receipts_check(now=later) == 2

    by_note = {r.notification_id: r for r in SmsReceipt.objects.all()}
    assert by_note[ok.pk].status == SmsReceipt.Status.DELIVERED and by_note[ok.pk].received_at is not None
    assert (by_note[bad.pk].status, by_note[bad.pk].error_code) == (
        SmsReceipt.Status.UNDELIVERED,
        "MOBILE_NOT_ON_SERVICE",
    )
    waiting = by_note[silent.pk]
    assert waiting.status == SmsReceipt.Status.WAITING and waiting.checks == 1 and waiting.next_check_at > later
    detail = [call for call in aliyun.calls if aliyun.action(call) == "QuerySendDetails"][0]["query"]
    assert detail["BizId"] == "900000^0" and detail["SendDate"] == timezone.localdate(ok.created_at).strftime("%Y%m%d")

    assert receipts.sms_receipts_check(now=later) == 0  # nothing due again yet: the gateway is not asked
    asked = len(aliyun.calls)
    receipts.sms_receipts_check(now=later)
    assert len(aliyun.calls) == asked
    give_up = timezone.now() + timedelta(hours=settings.SMS_RECEIPT_WAIT_HOURS, minutes=1)
    assert receipts.sms_receipts_check(now=give_up) == 1
    assert SmsReceipt.objects.get(pk=waiting.pk).status == SmsReceipt.Status.NO_RECEIPT


def test_a_text_without_an_approved_template_waits_and_sends_nothing(aliyun, firm):
    note = deliver(survey_text(template="aftercare.warranty_reminder", params={"firm": "美家装饰"}))
    assert note.status == Notification.Status.PENDING and "renocrm.template_not_mapped" in note.last_error
    assert aliyun.sends() == []


def test_a_text_with_no_message_key_fails_at_once_on_a_gateway(aliyun, firm):
    note = deliver(survey_text(template="", params={}))
    assert (note.status, note.attempts) == (Notification.Status.FAILED, 1)
    assert aliyun.sends() == []


def test_staff_notices_go_as_the_staff_template(aliyun, firm):
    from tests.factories import UserFactory

    agent = UserFactory(phone="13700001111")
    note = deliver(services.notify_staff(agent, subject="回访到期", body="3 个回访待处理", idempotency_key="staff:1"))
    [call] = aliyun.sends()
    assert call["query"]["TemplateCode"] == "SMS_465300009"
    assert json.loads(call["query"]["TemplateParam"]) == {"subject": "回访到期", "body": "3 个回访待处理"}
    assert note.status == Notification.Status.SENT


def test_a_firm_sends_through_its_own_account_and_another_firm_through_the_installations(
    aliyun, settings, firm_a, firm_b
):
    settings.SMS_BACKEND = "renocrm.outbox.sms.LocmemBackend"
    settings.SMS_ENDPOINT = ""
    settings.SMS_PROVIDER_ENDPOINTS = {"aliyun": aliyun.url, "tencent": ""}
    sms.outbox.clear()
    with tenant_context(firm_a):
        NoticeSettings.objects.create(
            provider="aliyun",
            sign_name="美家装饰",
            access_key_id="LTAI5tFirmOwnKey",
            access_key_secret="firm-own-secret",
            templates={"callbacks.survey_link": {"code": "SMS_777", "params": {}}},
        )
        note_a = deliver(survey_text())
    with tenant_context(firm_b):
        note_b = deliver(survey_text())
    [call] = aliyun.sends()
    assert "Credential=LTAI5tFirmOwnKey" in call["headers"]["authorization"]
    assert (call["query"]["SignName"], call["query"]["TemplateCode"]) == ("美家装饰", "SMS_777")
    # Without a parameter mapping the template takes the message's own names.
    assert json.loads(call["query"]["TemplateParam"]) == SURVEY
    assert note_a.status == note_b.status == Notification.Status.SENT
    assert [message.idempotency_key for message in sms.outbox] == ["callback:7:sms:0"]  # firm B: the local backend


# Tencent Cloud -------------------------------------------------------------------------------------------------


def test_tencent_sends_the_template_in_order_with_the_key_as_session_context(tencent, firm):
    note = deliver(survey_text())
    [call] = tencent.sends()
    assert call["headers"]["x-tc-version"] == "2021-01-11"
    assert "Credential=AKIDinstallation0000/" in call["headers"]["authorization"]
    body = json.loads(call["body"])
    assert body == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "装修云",
        "TemplateId": "1968001",
        "TemplateParamSet": ["王先生", "https://crm.example.cn/portal/survey/abc/"],
        "SessionContext": "callback:7:sms:0",
    }
    assert note.status == Notification.Status.SENT
    assert SmsReceipt.objects.get(notification=note).message_id == "2433:338999"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("LimitExceeded.PhoneNumberDailyLimit", Notification.Status.PENDING),
        ("FailedOperation.TemplateIncorrectOrUnapproved", Notification.Status.PENDING),
        ("InvalidParameterValue.IncorrectPhoneNumber", Notification.Status.FAILED),
        ("FailedOperation.PhoneNumberInBlacklist", Notification.Status.FAILED),
    ],
)
def test_tencent_refusals_retry_or_fail(tencent, firm, code, status):
    tencent.send_codes = [code]
    note = deliver(survey_text())
    assert (note.status, note.attempts) == (status, 1)
    assert code in note.last_error
    if status == Notification.Status.PENDING:
        assert deliver(note).status == Notification.Status.SENT
        assert [json.loads(c["body"])["SessionContext"] for c in tencent.sends()] == ["callback:7:sms:0"] * 2


def test_tencent_an_api_error_is_retried(tencent, firm):
    tencent.error = "AuthFailure.SignatureFailure"
    note = deliver(survey_text())
    assert note.status == Notification.Status.PENDING and "AuthFailure.SignatureFailure" in note.last_error
    assert deliver(note).status == Notification.Status.SENT


def test_tencent_receipts_by_number(tencent, firm):
    ok, bad = (deliver(survey_text(key=f"k:{n}", recipient=f"1390000000{n}")) for n in range(2))
    tencent.deliver("2433:338999")
    tencent.deliver("2433:339000", ok=False, description="MN:0001")
    assert receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2)) == 2
    assert SmsReceipt.objects.get(notification=ok).status == SmsReceipt.Status.DELIVERED
    failed = SmsReceipt.objects.get(notification=bad)
    assert (failed.status, failed.error_code) == (SmsReceipt.Status.UNDELIVERED, "MN:0001")
    pulls = [json.loads(c["body"]) for c in tencent.calls if c["headers"]["x-tc-action"] != "SendSms"]
    assert {pull["PhoneNumber"] for pull in pulls} == {"+8613900000000", "+8613900000001"}
    assert all(pull["SmsSdkAppId"] == "1400006666" for pull in pulls)


def test_tencent_no_answer_then_the_retry_finds_it_by_session_context(tencent, firm):
    tencent.stall = 1.6
    note = deliver(survey_text())
    assert SmsReceipt.objects.get(notification=note).status == SmsReceipt.Status.UNKNOWN
    tencent.stall = 0
    tencent.deliver("2433:338999")
    note = deliver(note)
    assert note.status == Notification.Status.SENT and len(tencent.sends()) == 1
    assert SmsReceipt.objects.get(notification=note).message_id == "2433:338999"


# The local backends keep working on the rendered body ---------------------------------------------------------------


def test_the_local_backend_sends_the_body_and_keeps_no_receipt(firm):
    sms.outbox.clear()
    note = deliver(survey_text())
    [message] = sms.outbox
    assert message.body.startswith("王先生您好") and message.template == "callbacks.survey_link"
    assert message.params["survey_link"] == SURVEY["survey_link"]
    assert note.status == Notification.Status.SENT and not SmsReceipt.objects.exists()
