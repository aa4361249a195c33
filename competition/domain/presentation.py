"""What the public pages show, shaped from a scoreboard: table rows, headline figures and the
data behind the charts. Views and page models hand off to these functions."""

import calendar
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .. import conf
from ..collation import vietnamese_key
from ..middleware import KEPT_QUERY_PARAMETERS, is_canonical, note_query
from ..models import CommitmentPage, Submission, TargetPage
from ..scoring import progress
from ..validators import parse_iso_date
from .history import kept_month_figures, mean_progress
from .scoreboard import board_figures, get_board
from .selfassessment import self_points_of

HUNDRED = Decimal(100)


def commitment_urls(competition, competition_url):
    """Agency code -> URL of its live commitment page (1 query)."""
    if not competition_url:
        return {}
    pages = CommitmentPage.objects.live().filter(competition=competition).values_list("agency__code", "slug")
    return {code: f"{competition_url}{slug}/" for code, slug in pages}


def target_urls(competition, competition_url):
    if not competition_url:
        return {}
    pages = TargetPage.objects.live().filter(competition=competition).values_list("code", "slug")
    return {code: f"{competition_url}{slug}/" for code, slug in pages}


def ranking_rows(board, urls):
    return [
        {
            "rank": agency.rank,
            "group_rank": agency.group_rank,
            "code": agency.code,
            "name": agency.name,
            "name_key": vietnamese_key(agency.name),
            "url": urls.get(agency.code),
            "tier": agency.tier,
            "provisional": agency.provisional,
            "score_percent": agency.score_percent,
            "progress_percent": agency.progress_percent,
            "progress": agency.progress_percent / HUNDRED,
            "total_points": agency.total_points,
            "max_points": agency.max_points,
        }
        for agency in board.agencies
    ]


def target_line_rows(board, target_code, urls):
    rows = []
    for agency in board.agencies:
        for line in agency.lines:
            if line.target_code == target_code:
                rows.append(
                    {
                        "agency_code": agency.code,
                        "agency_name": agency.name,
                        "agency_name_key": vietnamese_key(agency.name),
                        "url": urls.get(agency.code),
                        "value": line.value,
                        "reported_on": line.reported_on,
                        "progress": line.progress,
                        "expected": line.expected,
                        "status": line.status,
                        "awarded_points": line.awarded_points,
                        "max_points": line.max_points,
                        "provisional": line.provisional,
                    }
                )
    return rows


def headline(competition, board):
    """The figures at the top of a competition page."""
    lines = [line for agency in board.agencies for line in agency.lines]
    achieved = sum(1 for line in lines if line.status == "achieved")
    today = timezone.localdate()
    phases = list(competition.phases.all().order_by("end_date"))
    current_phase = next((phase for phase in phases if phase.end_date >= board.as_of), None)
    mean_progress = (
        sum((agency.progress_percent for agency in board.agencies), Decimal(0)) / len(board.agencies)
        if board.agencies
        else Decimal(0)
    )
    return {
        "agencies": len(board.agencies),
        "targets": len(board.targets),
        "lines": len(lines),
        "achieved": achieved,
        "achieved_share": (Decimal(achieved) / len(lines)) if lines else Decimal(0),
        "mean_progress": mean_progress / HUNDRED,
        "days_left": max((competition.end_date - today).days, 0),
        "started": today >= competition.start_date,
        "current_phase": current_phase,
        "phases": phases,
    }


def headline_of(competition):
    """The headline figures of a competition today, for listings: kept in the cache beside its
    board, so that a listing does not load whole boards."""

    def compute(board):
        figures = headline(competition, board)
        today = timezone.localdate()
        figures["running"] = competition.start_date <= today <= competition.end_date
        figures["as_of"] = board.as_of
        return figures

    return board_figures(competition, "headline", compute)


def month_ends(start, end):
    """The last day of each month from `start` to `end`, and `end` itself."""
    days = []
    year, month = start.year, start.month
    while True:
        last = date(year, month, calendar.monthrange(year, month)[1])
        if last >= end:
            break
        if last >= start:
            days.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    days.append(end)
    return days


def progress_series(competition, board):
    """Mean progress (percent) of all agencies at each month end up to the date of `board` (the
    public board of the page), for the line chart: the figures of the public boards of those
    dates, the last one `board` itself (domain.history: one query for all the others)."""
    days = month_ends(competition.start_date, board.as_of)
    figures = kept_month_figures(competition, days[:-1]) + [mean_progress(board)]
    # A date, not a string: the page's table shows it in the reader's language, json_script
    # writes it as ISO for the chart.
    return [{"date": day, "progress": figure} for day, figure in zip(days, figures, strict=True)]


