"""The health check of a deployment (docs/deployment.md): the database answers and the cache
keeps a value. 200 with `{"database": "ok", "cache": "ok", "tasks": {...}}`, else 503 naming
what failed. "tasks" reports the task queue's backlog (competition.domain.queue): how many tasks
wait, run and failed in the last day, and how long the oldest has waited; a backlog is reported,
never a reason for a 503 (the web servers stay in service while the workers catch up)."""

import logging
import secrets

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from competition.domain.queue import backlog

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def health(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        logger.exception("Health check: the database does not answer")
        checks["database"] = "failing"
    try:
        token = secrets.token_hex(8)
        cache.set("health-check", token, timeout=10)
        checks["cache"] = "ok" if cache.get("health-check") == token else "failing"
    except Exception:
        logger.exception("Health check: the cache does not answer")
        checks["cache"] = "failing"
    healthy = all(value == "ok" for value in checks.values())
    try:
        checks["tasks"] = backlog() if checks["database"] == "ok" else "unknown"
    except Exception:
        logger.exception("Health check: the task queue cannot be read")
        checks["tasks"] = "unknown"
    return JsonResponse(checks, status=200 if healthy else 503)
