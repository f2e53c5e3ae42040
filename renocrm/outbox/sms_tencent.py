"""Tencent Cloud SMS (腾讯云短信, API version 2021-01-11) through its SDK, tencentcloud-sdk-python.

SendSms sends the approved template (TemplateId, TemplateParamSet in the template's order) of the SMS
application (SmsSdkAppId) under the signature (SignName), with the notification's idempotency key as
SessionContext; the answer carries each number's own Code and SerialNo. PullSmsSendStatusByPhoneNumber lists a
number's receipts since a time (SerialNo, SessionContext, SUCCESS or FAIL): it gives the receipts without
draining a queue other firms share (PullSmsSendStatus would), and tells a retry whether the message went out.

It lists only messages whose carrier receipt has arrived: a message the gateway took but the carrier has not
reported yet cannot be found by its SessionContext. So after an attempt that got no answer, a text is not sent
again before SMS_RECEIPT_WAIT_HOURS have passed without a receipt carrying its key (``finds_unreported``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as api
from tencentcloud.sms.v20210111.sms_client import SmsClient

from .models import SmsReceipt
from .sms import SmsAccepted, SmsMessage, SmsRefused, SmsReport, SmsUnanswered
from .sms_gateways import GatewayBackend, mainland_number

# Codes after which sending the same message again cannot succeed: the number or the content is refused.
FINAL_CODES = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.ContainSensitiveWord",
        "InvalidParameterValue.ContentLengthLimit",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    }
)
# The SDK's own codes for a request that got no answer.
NETWORK_CODES = frozenset({"ClientNetworkError", "ServerNetworkError"})
RECEIPT_PAGE = 100
RECEIPT_PAGES = 5  # of one number's receipts since a time


def unanswered(code: str | None) -> bool:
    """A request that got no answer, or the gateway's own failure (InternalError, InternalError.*): the
    message may have gone out."""
    code = code or ""
    return code in NETWORK_CODES or code == "InternalError" or code.startswith("InternalError.")


def e164(recipient: str) -> str:
    number = mainland_number(recipient)
    if number.startswith("+"):
        return number
    return f"+86{number}" if len(number) == 11 else number


class TencentBackend(GatewayBackend):
    provider = "tencent"
    finds_unreported = False

    def template(self, message: SmsMessage):
        if not self.config.app_id:
            raise SmsRefused("renocrm.no_app_id", "No SMS application ID (SmsSdkAppId) is set.")
        return super().template(message)

    def client(self) -> SmsClient:
        protocol, host = self.config.address(self.provider)
        profile = HttpProfile(endpoint=host, protocol=protocol, reqTimeout=int(self.config.timeout))
        return SmsClient(
            credential.Credential(self.config.access_key_id, self.config.access_key_secret),
            self.config.region,
            ClientProfile(httpProfile=profile),
        )

    def _call(self, action: str, request):
        try:
            return getattr(self.client(), action)(request)
        except TencentCloudSDKException as error:
            if unanswered(error.code):
                # Only the code: a network error's message may quote the request.
                raise SmsUnanswered(error.code) from error
            raise SmsRefused(error.code or "unknown", error.message or "", final=error.code in FINAL_CODES) from error

    def send(self, message: SmsMessage) -> SmsAccepted:
        code, values = self.template(message)
        request = api.SendSmsRequest()
        request.PhoneNumberSet = [e164(message.recipient)]
        request.SmsSdkAppId = self.config.app_id
        request.SignName = self.config.sign_name
        request.TemplateId = code
        request.TemplateParamSet = [value for _name, value in values]
        request.SessionContext = message.idempotency_key
        response = self._call("SendSms", request)
        statuses = response.SendStatusSet or []
        if not statuses:
            # An answer that does not say whether the number's message was taken: it may have been.
            raise SmsUnanswered("renocrm.no_status")
        status = statuses[0]
        if unanswered(status.Code):
            raise SmsUnanswered(status.Code)
        if (status.Code or "").lower() != "ok":
            raise SmsRefused(status.Code or "unknown", status.Message or "", final=status.Code in FINAL_CODES)
        return SmsAccepted(self.provider, status.SerialNo or "")

    def _receipts(self, *, recipient: str, since: datetime) -> list:
        request = api.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int((since - timedelta(minutes=5)).timestamp())
        request.EndTime = int(datetime.now(UTC).timestamp()) + 60
        request.Limit = RECEIPT_PAGE
        request.PhoneNumber = e164(recipient)
        request.SmsSdkAppId = self.config.app_id
        receipts = []
        for page in range(RECEIPT_PAGES):
            request.Offset = page * RECEIPT_PAGE
            found = list(self._call("PullSmsSendStatusByPhoneNumber", request).PullSmsSendStatusSet or [])
            receipts += found
            if len(found) < RECEIPT_PAGE:
                break
        return receipts

    def find_sent(self, message: SmsMessage, *, since: datetime) -> SmsAccepted | None:
        for status in self._receipts(recipient=message.recipient, since=since):
            if status.SessionContext == message.idempotency_key:
                # Found by its receipt, which is therefore in: kept at once. The gateway tells no send time.
                return SmsAccepted(self.provider, status.SerialNo or "", report=_report(status))
        return None

    def report(
        self, *, recipient: str, message_id: str, idempotency_key: str, accepted_at: datetime
    ) -> SmsReport | None:
        for status in self._receipts(recipient=recipient, since=accepted_at):
            if (message_id and status.SerialNo == message_id) or (
                not message_id and status.SessionContext == idempotency_key
            ):
                return _report(status)
        return None


def _report(status) -> SmsReport:
    received = datetime.fromtimestamp(status.UserReceiveTime, UTC) if status.UserReceiveTime else None
    if (status.ReportStatus or "").upper() == "SUCCESS":
        return SmsReport(SmsReceipt.Status.DELIVERED, received_at=received, message_id=status.SerialNo or "")
    return SmsReport(
        SmsReceipt.Status.UNDELIVERED,
        error_code=status.Description or status.ReportStatus or "",
        received_at=received,
        message_id=status.SerialNo or "",
    )
