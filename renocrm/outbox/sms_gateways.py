"""The mainland SMS gateways' common part, and which backend a firm's texts go through.

The installation names its backend in SMS_BACKEND ("aliyun", "tencent", or a dotted path such as the console
backend) with SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET, SMS_SIGN_NAME, SMS_APP_ID, SMS_REGION, SMS_ENDPOINT and
SMS_TEMPLATES. A firm may send through a gateway account of its own (``NoticeSettings`` with its own
credentials): then, and only then, its own signature, SMS application and template codes apply. A firm without
credentials of its own sends through the installation's account under the installation's signature and
templates, whatever its settings say: a signature belongs to the account that registered it, and the
installation's account must not carry another firm's name. Messages about a staff member's own account
(``sms_messages.INSTALLATION_ONLY``) always go through the installation. The gateway's address is the
installation's alone (SMS_ENDPOINT, SMS_ALIYUN_ENDPOINT, SMS_TENCENT_ENDPOINT): a firm never chooses where our
workers connect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from .sms import BaseBackend, SmsAccepted, SmsMessage, SmsRefused, SmsReport, backend_path, get_sms_backend
from .sms_messages import INSTALLATION_ONLY, template_values

DEFAULT_REGION = {"aliyun": "cn-hangzhou", "tencent": "ap-guangzhou"}
DEFAULT_ENDPOINT = {"aliyun": "dysmsapi.aliyuncs.com", "tencent": "sms.tencentcloudapi.com"}


@dataclass(frozen=True)
class GatewayConfig:
    access_key_id: str = ""
    access_key_secret: str = field(default="", repr=False)
    sign_name: str = ""
    app_id: str = ""  # Tencent Cloud's SmsSdkAppId
    region: str = ""
    endpoint: str = ""  # a host name, or a URL (scheme, host and port) to reach the gateway elsewhere
    templates: Mapping[str, dict] = field(default_factory=dict)
    timeout: float = 10.0
    own: bool = False  # the firm's own account; else the installation's

    def address(self, provider: str) -> tuple[str, str]:
        """(protocol, host[:port]) to reach the gateway."""
        endpoint = self.endpoint or DEFAULT_ENDPOINT[provider]
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            return parts.scheme.lower(), parts.netloc
        return "https", endpoint


class GatewayBackend(BaseBackend):
    """A mainland gateway: sends a message's approved template, finds a message by its idempotency key, and
    reports a message's receipt."""

    provider = ""
    # Whether ``find_sent`` sees a message the gateway took before the carrier reported it. When it does not,
    # a text whose earlier attempt got no answer is not sent again until SMS_RECEIPT_WAIT_HOURS have passed
    # without its receipt (renocrm.outbox.receipts).
    finds_unreported = True

    def __init__(self, config: GatewayConfig | None = None):
        self.config = config if config is not None else installation_config(self.provider)

    def template(self, message: SmsMessage) -> tuple[str, list[tuple[str, str]]]:
        """The approved template's code and its (parameter, value) pairs, or a refusal."""
        if not self.config.access_key_id or not self.config.access_key_secret:
            raise SmsRefused("renocrm.no_credentials", "No access key for the SMS gateway.")
        if not self.config.sign_name:
            raise SmsRefused("renocrm.no_signature", "No SMS signature is set.")
        if not message.template:
            # A text with no message key can never be sent as a template: it is given up at once.
            raise SmsRefused("renocrm.no_message_key", "The message has no template key.", final=True)
        mapping = self.config.templates.get(message.template) or {}
        if not mapping.get("code"):
            raise SmsRefused("renocrm.template_not_mapped", f"No approved template for {message.template}.")
        return mapping["code"], template_values(message.template, mapping, dict(message.params))

    def send(self, message: SmsMessage) -> SmsAccepted:
        raise NotImplementedError

    def find_sent(self, message: SmsMessage, *, since: datetime) -> SmsAccepted | None:
        """The message this gateway took since ``since`` carrying ``message``'s idempotency key, if it knows one,
        with when it went out and its receipt where the gateway tells them."""
        return None

    def report(
        self, *, recipient: str, message_id: str, idempotency_key: str, accepted_at: datetime
    ) -> SmsReport | None:
        """The receipt of a message the gateway took (by its id, else by its idempotency key); None while the
        carrier has not reported."""
        raise NotImplementedError


