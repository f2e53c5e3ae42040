"""Writes of the firm's notice settings: its SMS gateway, signature, credentials and approved templates, and
its WeCom group robots. Credentials and robot keys are written here and never read back to a page."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renocrm.tenancy.context import require_current_tenant

from .models import NoticeSettings, Notification, WecomRobot
from .sms_gateways import installation_provider
from .sms_messages import FIRM_MESSAGES, clean_template
from .wecom import check_webhook_url

_CREDENTIAL = re.compile(r"^[A-Za-z0-9_\-+/=]{8,128}$")
_SIGN_NAME = re.compile(r"^[^\s【】\[\]]{2,20}$")
_APP_ID = re.compile(r"^\d{6,20}$")
FIRM_KEYS = frozenset(kind.key for kind in FIRM_MESSAGES)


def masked_credential(value: str) -> str:
    """An access key as pages show it: enough to recognise, never enough to use."""
    if not value:
        return ""
    return f"{value[:4]}••••{value[-4:]}" if len(value) > 12 else "••••"


@transaction.atomic
def notice_settings_update(
    *,
    provider: str,
    sign_name: str = "",
    app_id: str = "",
    access_key_id: str = "",
    access_key_secret: str = "",
    clear_credentials: bool = False,
    templates: dict[str, dict] | None = None,
) -> NoticeSettings:
    """Save the firm's SMS settings. Blank credentials keep the saved ones (they are never shown back);
    ``clear_credentials`` forgets them; a change of provider forgets them unless new ones are given.
    ``templates``: {message key: {"code": …, "params": {template parameter: RenoCRM value}}}.

    A signature, SMS application and template codes belong to the gateway account that registered them, so
    they are the firm's to set only with its own account (credentials of its own): without one its texts go
    through the installation's account under the installation's signature and templates, and those fields are
    refused (forgotten when the firm is forgetting its credentials now). Messages about a staff member's own
    account always go through the installation: no template of the firm's is kept for them."""
    row = NoticeSettings.objects.select_for_update().first()
    if row is None:
        try:
            with transaction.atomic():
                row = NoticeSettings.objects.create()
        except IntegrityError:  # a concurrent first save made it a moment ago
            row = NoticeSettings.objects.select_for_update().get()
    errors: dict[str, list[str]] = {}
    if provider not in NoticeSettings.Provider.values:
        raise ValidationError({"provider": _("Choose an SMS provider.")})
    installed = installation_provider()
    sign_name, app_id = (sign_name or "").strip(), (app_id or "").strip()
    access_key_id, access_key_secret = (access_key_id or "").strip(), (access_key_secret or "").strip()
    templates = {key: mapping for key, mapping in (templates or {}).items() if key in FIRM_KEYS}

    had_own = bool(row.provider and row.access_key_id and row.access_key_secret)
    if clear_credentials or (provider != row.provider and not access_key_id):
        row.access_key_id = row.access_key_secret = ""
    if access_key_id or access_key_secret:
        if not (access_key_id and access_key_secret):
            errors.setdefault("access_key_id", []).append(_("Enter both the AccessKey ID and its secret."))
        elif not (_CREDENTIAL.match(access_key_id) and _CREDENTIAL.match(access_key_secret)):
            errors.setdefault("access_key_id", []).append(_("This does not look like an access key."))
        elif not provider:
            errors.setdefault("provider", []).append(_("Choose the provider these credentials are for."))
        else:
            row.access_key_id, row.access_key_secret = access_key_id, access_key_secret
    if provider and provider != installed and not row.access_key_id and "access_key_id" not in errors:
        errors.setdefault("access_key_id", []).append(
            _("This installation sends no texts through that provider: enter your own AccessKey ID and secret.")
        )
    own = bool(provider and row.access_key_id and row.access_key_secret) or "access_key_id" in errors

    cleaned = {}
    if own:
        if sign_name and not _SIGN_NAME.match(sign_name):
            errors.setdefault("sign_name", []).append(
                _("Enter the signature as registered, without 【】, e.g. 美家装饰 (2 to 20 characters).")
            )
        if not sign_name:
            errors.setdefault("sign_name", []).append(_("Enter your registered SMS signature."))
        if app_id and not _APP_ID.match(app_id):
            errors.setdefault("app_id", []).append(_("The SMS application ID is digits, e.g. 1400006666."))
        if provider == "tencent" and not app_id:
            errors.setdefault("app_id", []).append(_("Tencent Cloud needs the SMS application ID (SmsSdkAppId)."))
        for key, mapping in templates.items():
            try:
                entry = clean_template(
                    provider=provider, key=key, code=mapping.get("code", ""), params=mapping.get("params") or {}
                )
            except ValidationError as error:
                errors.setdefault(f"templates.{key}", []).extend(error.messages)
                continue
            if entry:
                cleaned[key] = entry
    elif had_own:  # leaving its own account now: what belonged to it goes with it
        sign_name = app_id = ""
    else:
        only_own = _(
            "Only with your own AccessKey: texts through the installation's account go under its signature "
            "and templates."
        )
        if sign_name:
            errors.setdefault("sign_name", []).append(only_own)
        if app_id:
            errors.setdefault("app_id", []).append(only_own)
        for key, mapping in templates.items():
            if (mapping.get("code") or "").strip() or mapping.get("params"):
                errors.setdefault(f"templates.{key}", []).append(only_own)
    if errors:
        raise ValidationError(errors)
    row.provider, row.sign_name, row.app_id, row.templates = provider, sign_name, app_id, cleaned
    row.save()
    return row


