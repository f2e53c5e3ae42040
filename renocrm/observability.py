"""Request ids and log records that carry the firm and the request."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from renocrm.tenancy.context import get_current_tenant

_request_id: ContextVar[str] = ContextVar("renocrm_request_id", default="")
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Takes a sane incoming X-Request-ID (from a load balancer) or makes one, and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        tenant = get_current_tenant()
        record.tenant = tenant.slug if tenant is not None else "-"
        record.request_id = _request_id.get() or "-"
        return True
