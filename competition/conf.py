"""The one place that reads the app's COMPETITION_* settings, each with its default."""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS = {
    # The template every public page of the app extends; a host site provides its own.
    "BASE_TEMPLATE": "base.html",
    # Seconds a computed scoreboard stays cached (changes invalidate it at once anyway).
    "SCOREBOARD_CACHE_SECONDS": 60 * 60 * 24,
    # Seconds a process may hold the lock while it computes a board; readers serve the previous
    # board meanwhile, or wait for it (at most COMPUTE_WAIT_SECONDS, then compute it themselves).
    "COMPUTE_LOCK_SECONDS": 120,
    "COMPUTE_WAIT_SECONDS": 30,
    # After a change is committed, recompute the boards the public pages show: "task" (in a task
    # of the task framework, competition.tasks; "thread", the former name, means the same),
    # "inline" (before returning) or "" (no: the next reader computes them).
    "REBUILD_BOARDS": "task",
    # Keep whole responses of public pages and open data for anonymous readers (needs
    # competition.middleware.PublicPageCacheMiddleware), and for how many seconds at most
    # (changes to the data make them stale at once anyway). None: on, except under DEBUG, where a
    # developer changing a template must see the change at once.
    "RESPONSE_CACHE": None,
    "RESPONSE_CACHE_SECONDS": 600,
    # Remember each competition's cache version in every process, told of changes by Redis
    # publish/subscribe (competition.domain.versions), instead of asking Redis on every request.
    # Only with Django's Redis cache backend.
    "VERSION_WATCH": True,
    # The cache alias scoreboards are kept in.
    "CACHE_ALIAS": "default",
    # Rows per page of the public ranking table.
    "RANKING_PER_PAGE": 50,
    # The largest import file (bytes) the admin's import screen reads.
    "MAX_IMPORT_SIZE": 10 * 1024 * 1024,
    # Data feeds (docs/feeds.md): requests one feed token may make, as "number/period" (period s,
    # m, h or d), and the most values one request may carry.
    "FEED_RATE": "60/h",
    "FEED_MAX_VALUES": 1000,
    # Evidence file types: PDF, Office and OpenDocument files, CSV, PNG and JPEG.
    "EVIDENCE_EXTENSIONS": (
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx"),
        *("odt", "ods", "odp", "csv", "png", "jpg", "jpeg"),
    ),
}


# Defaults that depend on other settings, for settings whose DEFAULTS entry is None.
DERIVED = {"RESPONSE_CACHE": lambda: not settings.DEBUG}


# The value of each setting read, until any setting changes (`setting_changed`: tests'
# override_settings, pytest-django's `settings`). An unset setting costs Django an AttributeError
# on every read (5-8 us); a kept slice of scoreboard.json reads four of them per request
# (docs/performance.md, run P).
_read = {}


def get(name):
    try:
        return _read[name]
    except KeyError:
        pass
    value = getattr(settings, f"COMPETITION_{name}", DEFAULTS[name])
    if value is None and name in DERIVED:
        value = DERIVED[name]()
    _read[name] = value
    return value


@receiver(setting_changed)
def _forget(**kwargs):
    _read.clear()
