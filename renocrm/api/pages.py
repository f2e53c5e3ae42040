"""The firm admin's integrations pages: API keys for partners, webhook endpoints with their delivery log,
and the integration guide. A key or a signing secret appears once, in the answer to the POST that made it:
it is never stored in full, put in the session or in a URL, and that answer is not cached."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework import exceptions
from rest_framework.settings import api_settings

from renocrm.accounts.access import permission_required
from renocrm.accounts.roles import COSTS_SCOPE, GROUPS, PAYMENTS_SCOPE
from renocrm.forms import submit
from renocrm.outbox import selectors as outbox_selectors
from renocrm.outbox import services as outbox_services
from renocrm.outbox import webhooks
from renocrm.outbox.events import EVENT_TYPES
from renocrm.outbox.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from renocrm.paging import before_param
from renocrm.privacy.masking import CONTACTS_SCOPE, may_see_contacts
from renocrm.tenancy.context import require_current_tenant

from . import guide_examples, services
from .apis import ApiKeySerializer
from .errors import error_body, exception_handler
from .forms import GROUP_LABELS, ApiKeyForm, EndpointActiveForm, WebhookEndpointForm
from .models import ApiKey
from .pagination import IdCursorPagination

VIEW, MANAGE = "integrations.view", "integrations.manage"
# The guide's Node.js verifier: a file of its own, which the tests run with node against real signatures.
NODE_VERIFIER = Path(__file__).resolve().parent / "guide" / "verify_signature.js"
ROTATION_GRACE_HOURS = 24  # webhook_endpoint_rotate_secret's default grace
NOQA = re.compile(r"  # noqa: [A-Z0-9, ]+")


def _secret_once(request, *, title: str, secret: str, what: str, back_url: str, facts: dict):
    response = render(
        request,
        "integrations/secret_once.html",
        {"title": title, "secret": secret, "what": what, "back_url": back_url, "facts": facts},
    )
    add_never_cache_headers(response)
    return response


@permission_required(VIEW)
def home(request):
    endpoints = WebhookEndpoint.objects.all()
    context = {
        "active_keys": ApiKey.objects.filter(revoked_at__isnull=True).count(),
        "endpoints": endpoints.count(),
        # Only those turned off after failing: one turned off by hand is no alarm.
        "disabled_endpoints": list(endpoints.filter(disabled_at__isnull=False).order_by("-disabled_at")),
    }
    return render(request, "integrations/home.html", context)


# API keys ---------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def api_key_list(request):
    keys = ApiKey.objects.order_by("revoked_at", "-id")
    return render(request, "integrations/api_key_list.html", {"keys": keys, "default_rate": _default_rate()})


@permission_required(VIEW, to_post=MANAGE)
def api_key_create(request):
    form = ApiKeyForm(request.POST if request.method == "POST" else None, initial={"scopes": ["leads:read"]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        api_key, raw_key = services.api_key_create(name=data["name"], scopes=data["scopes"], rate=data["rate"])
        return _secret_once(
            request,
            title=_("API key created"),
            secret=raw_key,
            what="api_key",
            back_url=reverse("integrations:keys"),
            facts={_("Name"): api_key.name, _("Prefix"): api_key.prefix, _("Scopes"): " ".join(api_key.scopes)},
        )
    return render(
        request,
        "integrations/api_key_form.html",
        {
            "form": form,
            "default_rate": _default_rate(),
            "contacts_scope": CONTACTS_SCOPE,
            "payments_scope": PAYMENTS_SCOPE,
            "costs_scope": COSTS_SCOPE,
        },
    )


@permission_required(VIEW, to_post=MANAGE)
def api_key_revoke(request, pk):
    api_key = get_object_or_404(ApiKey, pk=pk)
    if request.method == "POST":
        services.api_key_revoke(api_key=api_key)
        messages.success(request, _("The key %(name)s no longer works.") % {"name": api_key.name})
        return redirect("integrations:keys")
    return render(request, "integrations/api_key_revoke.html", {"key": api_key})


# Webhooks ---------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def webhook_list(request):
    endpoints = outbox_selectors.webhook_endpoint_list()
    return render(request, "integrations/webhook_list.html", {"endpoints": endpoints})


@permission_required(VIEW, to_post=MANAGE)
def webhook_create(request):
    contacts_allowed = may_see_contacts(request)
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None, contacts_allowed=contacts_allowed)
    endpoint = submit(
        request,
        form,
        lambda data: outbox_services.webhook_endpoint_create(**data, contacts_allowed=contacts_allowed),
    )
    if endpoint:
        return _secret_once(
            request,
            title=_("Webhook endpoint added"),
            secret=endpoint.secret,
            what="webhook",
            back_url=reverse("integrations:webhook", args=[endpoint.pk]),
            facts={_("URL"): endpoint.url},
        )
    return render(request, "integrations/webhook_form.html", {"form": form, "title": _("New webhook endpoint")})


@permission_required(VIEW, to_post=MANAGE)
def webhook_edit(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    contacts_allowed = may_see_contacts(request)
    form = WebhookEndpointForm(
        request.POST if request.method == "POST" else None, endpoint=endpoint, contacts_allowed=contacts_allowed
    )
    saved = submit(
        request,
        form,
        lambda data: outbox_services.webhook_endpoint_update(
            endpoint=endpoint, contacts_allowed=contacts_allowed, **data
        ),
    )
    if saved:
        messages.success(request, _("Webhook endpoint saved."))
        return redirect("integrations:webhook", pk=endpoint.pk)
    return render(
        request,
        "integrations/webhook_form.html",
        {"form": form, "title": _("Edit webhook endpoint"), "endpoint": endpoint},
    )


@permission_required(VIEW)
def webhook_detail(request, pk):
    try:
        endpoint = outbox_selectors.webhook_endpoint_get(pk=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None
    deliveries, older = outbox_selectors.webhook_delivery_page(endpoint=endpoint, before=before_param(request))
    grace_ends = endpoint.previous_secret_expires_at
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "older": older,
        "in_rotation": bool(endpoint.previous_secret and grace_ends and grace_ends > timezone.now()),
        "grace_ends": grace_ends,
    }
    return render(request, "integrations/webhook_detail.html", context)


@permission_required(VIEW, to_post=MANAGE)
@require_POST
def webhook_set_active(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = EndpointActiveForm(request.POST)
    form.is_valid()
    active = form.cleaned_data.get("active", False)
    outbox_services.webhook_endpoint_update(endpoint=endpoint, is_active=active)
    if active:
        messages.success(
            request,
            _("The endpoint is on again. Deliveries that waited go out within minutes; redeliver given-up ones."),
        )
    else:
        messages.success(
            request, _("The endpoint is off: events that happen meanwhile are not sent to it, not even later.")
        )
    return redirect("integrations:webhook", pk=endpoint.pk)


@permission_required(VIEW, to_post=MANAGE)
def webhook_rotate_secret(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        endpoint = outbox_services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        return _secret_once(
            request,
            title=_("New signing secret"),
            secret=endpoint.secret,
            what="rotation",
            back_url=reverse("integrations:webhook", args=[endpoint.pk]),
            facts={_("URL"): endpoint.url, _("Old secret signs until"): endpoint.previous_secret_expires_at},
        )
    return render(
        request, "integrations/webhook_rotate.html", {"endpoint": endpoint, "grace_hours": ROTATION_GRACE_HOURS}
    )


@permission_required(VIEW, to_post=MANAGE)
@require_POST
def delivery_redeliver(request, pk):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    endpoint = delivery.endpoint  # read before the service reloads the delivery and drops it
    outbox_services.webhook_delivery_redeliver(delivery=delivery)
    if endpoint.is_active:
        messages.success(request, _("Delivery #%(id)s is being sent again.") % {"id": delivery.pk})
    else:
        messages.warning(
            request,
            _("Delivery #%(id)s will be sent when the endpoint is turned back on.") % {"id": delivery.pk},
        )
    return redirect("integrations:webhook", pk=endpoint.pk)


# The integration guide -------------------------------------------------------------------------------------


@permission_required(VIEW)
def guide(request):
    base_url = request.build_absolute_uri("/").rstrip("/")
    firm = require_current_tenant()
    sample_event = OutboxEvent(
        id=1234,
        tenant=firm,
        event_type="lead.created",
        payload={"id": 42, "status": "new", "channel": "partner"},
        created_at=timezone.now().replace(microsecond=0),
    )
    envelope = json.dumps(outbox_services.event_envelope(sample_event), ensure_ascii=False, separators=(",", ":"))
    timestamp = int(sample_event.created_at.timestamp())
    context = {
        "base_url": base_url,
        "scope_groups": [(group, GROUP_LABELS[group]) for group in GROUPS],
        "event_types": EVENT_TYPES,
        "default_rate": _default_rate(),
        "page_size": IdCursorPagination.page_size,
        "max_page_size": IdCursorPagination.max_page_size,
        "tolerance": inspect.signature(guide_examples.verify_signature).parameters["tolerance"].default,
        "grace_hours": ROTATION_GRACE_HOURS,
        "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS,
        "disable_after": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        "timeout": settings.WEBHOOK_TIMEOUT_SECONDS,
        "envelope": envelope,
        "signature_header": f"{webhooks.HEADER}: "
        + webhooks.signature_header(
            ["whsec_new…", "whsec_old…"], envelope.encode(), timestamp=timestamp, delivery_id="1234"
        ),
        "verify_source": _source(guide_examples.verify_signature),
        "verify_node_source": NODE_VERIFIER.read_text(encoding="utf-8").strip(),
        "call_source": _source(guide_examples.call),
        "create_lead_source": _source(guide_examples.create_lead),
        "list_all_source": _source(guide_examples.list_all),
        "create_lead_curl": guide_examples.CREATE_LEAD_CURL.format(base_url=base_url),
        "list_curl": guide_examples.LIST_CURL.format(base_url=base_url),
        "send_signed_curl": guide_examples.SEND_SIGNED_CURL.format(sign=guide_examples.SIGN_SHELL),
        "validation_error": _error_example(),
        "throttled_error": _throttled_example(),
        "reused_key_error": json.dumps(
            error_body(
                422,
                code="idempotency_key_reused",
                message=_("This Idempotency-Key was used with a different request."),
            ),
            ensure_ascii=False,
            indent=2,
        ),
    }
    return render(request, "integrations/guide.html", context)


def _source(function) -> str:
    return NOQA.sub("", inspect.getsource(function))


def _default_rate() -> str:
    return api_settings.DEFAULT_THROTTLE_RATES["api_key"]


def _handled(exc) -> tuple[dict, dict]:
    """The API's own error handler's answer to ``exc``: its body and its headers. The handler marks the
    transaction for rollback, so it runs in a savepoint of its own that is rolled back and nothing else."""
    with transaction.atomic():
        response = exception_handler(exc, {})
    return response.data, {name: value for name, value in response.items() if name == "Retry-After"}


def _error_example() -> str:
    serializer = ApiKeySerializer(data={"name": "ERP", "scopes": ["leads:read", "lead:write"], "rate": "fast"})
    serializer.is_valid()
    body, _headers = _handled(exceptions.ValidationError(serializer.errors))
    return json.dumps(body, ensure_ascii=False, indent=2)


def _throttled_example() -> str:
    body, headers = _handled(exceptions.Throttled(wait=17))
    lines = ["HTTP/1.1 429 Too Many Requests", *(f"{name}: {value}" for name, value in headers.items())]
    return "\n".join(lines) + "\n\n" + json.dumps(body, ensure_ascii=False, indent=2)
