"""Resolves the request's firm and runs the rest of the request inside its tenant context."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .context import tenant_context


@dataclass(frozen=True)
class Resolution:
    tenant: object
    user_id: int | None = None
    api_key_id: int | None = None


class TenantMiddleware:
    """The single place where a request gets its firm.

    Resolvers (``settings.TENANT_RESOLVERS``) are tried in order: an API key names its firm; a signed-in
    user works in the firm chosen in the firm switcher. The firm never comes from the request body.
    The rest of the request then runs in one transaction with the firm's RLS setting, rolled back on a
    server error so nothing is half-written, and with the firm's time zone active, so pages and forms show
    and read times as the firm's staff live them.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.resolvers = [import_string(path) for path in settings.TENANT_RESOLVERS]

    def __call__(self, request):
        request.tenant = None
        resolution = None
        for resolve in self.resolvers:
            resolution = resolve(request)
            if resolution is not None:
                break
        if resolution is None:
            return self.get_response(request)
        request.tenant = resolution.tenant
        with (
            tenant_context(
                resolution.tenant,
                user_id=resolution.user_id,
                api_key_id=resolution.api_key_id,
                request_id=getattr(request, "request_id", ""),
            ),
            timezone.override(resolution.tenant.zone),
        ):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            return response