def chart_text():
    """The words the chart script shows (dataset names), in the reader's language."""
    return {
        "score": _("Score %"),
        "progress": _("Progress %"),
        "mean_progress": _("Mean progress %"),
        "trajectory": _("Expected trajectory"),
    }


def ranking_chart(table):
    """The bar chart of the ranking table's current page: the same agencies, in the same order
    (every one of them labelled; the next page of the table charts the next ones)."""
    rows = [row.record for row in table.page.object_list] if table.page else list(table.data)
    return {
        "labels": [row["name"] for row in rows],
        "scores": [float(round(row["score_percent"], 2)) for row in rows],
        "progress": [float(round(row["progress_percent"], 2)) for row in rows],
    }


def line_progress(line, value):
    return progress(
        value, line.effective_baseline, line.effective_target_value, line.target.unit, line.target.direction
    )


def value_history(line_ids, as_of):
    """Accepted values of the given commitment lines, by line, oldest first (1 query)."""
    history = {}
    submissions = (
        Submission.objects.accepted()
        .filter(line_id__in=line_ids, reported_on__lte=as_of)
        .order_by("line_id", "reported_on", "decided_at", "pk")
        .values_list("line_id", "reported_on", "value")
    )
    for line_id, reported_on, value in submissions:
        # On equal dates the later acceptance wins, as on the board (docs/scoring.md, section 2).
        series = history.setdefault(line_id, {})
        series[reported_on] = value
    return {line_id: sorted(series.items()) for line_id, series in history.items()}


def commendations(competition, agency=None):
    """The recorded commendation decision of a competition whose results are published, with
    the awards it granted (of one agency only, with `agency`); None before a decision."""
    if not competition.closed:
        return None
    from ..models import CommendationDecision
    from .commendations import granted

    decision = (
        CommendationDecision.objects.filter(competition=competition, official_result__withdrawn_at__isnull=True)
        .select_related("document")
        .first()
    )
    if decision is None:
        return None
    awards = granted(competition)
    if agency is not None:
        awards = awards.filter(agency=agency)
    return {"decision": decision, "awards": list(awards)}


class InvalidDate(ValueError):
    pass


def parse_as_of(request):
    """The `as_of` query parameter as a date, None when absent; InvalidDate when malformed."""
    value = request.GET.get("as_of", "").strip()
    if not value:
        return None
    try:
        return parse_iso_date(value)
    except ValueError:
        raise InvalidDate(
            _("The date must be written as YYYY-MM-DD (for example 2025-06-30), not %(value)r.") % {"value": value[:40]}
        ) from None


def _as_of_from(request, errors):
    try:
        return parse_as_of(request)
    except InvalidDate as error:
        errors.append(str(error))
        return None


# The query parameters of the public pages have one written form each, so that the page cache
# keeps one copy of each page a reader can see, not one per spelling (docs/security.md, "Page
# cache"): `as_of` a YYYY-MM-DD date inside the competition's period (a date outside it shows the
# board of the period's first or last day, so it is written as that day), `sort` one sortable
# column, `page` a page that exists, `per_page` one of PER_PAGE_CHOICES, each at most once.
# A page asked for with any other spelling is redirected (302) to the canonical one: readers and
# their bookmarks get the URL of what they see, and caches (ours and any proxy's) keep one copy.
# A malformed `as_of` is not redirected: the page says what is wrong with it, and is not kept.
# The open-data files are never redirected (scripts reading them may not follow redirects): a
# non-canonical request for them is answered, but not kept.
PER_PAGE_CHOICES = (10, 25, 50, 100)


class CanonicalRedirect(Exception):
    """Raised while building a page's context when its query is not in canonical form; the page
    model's serve() answers with `response`."""

    def __init__(self, response):
        super().__init__(response["Location"])
        self.response = response


def _as_of_query(request, board, errors):
    """The canonical `as_of` part of the query (a dict), or None when the date is malformed."""
    if errors:
        return None
    if not request.GET.get("as_of", "").strip():
        return {}
    return {"as_of": board.as_of.isoformat()}


def _whole_number(values):
    """The single value of a parameter written as a plain positive number, or None."""
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    number = int(values[0])
    return number if number > 0 else None


