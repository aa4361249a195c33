"""The health check of a deployment (docs/deployment.md): the database answers and the cache
keeps a value. 200 with `{"database": "ok", "cache": "ok"}`, else 503 naming what failed."""

import logging
import secrets

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

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
    return JsonResponse(checks, status=200 if healthy else 503)
