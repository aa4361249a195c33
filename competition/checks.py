"""System checks of the host site's set-up for the competition app (docs/integration.md, "System
checks")."""

from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import Error, Warning
from django.urls import Resolver404, resolve
from django.views import static

from . import conf

MIDDLEWARE = "competition.middleware.EvidenceDownloadMiddleware"
# A file name no site has: what a route under MEDIA_URL would answer for an evidence file.
EVIDENCE_PROBE = "documents/competition-check-evidence.pdf"
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


def check_shared_cache(app_configs, **kwargs):
    """Boards and kept responses live in the cache, and a change clears them there: a cache of one
    process's memory leaves every other process (a worker, `competition_import` run from a shell)
    serving what it kept before the change."""
    alias = conf.get("CACHE_ALIAS")
    try:
        cache = caches[alias]
    except Exception as error:  # InvalidCacheBackendError, or the backend's own configuration error
        return [
            Error(
                f"COMPETITION_CACHE_ALIAS names the cache {alias!r}, which cannot be used: {error}",
                hint="Name one of the caches of CACHES.",
                id="competition.E001",
            )
        ]
    backend = f"{type(cache).__module__}.{type(cache).__qualname__}"
    if isinstance(cache, LocMemCache):
        return [
            Warning(
                f"Scoreboards are cached in each process's memory (cache {alias!r}: {backend}): a change made "
                "in another process (another worker, competition_import from the command line) is not seen "
                "by this one, whose public pages and open data stay stale for up to "
                "COMPETITION_SCOREBOARD_CACHE_SECONDS (a day).",
                hint="Use a cache shared by every process, such as Django's RedisCache, for "
                "COMPETITION_CACHE_ALIAS (docs/deployment.md). Silence competition.W004 only if the site "
                "runs in a single process and its data is changed nowhere else.",
                id="competition.W004",
            )
        ]
    if isinstance(cache, DummyCache):
        return [
            Warning(
                f"The cache {alias!r} ({backend}) keeps nothing: every public page, scoreboard.json, .csv "
                "and .xlsx computes its scoreboards again, which takes seconds on a large competition.",
                hint="Use a cache shared by every process, such as Django's RedisCache, for "
                "COMPETITION_CACHE_ALIAS (docs/deployment.md).",
                id="competition.W005",
            )
        ]
    return []


def check_evidence_not_served_as_media(app_configs, **kwargs):
    """Evidence files are Wagtail documents under MEDIA_ROOT/documents/. A route serving MEDIA_ROOT
    as static files (Wagtail's project template adds one under DEBUG) hands them to anyone who
    guesses a name, before any submission is accepted."""
    media_url = settings.MEDIA_URL or ""
    if not media_url.startswith("/") or media_url == "/":
        return []  # another server's address, or none: nothing this site's URLs can tell
    try:
        match = resolve(media_url + EVIDENCE_PROBE)
    except Resolver404:
        return []
    if match.func is not static.serve:
        return []
    root = match.kwargs.get("document_root")
    media_root = Path(settings.MEDIA_ROOT).resolve() if settings.MEDIA_ROOT else None
    if root is None or media_root is None or not (media_root / "documents").is_relative_to(Path(root).resolve()):
        return []
    return [
        Warning(
            f"Evidence files are downloadable by anyone at {media_url}documents/…: a URL pattern serves "
            "MEDIA_ROOT with django.views.static.serve, bypassing the permission checks of Wagtail's "
            "document view.",
            hint="Replace `static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)` in the site's "
            "urls.py with `competition.media.media_urlpatterns()`, which serves images only "
            "(docs/integration.md).",
            id="competition.W006",
        )
    ]
