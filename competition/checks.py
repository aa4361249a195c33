"""System checks of the host site's set-up for the competition app."""

from django.conf import settings
from django.core.checks import Warning

MIDDLEWARE = "competition.middleware.EvidenceDownloadMiddleware"


def check_evidence_download_middleware(app_configs, **kwargs):
    if MIDDLEWARE in getattr(settings, "MIDDLEWARE", []):
        return []
    return [
        Warning(
            "Evidence downloads are not sandboxed.",
            hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE (see docs/integration.md).",
            id="competition.W001",
        )
    ]
