"""Answering "try again shortly" instead of "server error" while PostgreSQL is unreachable.

During a database restart or failover every request that touches the database fails with an
``OperationalError`` or ``InterfaceError`` — in the view, or earlier: the session, the firm's resolution and
the firm's transaction are opened by middleware. Django turns such an exception into a 500 at the middleware
that raised it, so this module listens to ``got_request_exception`` to remember the cause on the request, and
its middleware (near the top of the stack) replaces that 500 with a 503 and ``Retry-After``: the API's error
body under /api/, a short page elsewhere. Nothing was written (the firm's transaction rolled back), so a
client may simply retry; the broken connection is closed by Django at the end of the request
(``close_old_connections`` sees ``errors_occurred``), and the next request connects afresh.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


def is_database_unavailable(error: BaseException | None) -> bool:
    """Errors of the connection itself (refused, terminated, closed), not of a statement's data."""
    return isinstance(error, DATABASE_ERRORS)


def _remember_database_error(sender, request=None, **kwargs):
    # Sent from inside Django's except block, so the exception being handled is the cause of the 500.
    error = sys.exc_info()[1]
    if request is not None and is_database_unavailable(error):
        request.database_error = error


got_request_exception.connect(_remember_database_error, dispatch_uid="renocrm.resilience.database_error")


def service_unavailable(request) -> HttpResponse:
    from renocrm.api.errors import error_response

    retry_after = settings.SERVICE_UNAVAILABLE_RETRY_AFTER
    if request.path.startswith("/api/"):
        response = error_response(503, code="service_unavailable")
    else:
        # No request context: the context processors would query the database that is gone.
        with translation.override(translation.get_language_from_request(request)):
            page = loader.render_to_string("503.html", {"retry_after": retry_after})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, "database_error", None)
        if error is None:
            return response
        logger.warning("Database unavailable, answered 503: %s %s: %s", request.method, request.path, error)
        response = service_unavailable(request)
        # Logged once, above, as a warning: Django's request logger would add an error line for the 503.
        response._has_been_logged = True
        return response


class SkipDatabaseUnavailable(logging.Filter):
    """Drops the "Internal Server Error" record Django's request logger writes (with a traceback) for the 500
    the middleware above turns into a 503 — that outage is logged once, as a warning, by the middleware."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "django.request" or not record.exc_info:
            return True
        return not is_database_unavailable(record.exc_info[1])