def configure_table(request, table, per_page):
    """Sort and paginate `table` from the query, as django-tables2's RequestConfig would but with
    valid values only (an unknown column is not sorted on, a page past the last shows the last,
    `per_page` takes one of PER_PAGE_CHOICES); return the canonical form of those parameters."""
    table.request = request
    query = {}
    sort = request.GET.getlist(table.prefixed_order_by_field)
    orderable = {column.name for column in table.columns if column.orderable}
    if len(sort) == 1 and sort[0].removeprefix("-") in orderable:
        table.order_by = sort
        query["sort"] = sort[0]
    asked_per_page = _whole_number(request.GET.getlist(table.prefixed_per_page_field))
    if asked_per_page in PER_PAGE_CHOICES:
        per_page = asked_per_page
        query["per_page"] = str(per_page)
    table.paginate(page=1, per_page=per_page)
    if table.prefixed_page_field in request.GET:
        page = _whole_number(request.GET.getlist(table.prefixed_page_field)) or 1
        page = min(page, table.paginator.num_pages)
        table.page = table.paginator.page(page)
        query["page"] = str(page)
    return query


def note_canonical_query(request, query, *, redirect=True, dropped=()):
    """Tell the page cache the canonical query of this request (None: never keep the response),
    and redirect a page asked for in another form to the canonical one. `dropped`: parameters
    the page reads that are never kept (a search), left out of that form when blank."""
    note_query(request, query)
    blank = [name for name in dropped if name in request.GET and not "".join(request.GET.getlist(name)).strip()]
    if not redirect or (not blank and (query is None or is_canonical(request, query))):
        return
    if query is None:  # only a blank parameter to leave out: the others stay as they were given
        query = {name: request.GET[name] for name in KEPT_QUERY_PARAMETERS if name in request.GET}
    others = [
        (name, values)
        for name, values in request.GET.lists()
        if name not in KEPT_QUERY_PARAMETERS and name not in blank
    ]
    ordered = [(name, query[name]) for name in ("as_of", "cluster", "sort", "page", "per_page") if name in query]
    text = urlencode(ordered + others, doseq=True)
    raise CanonicalRedirect(HttpResponseRedirect(request.path + (f"?{text}" if text else "")))


def competition_context(competition, request):
    from ..tables import RankingTable
    from .clusters import cluster_options, cluster_url, clusters_of, filter_ranking, tree_rows

    errors = []
    board = get_board(competition, _as_of_from(request, errors))
    url = competition.get_url(request)
    agency_urls = commitment_urls(competition, url)
    clusters = clusters_of(board)
    # The reader's filter by cluster and search by name or code (docs/scoring.md, section 8).
    filter_errors = []
    rows, cluster, search, cluster_query = filter_ranking(
        request, ranking_rows(board, agency_urls), clusters, filter_errors
    )
    table = RankingTable(rows)
    if not board.groups:
        table.exclude = ("group_rank",)
    if search or cluster:
        table.empty_text = _("No agency matches this search.")
    query = configure_table(request, table, conf.get("RANKING_PER_PAGE"))
    as_of = _as_of_query(request, board, errors)
    # A search is any text: its pages are never kept (the cache holds what readers can link to).
    canonical = None if as_of is None or cluster_query is None else {**as_of, **cluster_query, **query}
    note_canonical_query(request, None if search else canonical, dropped=("q",))
    urls_of_targets = target_urls(competition, url)
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "board": board,
        "as_of_errors": errors,
        "table_query": {**(cluster_query or {}), **query},
        "tiers": board.competition.tiers,
        "headline": headline(competition, board),
        "ranking_table": table,
        "ranking_filter": {
            "cluster": cluster,
            "cluster_url": cluster_url(url, cluster.code) if cluster else None,
            "search": search,
            "errors": filter_errors,
            "shown": len(rows),
            "total": len(board.agencies),
            "options": cluster_options(clusters),
            # The whole ranking again, at the same date, in the same order.
            "reset_query": urlencode(
                [*((as_of or {}).items()), *((name, query[name]) for name in ("sort", "per_page") if name in query)]
            ),
        },
        "cluster_tree": tree_rows(clusters, url),
        "target_summaries": [(summary, urls_of_targets.get(summary.code)) for summary in board.targets],
        "chart_data": {
            "ranking": ranking_chart(table),
            "progress": progress_series(competition, board),
            "text": chart_text(),
        },
        "signatories": competition.signatories.select_related("agency"),
        "commendations": commendations(competition),
    }


