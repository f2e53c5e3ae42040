"""WeCom (企业微信) group robots: the staff notices each robot takes, posted to its group once.

A robot takes notices of some kinds (``WecomRobot.Kind``); each kind is fed by outbox events, through the
handlers ``register_robot_handlers`` registers. For each event and each robot that takes its kind, a
``Notification`` on the "wecom" channel is written with the key ``wecom:<event id>:<robot id>``: dispatching an
event again writes nothing new, and delivery, retries and once-only are those of every notification.

Posting goes through ``renocrm.outbox.egress`` like a webhook: the robot's URL is checked again at every send,
only to public addresses, and redirects are not followed. The URL must be WeCom's robot address
(settings.WECOM_WEBHOOK_URL, ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send``) with the robot's key.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from renocrm.privacy.masking import mask_text
from renocrm.tenancy.context import require_current_tenant

from . import egress
from .models import Notification, OutboxEvent, WecomRobot

logger = logging.getLogger(__name__)

K = WecomRobot.Kind
# Which events feed each kind of notice.
KIND_EVENTS: dict[str, tuple[str, ...]] = {
    K.NEW_LEADS: ("lead.created",),
    K.OVERDUE_CALLBACKS: ("callbacks.overdue",),
    K.COMPLAINT_ESCALATIONS: ("complaint.escalated",),
    K.GATE_OVERRIDES: ("worksite.gate_overridden",),
}
EVENT_KIND = {event_type: kind for kind, types in KIND_EVENTS.items() for event_type in types}
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# WeCom's limits: a markdown message up to 4096 bytes, a text message up to 2048.
MAX_BYTES = {WecomRobot.Format.MARKDOWN: 4096, WecomRobot.Format.TEXT: 2048}
# WeCom's error codes after which posting again cannot succeed: the robot's key is gone or the URL is wrong.
FINAL_ERRORS = {93000, 93004, 40008, 40058}

# The values the events' payloads document (docs/events.md), named as the product names them; a value not
# listed here is shown as it comes.
LEAD_CHANNELS = {
    "online": gettext_lazy("Online inquiry"),
    "showroom": gettext_lazy("Showroom visit"),
    "referral": gettext_lazy("Referral by a customer"),
    "partner": gettext_lazy("Partner"),
    "phone": gettext_lazy("Phone"),
    "event": pgettext_lazy("lead channel", "Event"),
    "aftercare": gettext_lazy("Existing customer (aftercare)"),
    "other": gettext_lazy("Other"),
}
GATES = {
    "concealed_works": gettext_lazy("Concealed works accepted before they are covered"),
    "waterproofing": gettext_lazy("Closed-water test passed before tiling over it"),
    "pre_inspection": gettext_lazy("QC pre-inspection passed before the final acceptance"),
    "handover": gettext_lazy("Every phase finished and every inspection passed before handover"),
}
BREACHES = {
    "respond": gettext_lazy("not answered in time"),
    "resolve": gettext_lazy("not resolved in time"),
    "manual": gettext_lazy("escalated by staff"),
}


class RobotRefused(Exception):  # noqa: N818 - an outcome, not a programming error
    def __init__(self, text: str, *, final: bool = False):
        super().__init__(text)
        self.final = final


# The robot's address -------------------------------------------------------------------------------------------


def check_webhook_url(url: str) -> str:
    """The robot's URL as saved, or a refusal: WeCom's robot address with one ``key`` and nothing else."""
    url = (url or "").strip()
    base = settings.WECOM_WEBHOOK_URL
    parts = urlsplit(url)
    keys = parse_qs(parts.query, keep_blank_values=True)
    same_base = f"{parts.scheme}://{parts.netloc}{parts.path}".lower() == base.lower()
    if not same_base or set(keys) != {"key"} or len(keys["key"]) != 1 or not _KEY.match(keys["key"][0]):
        raise ValidationError(
            {
                "webhook_url": _("Paste the robot's webhook address from WeCom: %(base)s?key=…")
                % {"base": settings.WECOM_WEBHOOK_URL}
            }
        )
    return f"{base}?key={keys['key'][0]}"


def masked_url(url: str) -> str:
    """The robot's URL as pages show it: the key's last four characters only."""
    key = parse_qs(urlsplit(url).query).get("key", [""])[0]
    return f"{settings.WECOM_WEBHOOK_URL}?key=••••{key[-4:]}" if key else ""


# The notices ---------------------------------------------------------------------------------------------------


def _link(name: str, *args, query: str = "") -> str:
    try:
        return f"{settings.SITE_URL}{reverse(name, args=args)}{query}"
    except NoReverseMatch:
        return ""


def _lead_created(data: dict) -> tuple[str, str, str]:
    channel = data.get("channel", "")
    return (
        _("New lead"),
        _("Lead #%(id)s came in through %(channel)s.")
        % {"id": data.get("id"), "channel": LEAD_CHANNELS.get(channel, channel)},
        _link("leads:detail", data.get("id")),
    )


def _callbacks_overdue(data: dict) -> tuple[str, str, str]:
    return (
        _("Overdue callbacks"),
        _("%(count)s callbacks are overdue; the oldest was due on %(oldest)s.")
        % {"count": data.get("count"), "oldest": data.get("oldest_due_on")},
        _link("callbacks:list", query="?bucket=overdue"),
    )


def _complaint_escalated(data: dict) -> tuple[str, str, str]:
    values = {
        "id": data.get("id"),
        "from": data.get("from_level"),
        "to": data.get("to_level"),
        "why": BREACHES.get(data.get("breach", ""), data.get("breach", "")),
    }
    if data.get("from_level") == data.get("to_level"):
        text = _("Complaint #%(id)s is at level %(to)s, the top level, and was %(why)s.") % values
    else:
        text = _("Complaint #%(id)s went from level %(from)s to level %(to)s: %(why)s.") % values
    return _("Complaint escalated"), text, _link("complaints:detail", data.get("id"))


def _gate_overridden(data: dict) -> tuple[str, str, str]:
    gate = data.get("gate", "")
    # The reason is a person's words: a phone number in it is masked, as in any log.
    text = _("A firm admin lifted the gate “%(gate)s” on worksite #%(id)s. Reason: %(reason)s") % {
        "gate": GATES.get(gate, gate),
        "id": data.get("worksite_id"),
        "reason": mask_text(data.get("reason", "")),
    }
    return _("Construction gate lifted"), text, _link("worksites:detail", data.get("worksite_id"))


NOTICES: dict[str, Callable[[dict], tuple[str, str, str]]] = {
    "lead.created": _lead_created,
    "callbacks.overdue": _callbacks_overdue,
    "complaint.escalated": _complaint_escalated,
    "worksite.gate_overridden": _gate_overridden,
}


def robot_text(event: OutboxEvent, message_format: str) -> str:
    """The notice of ``event`` in the firm's language, as markdown or plain text."""
    firm = require_current_tenant()
    with translation.override(firm.language):
        title, text, link = NOTICES[event.event_type](event.payload)
        if message_format == WecomRobot.Format.MARKDOWN:
            lines = [f"**{firm.name} · {title}**", f"> {text}"]
            if link:
                lines.append(f"[{_('Open in RenoCRM')}]({link})")
        else:
            lines = [f"【{firm.name}】{title}", text]
            if link:
                lines.append(link)
    return _fit("\n".join(lines), MAX_BYTES[message_format])


