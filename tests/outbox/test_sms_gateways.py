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
from tests.outbox.texts import MOBILE, SURVEY, deliver, survey_text

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
    note = deliver(
        services.notify_staff(agent, subject="回访到期", body="3 个回访待处理", idempotency_key="staff:1").message
    )
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


# Whose account, signature and templates -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["", "aliyun"])
def test_a_firm_without_keys_of_its_own_sends_under_the_installations_signature_and_templates(aliyun, firm, provider):
    # Written before the settings page refused them: another firm's signature, template codes of its own.
    NoticeSettings.objects.create(
        provider=provider,
        sign_name="别家装饰",
        templates={"callbacks.survey_link": {"code": "SMS_999999", "params": {}}},
    )
    note = deliver(survey_text())
    [call] = aliyun.sends()
    assert "Credential=LTAI5tInstallation" in call["headers"]["authorization"]
    assert (call["query"]["SignName"], call["query"]["TemplateCode"]) == ("装修云", "SMS_465300001")
    assert note.status == Notification.Status.SENT
    assert SmsReceipt.objects.get(notification=note).through_installation


def test_a_firm_without_keys_of_its_own_sends_through_the_installations_tencent_application(tencent, firm):
    NoticeSettings.objects.create(provider="tencent", sign_name="别家装饰", app_id="1400999999")
    deliver(survey_text())
    [call] = tencent.sends()
    body = json.loads(call["body"])
    assert (body["SmsSdkAppId"], body["SignName"], body["TemplateId"]) == ("1400006666", "装修云", "1968001")


def test_with_its_own_keys_a_firm_uses_only_its_own_signature_and_templates(aliyun, firm, settings):
    settings.SMS_PROVIDER_ENDPOINTS = {"aliyun": aliyun.url, "tencent": ""}
    NoticeSettings.objects.create(
        provider="aliyun", sign_name="美家装饰", access_key_id="LTAI5tFirmOwnKey", access_key_secret="firm-own-secret"
    )
    note = deliver(survey_text())
    assert aliyun.sends() == [], "no template of the installation's is sent from the firm's account"
    assert "renocrm.template_not_mapped" in note.last_error


# Staff account messages: the installation's account, never a firm's ----------------------------------------------


def own_account(aliyun, settings):
    settings.SMS_PROVIDER_ENDPOINTS = {"aliyun": aliyun.url, "tencent": ""}
    return NoticeSettings.objects.create(
        provider="aliyun",
        sign_name="美家装饰",
        access_key_id="LTAI5tFirmOwnKey",
        access_key_secret="firm-own-secret",
        templates={
            "callbacks.survey_link": {"code": "SMS_777", "params": {}},
            "staff.password_reset": {"code": "SMS_778", "params": {}},
        },
    )


def test_a_password_reset_link_goes_through_the_installations_account_and_is_forgotten_once_sent(
    aliyun, firm, settings
):
    from renocrm.accounts.services import staff_password_reset_send
    from tests.factories import MembershipFactory, UserFactory

    own_account(aliyun, settings)
    admin = MembershipFactory(tenant=firm).user
    member = MembershipFactory(tenant=firm, user=UserFactory(phone="13600000001"))
    note = deliver(staff_password_reset_send(membership=member, by=admin))
    [call] = aliyun.sends()
    assert "Credential=LTAI5tInstallation" in call["headers"]["authorization"]
    assert (call["query"]["SignName"], call["query"]["TemplateCode"]) == ("装修云", "SMS_465300011")
    assert "/accounts/password-reset/" in json.loads(call["query"]["TemplateParam"])["url"]
    assert note.status == Notification.Status.SENT
    assert (note.body, note.sms_params) == ("", {}), "the link is a credential: not kept once sent"
    receipt = SmsReceipt.objects.get(notification=note)
    assert receipt.through_installation

    # Its receipt is asked of the installation's account too.
    aliyun.sent[0]["status"] = 3
    assert receipts.sms_receipts_check(now=timezone.now() + timedelta(minutes=2)) == 1
    [query] = [c for c in aliyun.calls if aliyun.action(c) == "QuerySendDetails"]
    assert "Credential=LTAI5tInstallation" in query["headers"]["authorization"]


def test_staff_texts_use_the_installations_local_backend_when_it_has_no_gateway(aliyun, firm, settings):
    settings.SMS_BACKEND = "renocrm.outbox.sms.LocmemBackend"
    own_account(aliyun, settings)
    sms.outbox.clear()
    for template in ("staff.invitation", "staff.notice"):
        deliver(survey_text(key=template, template=template, params={"firm": "美家装饰", "url": "https://x/"}))
    assert aliyun.sends() == []
    assert [message.template for message in sms.outbox] == ["staff.invitation", "staff.notice"]
    assert Notification.objects.get(idempotency_key="staff.invitation").body == ""
    assert Notification.objects.get(idempotency_key="staff.notice").body != ""


def test_an_email_holding_a_credential_is_forgotten_once_sent(firm):
    note = services.notification_send(
        channel=Notification.Channel.EMAIL,
        recipient="li@example.com",
        subject="Join us",
        body="Set your password: https://crm.example.cn/accounts/invitation/abc/",
        idempotency_key="invite-1",
        credential=True,
    )
    assert deliver(note).body == ""


# Gateway answers are kept masked ----------------------------------------------------------------------------------


def test_no_answer_keeps_only_what_failed_never_the_request(aliyun, firm, settings):
    settings.SMS_ENDPOINT = "http://127.0.0.1:9"  # refused: the client's error quotes the request's URL
    note = deliver(survey_text())
    receipt = SmsReceipt.objects.get(notification=note)
    for text in (note.last_error, receipt.error_message):
        assert text and MOBILE not in text and "TemplateParam" not in text and "%E7%8E%8B" not in text


def test_a_refusal_quoting_the_number_is_kept_masked(aliyun, firm, caplog):
    aliyun.send_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    aliyun.refusal_message = "触发号码 {phone} 天级流控"
    note = deliver(survey_text())
    receipt = SmsReceipt.objects.get(notification=note)
    assert "138****8000" in note.last_error and "138****8000" in receipt.error_message
    assert MOBILE not in note.last_error + receipt.error_message + caplog.text


def test_erasing_the_customer_forgets_what_the_gateway_said_about_their_texts(aliyun, firm):
    from leads.services.privacy import customer_erase
    from tests.leads.factories import CustomerFactory

    customer = CustomerFactory(name="王先生", mobile=MOBILE)
    aliyun.send_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    aliyun.refusal_message = "王先生 {phone}"
    note = deliver(survey_text())
    assert note.last_error and SmsReceipt.objects.get(notification=note).error_message
    customer_erase(customer=customer)
    note.refresh_from_db()
    assert note.last_error == "" and SmsReceipt.objects.get(notification=note).error_message == ""