def target_context(target, request):
    from ..tables import TargetLinesTable

    errors = []
    competition = target.competition
    board = get_board(competition, _as_of_from(request, errors))
    competition_url = competition.get_url(request)
    agency_urls = commitment_urls(competition, competition_url)
    table = TargetLinesTable(target_line_rows(board, target.code, agency_urls))
    query = configure_table(request, table, 50)
    as_of = _as_of_query(request, board, errors)
    note_canonical_query(request, None if as_of is None else {**as_of, **query})
    summary = next((summary for summary in board.targets if summary.code == target.code), None)
    lines = target.commitment_lines.filter(commitment__live=True).select_related("commitment__agency")
    history = value_history([line.pk for line in lines], board.as_of)
    series = [
        {
            "label": line.commitment.agency.name,
            "points": [{"date": day.isoformat(), "value": float(value)} for day, value in history.get(line.pk, [])],
        }
        for line in lines
        if line.pk in history
    ]
    milestones = list(target.milestones.all().order_by("date"))
    trajectory = [{"date": competition.start_date.isoformat(), "value": float(target.baseline)}]
    trajectory += [{"date": m.date.isoformat(), "value": float(m.value)} for m in milestones]
    trajectory.append({"date": target.effective_deadline.isoformat(), "value": float(target.target_value)})
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "board": board,
        "as_of_errors": errors,
        "table_query": query,
        "competition": competition,
        "summary": summary,
        "lines_table": table,
        "milestones": milestones,
        "chart_data": {"series": series[:40], "trajectory": trajectory, "unit": target.unit, "text": chart_text()},
    }


def value_sources(submissions):
    """{(line id, date): source} of the accepted submission a board uses for each line and date:
    the later acceptance, then the higher key (docs/scoring.md, section 2)."""
    chosen = {}
    for submission in submissions:
        key = (submission.line_id, submission.reported_on)
        rank = (submission.decided_at is not None, submission.decided_at or 0, submission.pk)
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, submission.source)
    return {key: source for key, (_rank, source) in chosen.items()}


def commitment_context(commitment, request):
    errors = []
    competition = commitment.competition
    board = get_board(competition, _as_of_from(request, errors))
    note_canonical_query(request, _as_of_query(request, board, errors))
    result = board.agency(commitment.agency.code)
    lines = list(commitment.lines.select_related("target").order_by("target__code"))
    results = {line.target_code: line for line in result.lines} if result else {}
    competition_url = competition.get_url(request)
    urls_of_targets = target_urls(competition, competition_url)
    history = value_history([line.pk for line in lines], board.as_of)
    own_points = self_points_of(competition, board, commitment.agency.code)
    rows = [
        {
            "line": line,
            "target": line.target,
            "result": results.get(line.target.code),
            "self_points": own_points.get((commitment.agency.code, line.target.code)),
            "url": urls_of_targets.get(line.target.code),
        }
        for line in lines
    ]
    evidence = list(
        Submission.objects.accepted()
        .filter(line__commitment=commitment, reported_on__lte=board.as_of)
        .select_related("line__target")
        .prefetch_related("attachments__document", "links")
        .order_by("-reported_on", "-pk")
    )
    # Where each value the board shows came from (typed in, or measured by the agency's system):
    # the accepted submission the board uses for a line and date (docs/scoring.md, section 2).
    sources = value_sources(evidence)
    for row in rows:
        shown = row["result"]
        if shown is not None and shown.reported_on is not None:
            row["source"] = sources.get((row["line"].pk, shown.reported_on))
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "board": board,
        "as_of_errors": errors,
        "competition": competition,
        "result": result,
        "rows": rows,
        # The agency's own points are public once judging is closed, beside the jury's.
        "shows_self_points": competition.closed and board.competition.closed,
        "evidence": evidence,
        # Those the board counts: dated on or before its date (no date: from the start).
        "commendations": commendations(competition, commitment.agency),
        "adjustments": competition.adjustments.filter(agency=commitment.agency)
        .filter(Q(on__isnull=True) | Q(on__lte=board.as_of))
        .select_related("competition")
        .order_by("on", "created_at"),
        "chart_data": {
            # Progress (0 % at the line's baseline, 100 % at its target value), so that a count of
            # a thousand records and a yes/no target share one axis.
            "series": [
                {
                    "label": f"{line.target.code} {line.target.title}",
                    "points": [
                        {"date": day.isoformat(), "value": float(line_progress(line, value) * HUNDRED)}
                        for day, value in history.get(line.pk, [])
                    ],
                }
                for line in lines
            ],
            "percent": True,
            "text": chart_text(),
        },
    }
