"""The results report of a competition: one document for A4 paper, read at
`<competition URL>report/` and downloaded as `report.pdf` (WeasyPrint), in the reader's language.

It holds the agreement, the state of the results, the final ranking overall and within each
cluster, the tiers, the target summaries, the bonuses and deductions the board counts, the
commendation decision and its awards, the date and a signature block. Once judging is closed it
shows the official result (the board of the competition's end as it was published); before, the
public board of the date asked for."""

import logging
import os
import threading
from collections import Counter, defaultdict
from contextlib import contextmanager

from django.contrib.staticfiles import finders
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from .. import conf
from ..models import Adjustment
from .presentation import InvalidDate, commendations, commitment_urls, note_canonical_query, parse_as_of
from .scoreboard import get_board

# The stylesheets of the PDF, from the app's static files (the screen page links the same two).
STYLESHEETS = ("competition/competition.css", "competition/report.css")


def report_board(competition, as_of=None):
    """The board of the report: the official result once judging is closed (the board as of the
    competition's end, which `get_board` reads as published), else the public board of `as_of`
    (today when None), clamped into the period."""
    return get_board(competition, competition.end_date if competition.closed else as_of)


def clusters(board):
    """[(group, [agency results by rank in the cluster, then code])] for each cluster (agencies
    grouped by their parent, as the board's groups are)."""
    members = defaultdict(list)
    for agency in board.agencies:
        if agency.parent_code is not None:
            members[agency.parent_code].append(agency)
    return [
        (group, sorted(members.get(group.code, ()), key=lambda agency: (agency.group_rank, agency.code)))
        for group in board.groups
    ]


def tiers(board):
    """[(label, minimum score percent, number of agencies in it)], highest minimum first, then
    (None, None, n) for the agencies below every minimum (custom tiers only)."""
    counts = Counter(agency.tier for agency in board.agencies)
    rows = [(label, minimum, counts.get(label, 0)) for label, minimum in board.competition.tiers]
    labelled = {label for label, _minimum in board.competition.tiers}
    unlabelled = sum(n for label, n in counts.items() if label not in labelled)
    if unlabelled:
        rows.append((None, None, unlabelled))
    return rows


def counted_adjustments(competition, board):
    """The bonus and deduction points the board counts: of agencies on it, dated on or before its
    date (no date: from the competition's start), by agency code then date (1 query)."""
    on_board = {agency.code for agency in board.agencies}
    adjustments = (
        Adjustment.objects.filter(competition=competition)
        .filter(Q(on__isnull=True) | Q(on__lte=board.as_of))
        .select_related("agency")
        .order_by("agency__code", "on", "created_at", "pk")
    )
    return [
        {
            "agency": adjustment.agency,
            "points": adjustment.points,
            "reason": adjustment.reason,
            "on": adjustment.on or competition.start_date,
        }
        for adjustment in adjustments
        if adjustment.agency.code in on_board
    ]


def report_context(competition, request, as_of=None, as_of_errors=()):
    """Everything the report's templates show."""
    board = report_board(competition, as_of)
    url = competition.get_url(request)
    urls = commitment_urls(competition, url)
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "page": competition,
        "competition": competition,
        "board": board,
        "as_of_errors": list(as_of_errors),
        "ranking": [(agency, urls.get(agency.code)) for agency in board.agencies],
        "clusters": clusters(board),
        "tiers": tiers(board),
        "adjustments": counted_adjustments(competition, board),
        "commendations": commendations(competition),
        "signatories": list(competition.signatories.select_related("agency")),
        "today": timezone.localdate(),
        "competition_url": url,
    }


def read_report(competition, request, *, pdf=False):
    """The report's context for `request`, its canonical query told to the page cache. Once
    judging is closed the report is the official result and reads no date (a query is redirected
    away from the page); before, the public board of `as_of`: a malformed date is said on the page
    (then today's board, never kept) and raises InvalidDate for the PDF."""
    errors = []
    as_of = None
    if not competition.closed:
        try:
            as_of = parse_as_of(request)
        except InvalidDate as error:
            if pdf:
                raise
            errors.append(str(error))
    context = report_context(competition, request, as_of, errors)
    if competition.closed or not request.GET.get("as_of", "").strip():
        query = {}
    else:
        query = None if errors else {"as_of": context["board"].as_of.isoformat()}
    # The PDF, a file, is never redirected (see note_canonical_query); only kept when canonical.
    note_canonical_query(request, query, redirect=not pdf)
    return context


def render_pdf(context, request):
    """The report as PDF bytes, made by WeasyPrint from the report's print document. Nothing is
    fetched while it is made: the stylesheets are read from the app's static files and every other
    resource is refused (links stay links, resolved against the site's address)."""
    import weasyprint

    html = render_to_string("competition/report/document.html", context, request=request)
    fetcher = _nothing_fetched()
    with _screen_rules_unread():
        stylesheets = [weasyprint.CSS(filename=finders.find(name), url_fetcher=fetcher) for name in STYLESHEETS]
    document = weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/"), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets)


@contextmanager
def _screen_rules_unread():
    """competition.css holds rules for screens that WeasyPrint does not read (media features
    such as `max-width`, `overflow-x`): it warns of each, on every PDF. The PDF is meant to go
    without them, so the warnings of WeasyPrint's stylesheet parser in this thread are dropped
    while the stylesheets are read (tests/test_report.py checks that report.css itself parses
    without a warning)."""
    logger = logging.getLogger("weasyprint")
    thread = threading.get_ident()
    parser = f"{os.sep}weasyprint{os.sep}css{os.sep}"

    def keep(record):
        return record.thread != thread or parser not in record.pathname

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _nothing_fetched():
    from weasyprint.urls import URLFetcher

    class NothingFetched(URLFetcher):
        """Refuses every URL (WeasyPrint then leaves the resource out): a report never makes the
        server request anything, whatever a title or a reason holds."""

        def fetch(self, url, headers=None):
            raise ValueError(f"the report loads nothing ({url[:80]})")

    return NothingFetched()