def mainland_number(recipient: str) -> str:
    """11 digits for a mainland mobile (a +86 / 0086 prefix, spaces and dashes dropped); others as given."""
    digits = re.sub(r"[\s\-()]", "", recipient or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


# Which backend -----------------------------------------------------------------------------------------------


def installation_provider() -> str:
    """The gateway SMS_BACKEND names ("aliyun", "tencent"), or "" for a local backend."""
    backend = import_string(backend_path(settings.SMS_BACKEND))
    return getattr(backend, "provider", "")


def _endpoint(provider: str, *, installation: bool) -> str:
    if installation and settings.SMS_ENDPOINT:
        return settings.SMS_ENDPOINT
    return settings.SMS_PROVIDER_ENDPOINTS.get(provider, "")


def installation_config(provider: str) -> GatewayConfig:
    """The installation's settings for ``provider``: its account only when SMS_BACKEND names that provider."""
    if provider == installation_provider():
        return GatewayConfig(
            access_key_id=settings.SMS_ACCESS_KEY_ID,
            access_key_secret=settings.SMS_ACCESS_KEY_SECRET,
            sign_name=settings.SMS_SIGN_NAME,
            app_id=settings.SMS_APP_ID,
            region=settings.SMS_REGION or DEFAULT_REGION[provider],
            endpoint=_endpoint(provider, installation=True),
            templates=dict(settings.SMS_TEMPLATES),
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )
    return GatewayConfig(
        region=DEFAULT_REGION[provider],
        endpoint=_endpoint(provider, installation=False),
        timeout=settings.SMS_TIMEOUT_SECONDS,
    )


def gateway_class(provider: str) -> type[GatewayBackend]:
    installed = import_string(backend_path(settings.SMS_BACKEND))
    if getattr(installed, "provider", "") == provider:
        return installed
    return import_string(backend_path(provider))


def has_own_account(firm_settings, provider: str | None = None) -> bool:
    """Whether the firm sends through a gateway account of its own (``provider``'s, when named)."""
    return bool(
        firm_settings is not None
        and firm_settings.provider
        and (provider is None or firm_settings.provider == provider)
        and firm_settings.access_key_id
        and firm_settings.access_key_secret
    )


def firm_config(provider: str, firm_settings) -> GatewayConfig:
    """``provider``'s settings for the current firm: with the firm's own credentials for that provider, the
    firm's account, signature, SMS application and templates, and nothing of the installation's but the
    gateway's address and timeout; otherwise the installation's account exactly as configured."""
    config = installation_config(provider)
    if not has_own_account(firm_settings, provider):
        return config
    return replace(
        config,
        access_key_id=firm_settings.access_key_id,
        access_key_secret=firm_settings.access_key_secret,
        sign_name=firm_settings.sign_name,
        app_id=firm_settings.app_id,
        templates=dict(firm_settings.templates or {}),
        own=True,
    )


def firm_provider(firm_settings) -> str:
    """The gateway the current firm's texts go through, or "" for the installation's local backend."""
    if has_own_account(firm_settings):
        return firm_settings.provider
    return installation_provider()


def sms_backend(message_key: str, firm_settings) -> BaseBackend:
    """The backend for one of the current firm's texts (``firm_settings``: its NoticeSettings row, or None):
    the installation's for a message about a staff member's own account, else the firm's."""
    if message_key in INSTALLATION_ONLY:
        return firm_sms_backend(None)
    return firm_sms_backend(firm_settings)


def firm_sms_backend(firm_settings) -> BaseBackend:
    """The backend for the current firm's texts (``firm_settings``: its NoticeSettings row, or None)."""
    provider = firm_provider(firm_settings)
    if not provider:
        return get_sms_backend()
    return gateway_class(provider)(firm_config(provider, firm_settings))


def firm_gateway(provider: str, firm_settings, *, through_installation: bool = False) -> GatewayBackend | None:
    """``provider``'s backend for the current firm (to fetch a receipt of a message sent through it): the
    installation's account when the message went through it, else the account the firm's texts go through
    now; None when that account cannot be reached any more."""
    if provider not in DEFAULT_ENDPOINT:
        return None
    config = installation_config(provider) if through_installation else firm_config(provider, firm_settings)
    if not config.access_key_id or not config.access_key_secret:
        return None
    return gateway_class(provider)(config)
