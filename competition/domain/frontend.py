"""Purging a CDN or caching proxy in front of the site (wagtail.contrib.frontend_cache): when a
competition's boards change, every public URL that shows them goes, so that the CDN asks the
site again. Wagtail itself purges a page's own URL when it is published or unpublished; a board
changes with every accepted value, score or adjustment, and shows on every page of its
competition."""

from django.conf import settings

from ..models import CompetitionPage

# Files and pages under a competition's URL that show its board: the open data of
# docs/opendata.md, the results report and its PDF, the awards as open data. (Purged by name:
# purging a URL the site does not serve costs nothing.)
COMPETITION_FILES = (
    "scoreboard.json",
    "scoreboard.csv",
    "scoreboard.xlsx",
    "report/",
    "report.pdf",
    "awards.json",
    "awards.csv",
)


def configured():
    """Whether a frontend cache is configured (WAGTAILFRONTENDCACHE names at least one backend)."""
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


def public_urls(competition):
    """The full URLs of the competition page, the files under it and its target and commitment
    pages (whatever their state: a page unpublished a moment ago must go from the CDN too), or []
    when the competition page has no URL (not routable from any site)."""
    base = competition.get_full_url()
    if not base:
        return []
    urls = [base, *(base + name for name in COMPETITION_FILES)]
    # Children share the competition's site: their URLs follow from their url_path, without a
    # look-up of the site per page (a national competition has 3,341 of them).
    prefix = competition.url_path
    for url_path in competition.get_children().order_by("path").values_list("url_path", flat=True):
        if url_path.startswith(prefix):
            urls.append(base + url_path[len(prefix) :])
    return urls


def purge_competition(competition_id):
    """Purge the competition's public URLs from the configured frontend caches, in this process
    (the caller is a task already). Returns how many URLs were purged."""
    if not configured():
        return 0
    from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task

    competition = CompetitionPage.objects.filter(pk=competition_id).first()
    if competition is None:
        return 0
    urls = public_urls(competition)
    if urls:
        purge_urls_from_cache_task.call(urls)
    return len(urls)