# WeCom group robots ------------------------------------------------------------------------------------------


def _robot_fields(*, name: str, kinds: list[str], message_format: str) -> tuple[str, list[str]]:
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Name the robot, e.g. Sales team.")
    unknown = [kind for kind in kinds if kind not in WecomRobot.Kind.values]
    if unknown:
        errors["kinds"] = _("Unknown notices: %(kinds)s.") % {"kinds": ", ".join(unknown)}
    if message_format not in WecomRobot.Format.values:
        errors["message_format"] = _("Choose markdown or plain text.")
    if errors:
        raise ValidationError(errors)
    return name, [kind for kind in WecomRobot.Kind.values if kind in kinds]


def _save_robot(robot: WecomRobot) -> WecomRobot:
    if WecomRobot.objects.filter(name=robot.name).exclude(pk=robot.pk).exists():
        raise ValidationError({"name": _("The firm already has a robot of this name.")})
    try:
        with transaction.atomic():
            robot.save()
    except IntegrityError:
        raise ValidationError({"name": _("The firm already has a robot of this name.")}) from None
    return robot


@transaction.atomic
def wecom_robot_create(
    *,
    name: str,
    webhook_url: str,
    kinds: list[str],
    message_format: str = WecomRobot.Format.MARKDOWN,
    is_active: bool = True,
) -> WecomRobot:
    name, kinds = _robot_fields(name=name, kinds=kinds, message_format=message_format)
    url = check_webhook_url(webhook_url)
    robot = WecomRobot(name=name, webhook_url=url, kinds=kinds, message_format=message_format, is_active=is_active)
    return _save_robot(robot)


@transaction.atomic
def wecom_robot_update(
    *,
    robot: WecomRobot,
    name: str,
    kinds: list[str],
    message_format: str,
    is_active: bool,
    webhook_url: str = "",
) -> WecomRobot:
    """Change a robot. A blank ``webhook_url`` keeps the saved one (it holds the key and is not shown back)."""
    name, kinds = _robot_fields(name=name, kinds=kinds, message_format=message_format)
    robot = WecomRobot.objects.select_for_update().get(pk=robot.pk)
    if webhook_url.strip():
        robot.webhook_url = check_webhook_url(webhook_url)
    robot.name, robot.kinds, robot.message_format, robot.is_active = name, kinds, message_format, is_active
    return _save_robot(robot)


@transaction.atomic
def wecom_robot_delete(*, robot: WecomRobot) -> None:
    """Remove a robot; its messages not sent yet fail (there is no group to send them to)."""
    WecomRobot.objects.filter(pk=robot.pk).delete()


@transaction.atomic
def wecom_robot_test(*, robot: WecomRobot) -> Notification:
    """Post a test message to the robot's group now, so an admin sees the robot works."""
    from .services import notification_send

    firm = require_current_tenant()
    now = timezone.now()
    with translation.override(firm.language):
        text = _("%(firm)s: RenoCRM will post %(kinds)s to this group.") % {
            "firm": firm.name,
            "kinds": ("、" if firm.language.startswith("zh") else ", ").join(
                str(WecomRobot.Kind(kind).label) for kind in robot.kinds
            )
            or _("no notices yet"),
        }
    if robot.message_format == WecomRobot.Format.MARKDOWN:
        text = f"**{text}**"
    return notification_send(
        channel=Notification.Channel.WECOM,
        recipient=f"robot:{robot.pk}",
        subject=robot.message_format,
        body=text,
        idempotency_key=f"wecom-test:{robot.pk}:{now:%Y%m%d%H%M%S%f}",
    )