def _fit(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


def on_event(event: OutboxEvent) -> None:
    """Outbox handler: the event's notice to every active robot that takes its kind, once per robot."""
    from .services import notification_send

    kind = EVENT_KIND.get(event.event_type)
    if kind is None:
        return
    for robot in WecomRobot.objects.filter(is_active=True, kinds__contains=[kind]).order_by("pk"):
        notification_send(
            channel=Notification.Channel.WECOM,
            recipient=f"robot:{robot.pk}",
            subject=robot.message_format,
            body=robot_text(event, robot.message_format),
            idempotency_key=f"wecom:{event.pk}:{robot.pk}",
        )


def register_robot_handlers() -> None:
    from .services import register_handler

    for event_type in EVENT_KIND:
        register_handler(event_type, on_event)


# Posting ---------------------------------------------------------------------------------------------------------


def robot_post(robot: WecomRobot, *, message_format: str, text: str) -> None:
    """Post one message to the robot's group; raises RobotRefused when WeCom did not take it."""
    key = "markdown" if message_format == WecomRobot.Format.MARKDOWN else "text"
    body = json.dumps({"msgtype": key, key: {"content": text}}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "RenoCRM-WeCom/1"}
    answer = egress.post(robot.webhook_url, body, headers, timeout=settings.WECOM_TIMEOUT_SECONDS)
    if answer.status is None or answer.error or not 200 <= answer.status < 300:
        raise RobotRefused(answer.error or f"HTTP {answer.status}")
    try:
        reply = json.loads(answer.body or "{}")
    except ValueError:
        raise RobotRefused(f"Not a WeCom answer: {answer.body[:100]}") from None
    code = reply.get("errcode", -1)
    if code != 0:
        raise RobotRefused(f"WeCom {code}: {reply.get('errmsg', '')}", final=code in FINAL_ERRORS)


def robot_for(notification: Notification) -> WecomRobot:
    """The robot a "wecom" notification goes to; a robot removed or turned off fails it at once."""
    robot_id = notification.recipient.removeprefix("robot:")
    robot = WecomRobot.objects.filter(pk=int(robot_id) if robot_id.isdigit() else 0).first()
    if robot is None or not robot.is_active:
        raise RobotRefused("The robot was removed or turned off.", final=True)
    return robot
