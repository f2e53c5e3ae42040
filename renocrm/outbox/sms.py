"""SMS backends, chosen by settings.SMS_BACKEND the way Django chooses its e-mail backend.
A real gateway is one more class with the same ``send`` method."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from renocrm.privacy.masking import mask_mobile, mask_text


@dataclass(frozen=True)
class SmsMessage:
    recipient: str
    body: str
    # Passed to the gateway as its client message id, so a retried send is not delivered twice.
    idempotency_key: str


class BaseBackend:
    def send(self, message: SmsMessage) -> None:
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


def get_sms_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()
