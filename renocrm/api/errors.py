"""One error body for every 4xx and 5xx of the API:

{"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"mobile": ["…"]}},
 "request_id": "…"}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from renocrm.observability import current_request_id
from renocrm.resilience import is_database_unavailable
from renocrm.tenancy.context import TenantScopeError

logger = logging.getLogger(__name__)

# Marked for translation here, translated when answered (the user's language is known then).
DEFAULT_MESSAGES = {
    400: gettext_noop("Bad request."),
    401: gettext_noop("Authentication credentials were not provided or are not valid."),
    403: gettext_noop("You do not have permission to perform this action."),
    404: gettext_noop("Not found."),
    405: gettext_noop("Method not allowed."),
    409: gettext_noop("Conflict."),
    422: gettext_noop("Unprocessable request."),
    429: gettext_noop("Too many requests."),
    500: gettext_noop("Server error."),
    503: gettext_noop("Service temporarily unavailable."),
}


def refuse_unknown_parameters(request, known) -> None:
    """Refuse a query parameter ``known`` does not name, each as its own field error with the known ones
    listed: a partner's typo must not quietly answer every row."""
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        names = ", ".join(sorted(name for name in known if name)) or "-"
        raise exceptions.ValidationError(
            {name: [_("Unknown query parameter.")] for name in unknown}
            | {"non_field_errors": [_("Known parameters: %(names)s.") % {"names": names}]}
        )


def error_body(status: int, *, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"status": status, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error, "request_id": current_request_id()}


def error_response(status: int, *, code: str | None = None, message: str | None = None, fields=None):
    return JsonResponse(
        error_body(
            status,
            code=code or str(status),
            message=message or _(DEFAULT_MESSAGES.get(status, "Error.")),
            fields=fields,
        ),
        status=status,
    )


def _fields(detail) -> tuple[str, dict | None]:
    """Split a DRF ValidationError detail into a message and field errors ("non_field_errors" stays a field)."""
    if isinstance(detail, dict):
        fields = {
            key: [str(item) for item in value] if isinstance(value, list) else value for key, value in detail.items()
        }
        return _("Some fields are not valid."), fields
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail), None
    return str(detail), None


def exception_handler(exc, context):
    if isinstance(exc, TenantScopeError):
        exc = exceptions.PermissionDenied()
    if is_database_unavailable(exc):
        # Raised on to Django, like the same failure in a middleware: renocrm.resilience answers 503.
        return None
    response = drf_exception_handler(exc, context)
    # Nothing the failed request wrote survives it.
    _roll_back()
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return _reshape(exceptions.APIException(), status=500, headers={})
    return _reshape(exc, status=response.status_code, headers=response.headers)


def _roll_back() -> None:
    """Mark the firm's transaction for rollback. A request whose firm was not resolved (no key, an unknown,
    revoked or malformed one, a user without a firm) runs in no transaction: there is nothing to roll back,
    and asking would raise instead of answering 401 or 403."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        transaction.set_rollback(True)


def _reshape(exc, *, status: int, headers):
    from rest_framework.response import Response

    if isinstance(exc, Http404 | exceptions.NotFound):
        code, message, fields = "not_found", _(DEFAULT_MESSAGES[404]), None
    elif isinstance(exc, PermissionDenied):
        code, message, fields = "permission_denied", _(DEFAULT_MESSAGES[403]), None
    elif isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        message, fields = _fields(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code = exc.default_code if status != 500 else "server_error"
        message, fields = _fields(exc.detail) if status != 500 else (_(DEFAULT_MESSAGES[500]), None)
    else:
        code, message, fields = "error", _(DEFAULT_MESSAGES.get(status, "Error.")), None
    response = Response(error_body(status, code=code, message=message, fields=fields), status=status)
    for name in ("Retry-After", "WWW-Authenticate", "Allow"):
        if name in headers:
            response[name] = headers[name]
    return response


@csrf_exempt  # like the API's own views: no session form posts here, and the answer is a 404 anyway
def api_not_found(request, exception=None):
    """Every unknown address under /api/: routed here last (renocrm/urls.py) so the answer is this body with
    DEBUG on as well, and Django's handler404 for the rest. A URL that lacks only its trailing slash is
    redirected for GET and HEAD, as APPEND_SLASH would; any other method is told the right address, since a
    redirect would lose the body (browsers and most clients repeat a redirected POST as a GET)."""
    path = request.path_info
    if not path.endswith("/") and _routed(path + "/"):
        target = request.get_full_path(force_append_slash=True)
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(target)
        return error_response(
            404, code="not_found", message=_("Not found. The address ends with a slash: %(path)s") % {"path": target}
        )
    return error_response(404, code="not_found")


def _routed(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found


def api_server_error(request):
    return error_response(500, code="server_error")
