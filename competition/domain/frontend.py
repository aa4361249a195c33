"""Purging a CDN or caching proxy in front of the site (wagtail.contrib.frontend_cache): when a
competition's boards change, every public URL that shows them goes, so that the CDN asks the
site again. Wagtail itself purges a page's own URL when it is published or unpublished; a board
changes with every accepted value, score or adjustment, and shows on every page of its
competition."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from ..models import CommitmentPage, CompetitionPage

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
    """The full URLs of the competition page, the files under it, its target and commitment
    pages (whatever their state: a page unpublished a moment ago must go from the CDN too) and
    the record of achievements of each agency taking part (it shows the agency's rank), or []
    when the competition page has no URL (not routable from any site)."""
    parts = competition.get_url_parts()
    if parts is None:
        return []
    _site_id, root_url, page_path = parts
    base = root_url + page_path
    urls = [base, *(base + name for name in COMPETITION_FILES)]
    # Children share the competition's site: their URLs follow from their url_path, without a
    # look-up of the site per page (a national competition has 3,341 of them).
    prefix = competition.url_path
    for url_path in competition.get_children().order_by("path").values_list("url_path", flat=True):
        if url_path.startswith(prefix):
            urls.append(base + url_path[len(prefix) :])
    codes = CommitmentPage.objects.filter(competition=competition).order_by("agency__code")
    for code in codes.values_list("agency__code", flat=True).distinct():
        try:
            urls.append(root_url + reverse("competition:agency_record", kwargs={"code": code}))
        except NoReverseMatch:
            break  # the site does not serve the records (competition.urls not included)
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
