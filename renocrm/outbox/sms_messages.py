"""Every SMS RenoCRM sends, by its stable key, with the parameters its sender fills.

Mainland gateways send only approved templates: a firm registers one template per message with Alibaba Cloud
or Tencent Cloud and maps the message's key to the template's code and the template's parameters to the
values below (``NoticeSettings.templates``; the installation's own in ``settings.SMS_TEMPLATES``). The
platform knows no lifecycle app, so the keys are plain strings here, like the event types in ``events.py``;
tests/outbox/test_sms_messages.py fails when a sender passes a key or a parameter missing from this list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class SmsKind:
    key: str
    label: str
    # (name, label) in the order a positional template (Tencent Cloud's {1}, {2} …) takes them by default.
    params: tuple[tuple[str, str], ...]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for name, _label in self.params)


FIRM = ("firm", gettext_lazy("firm name"))
PROJECT = ("project", gettext_lazy("project"))
URL = ("url", gettext_lazy("link"))
NAME = ("name", gettext_lazy("customer name"))
PHONE = ("phone", gettext_lazy("firm phone"))

SMS_MESSAGES: tuple[SmsKind, ...] = (
    SmsKind(
        "callbacks.survey_link",
        gettext_lazy("Callback survey link"),
        (
            ("customer_name", gettext_lazy("customer name")),
            ("firm_name", gettext_lazy("firm name")),
            ("agent_name", gettext_lazy("agent name")),
            ("firm_phone", gettext_lazy("firm phone")),
            ("survey_link", gettext_lazy("survey link")),
        ),
    ),
    SmsKind(
        "callbacks.visit_scheduled",
        gettext_lazy("Callback visit booked"),
        (FIRM, ("day", gettext_lazy("day")), ("time", gettext_lazy("time")), PHONE),
    ),
    SmsKind(
        "contracts.measurement_reminder",
        gettext_lazy("Measurement appointment reminder"),
        (
            FIRM,
            NAME,
            ("day", gettext_lazy("day")),
            ("time", gettext_lazy("time")),
            ("designer", gettext_lazy("designer")),
            PHONE,
        ),
    ),
    SmsKind(
        "contracts.payment_reminder",
        gettext_lazy("Payment reminder"),
        (
            FIRM,
            NAME,
            ("kind", gettext_lazy("instalment")),
            ("amount", gettext_lazy("amount")),
            ("contract", gettext_lazy("contract number")),
            ("day", gettext_lazy("due date")),
            PHONE,
        ),
    ),
    SmsKind(
        "contracts.quotation_link",
        gettext_lazy("Quotation link"),
        (FIRM, NAME, ("total", gettext_lazy("total")), URL, ("date", gettext_lazy("valid until"))),
    ),
    SmsKind(
        "worksites.portal_link",
        gettext_lazy("Homeowner portal link"),
        (FIRM, PROJECT, URL, ("date", gettext_lazy("valid until")), PHONE),
    ),
    SmsKind(
        "worksites.weekly_digest",
        gettext_lazy("Weekly progress digest"),
        (
            FIRM,
            PROJECT,
            ("updates", gettext_lazy("new progress updates")),
            ("awaiting", gettext_lazy("items awaiting sign-off")),
            URL,
        ),
    ),
    SmsKind(
        "worksites.inspection_notice",
        gettext_lazy("Inspection notice"),
        (
            FIRM,
            PROJECT,
            ("kind", gettext_lazy("inspection")),
            ("date", gettext_lazy("date")),
            ("time", gettext_lazy("time")),
            ("checks", gettext_lazy("what to check")),
            URL,
        ),
    ),
    SmsKind(
        "worksites.final_acceptance_invite",
        gettext_lazy("Final acceptance invitation"),
        (FIRM, PROJECT, ("day", gettext_lazy("day")), URL),
    ),
    SmsKind(
        "aftercare.warranty_reminder",
        gettext_lazy("Warranty-expiry reminder"),
        (
            FIRM,
            NAME,
            ("coverage", gettext_lazy("coverage")),
            PROJECT,
            ("ends_on", gettext_lazy("end date")),
            PHONE,
        ),
    ),
    SmsKind("aftercare.birthday_greeting", gettext_lazy("Birthday greeting"), (FIRM, NAME)),
    SmsKind(
        "aftercare.holiday_greeting",
        gettext_lazy("Holiday greeting"),
        (FIRM, NAME, ("greeting", gettext_lazy("greeting"))),
    ),
    SmsKind(
        "aftercare.inspection_offer",
        gettext_lazy("Free inspection offer"),
        (FIRM, NAME, ("coverage", gettext_lazy("coverage")), PROJECT, ("ends_on", gettext_lazy("end date"))),
    ),
    SmsKind(
        "staff.invitation",
        gettext_lazy("Invitation to join the firm's staff"),
        (FIRM, ("until", gettext_lazy("valid until")), URL),
    ),
    SmsKind("staff.password_reset", gettext_lazy("Link to set a new password"), (FIRM, URL)),
    SmsKind(
        "staff.notice",
        gettext_lazy("Notice to staff"),
        (("subject", gettext_lazy("subject")), ("body", gettext_lazy("text"))),
    ),
)

SMS_KINDS: dict[str, SmsKind] = {kind.key: kind for kind in SMS_MESSAGES}

# Messages to staff about their own account, which may belong to several firms: always through the
# installation's account, under its signature and templates, never through a firm's own gateway account.
INSTALLATION_ONLY = frozenset({"staff.invitation", "staff.password_reset", "staff.notice"})
# The messages a firm maps to approved templates of its own account.
FIRM_MESSAGES: tuple[SmsKind, ...] = tuple(kind for kind in SMS_MESSAGES if kind.key not in INSTALLATION_ONLY)
# Messages whose text is a credential (a link that signs someone in): blanked once sent or given up.
CREDENTIAL_MESSAGES = frozenset({"staff.invitation", "staff.password_reset"})

# Alibaba Cloud: SMS_ and digits; Tencent Cloud: the template's numeric id.
_TEMPLATE_CODE = {"aliyun": re.compile(r"^SMS_\d{1,20}$"), "tencent": re.compile(r"^\d{1,20}$")}
_PARAM_NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")


def parse_param_map(text: str) -> dict[str, str]:
    """``"name=customer_name, link=survey_link"`` (commas or new lines) as {provider's name: RenoCRM's}."""
    pairs = {}
    for item in re.split(r"[,\n;，]+", text or ""):
        item = item.strip()
        if not item:
            continue
        provider, sep, ours = item.partition("=")
        provider, ours = provider.strip(), ours.strip()
        if not sep or not provider or not ours:
            raise ValidationError(_("Write each parameter as template_name=renocrm_name, e.g. name=customer_name."))
        if provider in pairs:
            raise ValidationError(_("The template parameter %(name)s is named twice.") % {"name": provider})
        pairs[provider] = ours
    return pairs


def format_param_map(params: dict[str, str]) -> str:
    return ", ".join(f"{provider}={ours}" for provider, ours in params.items())


def clean_template(*, provider: str, key: str, code: str, params: dict[str, str]) -> dict:
    """One message's mapping as stored, or a refusal: a template code in the provider's form, template
    parameter names a template can have (Tencent Cloud's are 1, 2, 3 … in order), and only the values the
    message has."""
    kind = SMS_KINDS.get(key)
    if kind is None:
        raise ValidationError(_("Unknown message %(key)s.") % {"key": key})
    code = (code or "").strip()
    pattern = _TEMPLATE_CODE.get(provider)
    if pattern is not None and code and not pattern.match(code):
        raise ValidationError(
            _("%(code)s is not a template code of this provider (Alibaba Cloud: SMS_123456789; Tencent Cloud: digits).")
            % {"code": code}
        )
    unknown = sorted(ours for ours in params.values() if ours not in kind.param_names)
    if unknown:
        raise ValidationError(
            _("%(message)s has no value %(names)s. It has: %(allowed)s.")
            % {"message": kind.label, "names": ", ".join(unknown), "allowed": ", ".join(kind.param_names)}
        )
    bad = [name for name in params if not _PARAM_NAME.match(name)]
    if bad:
        raise ValidationError(
            _("Template parameters are letters, digits and underscores: %(names)s.") % {"names": ", ".join(bad)}
        )
    if provider == "tencent" and params:
        expected = [str(n) for n in range(1, len(params) + 1)]
        if sorted(params, key=lambda name: int(name) if name.isdigit() else 0) != expected:
            raise ValidationError(
                _("A Tencent Cloud template numbers its parameters: use 1, 2, 3 … (e.g. 1=firm, 2=url).")
            )
    if params and not code:
        raise ValidationError(_("Enter the template code for these parameters."))
    return {"code": code, "params": params} if code else {}


def template_values(kind_key: str, mapping: dict, values: dict) -> list[tuple[str, str]]:
    """The (template parameter, value) pairs one message sends under ``mapping``, in the template's order;
    without a parameter mapping, the message's own names in their declared order."""
    kind = SMS_KINDS.get(kind_key)
    params = mapping.get("params") or {}
    if not params:
        names = kind.param_names if kind is not None else tuple(values)
        return [(name, _text(values.get(name))) for name in names]
    ordered = sorted(params.items(), key=lambda item: (0, int(item[0])) if item[0].isdigit() else (1, 0))
    return [(provider, _text(values.get(ours))) for provider, ours in ordered]


def _text(value) -> str:
    return "" if value is None else str(value)
