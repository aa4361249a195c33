"""System checks of the host site's set-up for the competition app."""

from django.conf import settings
from django.core.checks import Warning

MIDDLEWARE = "competition.middleware.EvidenceDownloadMiddleware"
EXPORT_MIDDLEWARE = "competition.middleware.SpreadsheetExportMiddleware"
CHOOSER_MIDDLEWARE = "competition.middleware.PageChooserMiddleware"


def check_evidence_download_middleware(app_configs, **kwargs):
    installed = getattr(settings, "MIDDLEWARE", [])
    warnings = []
    if MIDDLEWARE not in installed:
        warnings.append(
            Warning(
                "Evidence downloads are not sandboxed.",
                hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE (see docs/integration.md).",
                id="competition.W001",
            )
        )
    if EXPORT_MIDDLEWARE not in installed:
        warnings.append(
            Warning(
                "CSV exports of the Wagtail admin may hold spreadsheet formulas.",
                hint=f"Add {EXPORT_MIDDLEWARE!r} to MIDDLEWARE (see docs/integration.md).",
                id="competition.W002",
            )
        )
    if CHOOSER_MIDDLEWARE not in installed:
        warnings.append(
            Warning(
                "The page chooser names unpublished competitions to anyone who asks for them by id.",
                hint=f"Add {CHOOSER_MIDDLEWARE!r} to MIDDLEWARE (see docs/integration.md).",
                id="competition.W003",
            )
        )
    return warnings
