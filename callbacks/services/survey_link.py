"""The homeowner's survey link: a signed token per SMS, opening it on the portal within the firm's
validity, and the text that carries it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext as _

from callbacks.models import SURVEY_SMS, Callback, CallbackSettings, Survey
from callbacks.services.plan import callback_settings_get
from renocrm import links
from renocrm.tenancy.context import require_current_tenant, tenant_context

SURVEY_SALT = "callbacks.survey-link"


def survey_link_token(callback: Callback) -> str:
    """A fresh token (it carries the time it was made: each SMS starts its own validity)."""
    return links.make_token(callback, salt=SURVEY_SALT)


def survey_link_url(callback: Callback) -> str:
    return f"/portal/survey/{survey_link_token(callback)}/"


def survey_link_absolute_url(callback: Callback, *, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{survey_link_url(callback)}"


@contextmanager
def open_survey_link(token: str):
    """Yields (callback, "") inside the callback's firm — audited as ``survey-link:<id>`` — or (None, why):
    "invalid" (tampered, unknown, cancelled, the firm gone), "expired" (older than the firm's
    survey_link_days) or "answered" (the survey is in)."""
    firm, callback_id, refused = links.read_token(token, salt=SURVEY_SALT)
    if refused:
        yield None, "invalid"
        return
    with tenant_context(firm, request_id=f"survey-link:{callback_id}"):
        callback = (
            Callback.objects.select_related("customer", "project", "worksite", "tenant").filter(pk=callback_id).first()
        )
        if callback is None or callback.status in (Callback.Status.CANCELLED, Callback.Status.SCHEDULED):
            yield None, "invalid"
            return
        if callback.status == Callback.Status.COMPLETED or Survey.objects.filter(callback=callback).exists():
            yield None, "answered"
            return
        max_age = timedelta(days=callback_settings_get().survey_link_days)
        try:
            signing.loads(token, salt=SURVEY_SALT, max_age=max_age)
        except signing.SignatureExpired:
            yield None, "expired"
            return
        yield callback, ""


def sms_key(callback: Callback) -> str:
    return f"callback:{callback.pk}:sms:{callback.attempts}"


def sms_message(callback: Callback, *, base_url: str, settings: CallbackSettings | None = None) -> dict:
    """The survey SMS as ``notification_send``'s keywords: the firm's text, and its values for the approved
    template a mainland gateway sends (the same link in both)."""
    tenant = require_current_tenant()
    settings = settings or callback_settings_get()
    with translation.override(tenant.language):
        agent = callback.assigned_to
        values = {
            "customer_name": callback.customer.name,
            "firm_name": tenant.name,
            "agent_name": str(agent) if agent is not None else _("customer service"),
            "firm_phone": tenant.phone,
            "survey_link": survey_link_absolute_url(callback, base_url=base_url),
        }
        body = SURVEY_SMS.render(settings.sms_template, values)
    return {"body": body, "sms_template": "callbacks.survey_link", "sms_params": values}
