"""Alibaba Cloud SMS (阿里云短信服务, API version 2017-05-25) through its SDK, alibabacloud-dysmsapi20170525.

SendSms sends the approved template (TemplateCode, TemplateParam as JSON) under the signature (SignName), with
the notification's idempotency key as OutId. QuerySendDetails — by number and day, optionally by BizId —
answers with each message's OutId and status (1 waiting for the receipt, 2 failed, 3 delivered): it gives the
receipts and tells a retry whether the message already went out.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as api
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.runtime import RuntimeOptions

from .models import SmsReceipt
from .sms import SmsAccepted, SmsMessage, SmsRefused, SmsReport, SmsUnanswered
from .sms_gateways import GatewayBackend, mainland_number

CHINA = ZoneInfo("Asia/Shanghai")  # the gateway's days and times
# Codes after which sending the same message again cannot succeed: the number or the content is refused.
FINAL_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.INVALID_JSON_PARAM",
    }
)
WAITING, FAILED, DELIVERED = 1, 2, 3
DETAILS_PAGE = 50
LOOKUP_DAYS = 30  # QuerySendDetails answers for the last 30 days
LOOKUP_PAGES = 4  # of one number's messages of one day


class AliyunBackend(GatewayBackend):
    provider = "aliyun"

    def client(self) -> Client:
        protocol, host = self.config.address(self.provider)
        timeout_ms = int(self.config.timeout * 1000)
        return Client(
            openapi.Config(
                access_key_id=self.config.access_key_id,
                access_key_secret=self.config.access_key_secret,
                region_id=self.config.region,
                endpoint=host,
                protocol=protocol,
                read_timeout=timeout_ms,
                connect_timeout=timeout_ms,
            )
        )

    def _call(self, method, request):
        try:
            return method(request, RuntimeOptions()).body
        except AlibabaCloudException as error:
            code = error.code if error.code and error.code != "None" else ""
            if error.status_code is not None and error.status_code >= 500:
                # The gateway's own failure (5xx): it may have taken the message before failing, so this is
                # no answer, not a refusal.
                raise SmsUnanswered(
                    f"{type(error).__name__} HTTP {error.status_code}{f' {code}' if code else ''}"
                ) from error
            # The gateway answered with a refusal (bad credentials, throttled, a parameter refused).
            code = code or f"HTTP {error.status_code}"
            raise SmsRefused(code, error.message or "", final=code in FINAL_CODES) from error
        except Exception as error:  # darabonba wraps every network failure in its own exception types
            # Only the class: the exception's text may quote the request, with the number and the values.
            raise SmsUnanswered(type(error).__name__) from error

    def send(self, message: SmsMessage) -> SmsAccepted:
        code, values = self.template(message)
        request = api.SendSmsRequest(
            phone_numbers=mainland_number(message.recipient),
            sign_name=self.config.sign_name,
            template_code=code,
            template_param=json.dumps(dict(values), ensure_ascii=False),
            out_id=message.idempotency_key,
        )
        body = self._call(self.client().send_sms_with_options, request)
        if body.code != "OK":
            raise SmsRefused(body.code or "unknown", body.message or "", final=body.code in FINAL_CODES)
        return SmsAccepted(self.provider, body.biz_id or "")

    def _details(self, *, recipient: str, day: datetime, biz_id: str = "", pages: int = 1) -> list:
        """The number's messages of one day (China time), by BizId when given; up to ``pages`` pages."""
        details = []
        for page in range(1, pages + 1):
            request = api.QuerySendDetailsRequest(
                phone_number=mainland_number(recipient),
                send_date=day.astimezone(CHINA).strftime("%Y%m%d"),
                page_size=DETAILS_PAGE,
                current_page=page,
                biz_id=biz_id or None,
            )
            body = self._call(self.client().query_send_details_with_options, request)
            if body.code != "OK":
                raise SmsRefused(body.code or "unknown", body.message or "")
            dtos = body.sms_send_detail_dtos
            found = list(dtos.sms_send_detail_dto or []) if dtos is not None else []
            details += found
            if len(found) < DETAILS_PAGE or len(details) >= int(body.total_count or 0):
                break
        return details

    def find_sent(self, message: SmsMessage, *, since: datetime) -> SmsAccepted | None:
        # Every day from ``since`` to today (the gateway keeps 30 days), newest first.
        today = datetime.now(CHINA).date()
        first = max(since.astimezone(CHINA).date(), today - timedelta(days=LOOKUP_DAYS - 1))
        for back in range((today - first).days + 1):
            day = datetime.combine(today - timedelta(days=back), time(12), tzinfo=CHINA)
            for detail in self._details(recipient=message.recipient, day=day, pages=LOOKUP_PAGES):
                if detail.out_id == message.idempotency_key:
                    # QuerySendDetails names no BizId: the receipt is found again by the key and the day it
                    # went out (SendDate).
                    return SmsAccepted(
                        self.provider, "", accepted_at=_china_time(detail.send_date), report=_report(detail)
                    )
        return None

    def report(
        self, *, recipient: str, message_id: str, idempotency_key: str, accepted_at: datetime
    ) -> SmsReport | None:
        details = self._details(recipient=recipient, day=accepted_at, biz_id=message_id)
        # Asked by BizId the answer is that message; else the one carrying the key.
        fallback = details[0] if message_id and details else None
        detail = next((d for d in details if d.out_id == idempotency_key), fallback)
        return _report(detail) if detail is not None else None


def _report(detail) -> SmsReport | None:
    """A message's receipt as QuerySendDetails tells it; None while it waits for the carrier."""
    if detail.send_status == WAITING:
        return None
    received = _china_time(detail.receive_date)
    if detail.send_status == DELIVERED:
        return SmsReport(SmsReceipt.Status.DELIVERED, received_at=received)
    return SmsReport(SmsReceipt.Status.UNDELIVERED, error_code=detail.err_code or "", received_at=received)


def _china_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None
