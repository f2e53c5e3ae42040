"""SMS backends, chosen by settings.SMS_BACKEND the way Django chooses its e-mail backend (or per firm, by its
notice settings: renocrm.outbox.sms_gateways). The console, file and locmem backends send the rendered body;
the mainland gateways (``sms_aliyun``, ``sms_tencent``) send the message's approved template with its values."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from renocrm.privacy.masking import mask_mobile, mask_text


@dataclass(frozen=True)
class SmsMessage:
    recipient: str
    body: str
    # Passed to the gateway as its client message id (Alibaba Cloud's OutId, Tencent Cloud's SessionContext):
    # a retry after no answer first asks the gateway whether a message with this key already went out.
    idempotency_key: str
    template: str = ""  # the message's key in renocrm.outbox.sms_messages
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SmsReport:
    """What a gateway reports of a message it took: ``status`` is an ``SmsReceipt.Status`` value."""

    status: str
    error_code: str = ""
    error_message: str = ""
    received_at: datetime | None = None
    message_id: str = ""


@dataclass(frozen=True)
class SmsAccepted:
    """A gateway took the message: its id there, to ask for the receipt with. A message found by a look-up
    after no answer carries when it went out (``accepted_at``, when the gateway says) and, when the carrier has
    reported already, its receipt (``report``)."""

    provider: str
    message_id: str
    accepted_at: datetime | None = None
    report: SmsReport | None = None
    found: bool = False  # found by a look-up, not taken now


class SmsRefused(Exception):  # noqa: N818 - a refusal, not a programming error
    """The gateway answered and did not take the message. ``final``: sending it again cannot succeed (the
    number is invalid or blocked, the content was rejected); otherwise it is tried again later (a rate limit,
    a template not mapped yet). The gateway's words are kept with mobile numbers masked: they end up in the
    notification's error, its receipt and the logs."""

    def __init__(self, code: str, message: str = "", *, final: bool = False):
        code, message = mask_text(code or ""), mask_text(message or "")
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.final = code, message, final


class SmsUnanswered(Exception):  # noqa: N818 - an outcome, not a programming error
    """No answer from the gateway (a timeout, a dropped connection, the gateway's own failure): the message may
    have gone out. Its text names only what failed (the exception's class, an HTTP status, an error code),
    never the request, which holds the number and the template's values."""


class BaseBackend:
    provider = ""  # a mainland gateway's name ("aliyun", "tencent"); empty for the local backends

    def send(self, message: SmsMessage) -> SmsAccepted | None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, message: SmsMessage) -> None:
        # The console is a log: the recipient's number is masked there like in every other log line.
        text = f"SMS to {mask_mobile(message.recipient)} [{message.idempotency_key}]\n{message.body}\n{'-' * 40}\n"
        sys.stdout.write(mask_text(text))
        sys.stdout.flush()


class FileBackend(BaseBackend):
    """One file per message under settings.SMS_FILE_PATH, named after its idempotency key."""

    def send(self, message: SmsMessage) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in message.idempotency_key)
        (folder / f"{name}.txt").write_text(f"To: {message.recipient}\n\n{message.body}\n", encoding="utf-8")


outbox: list[SmsMessage] = []


class LocmemBackend(BaseBackend):
    """Keeps messages in ``renocrm.outbox.sms.outbox`` for tests."""

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


# Short names SMS_BACKEND may use for the mainland gateways.
ALIASES = {
    "aliyun": "renocrm.outbox.sms_aliyun.AliyunBackend",
    "tencent": "renocrm.outbox.sms_tencent.TencentBackend",
}


def backend_path(name: str) -> str:
    return ALIASES.get(name, name)


def get_sms_backend() -> BaseBackend:
    """The installation's backend (SMS_BACKEND), configured from the SMS_* settings."""
    return import_string(backend_path(settings.SMS_BACKEND))()
