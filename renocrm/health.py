"""Liveness (/healthz: the process answers) and readiness (/readyz: PostgreSQL and Redis answer)."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        logger.warning("readyz: database unreachable", exc_info=True)
        checks["database"] = "unavailable"
    try:
        cache.get("readyz")
        checks["redis"] = "ok"
    except Exception:
        logger.warning("readyz: redis unreachable", exc_info=True)
        checks["redis"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
