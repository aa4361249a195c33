"""The one place that reads the app's COMPETITION_* settings, each with its default."""

from django.conf import settings

DEFAULTS = {
    # The template every public page of the app extends; a host site provides its own.
    "BASE_TEMPLATE": "base.html",
    # Seconds a computed scoreboard stays cached (changes invalidate it at once anyway).
    "SCOREBOARD_CACHE_SECONDS": 60 * 60 * 24,
    # The cache alias scoreboards are kept in.
    "CACHE_ALIAS": "default",
    # Rows per page of the public ranking table.
    "RANKING_PER_PAGE": 50,
    # The largest import file (bytes) the admin's import screen reads.
    "MAX_IMPORT_SIZE": 10 * 1024 * 1024,
    # Evidence file types: PDF, Office and OpenDocument files, CSV, PNG and JPEG.
    "EVIDENCE_EXTENSIONS": (
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx"),
        *("odt", "ods", "odp", "csv", "png", "jpg", "jpeg"),
    ),
}


def get(name):
    return getattr(settings, f"COMPETITION_{name}", DEFAULTS[name])
