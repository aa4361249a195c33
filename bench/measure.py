"""The measurements of `competition_bench`, each a function returning plain figures. Boards are
built with the jury's points (as once judging is closed, or for a manager): the heavier build,
which reads every chosen submission's scores as the floor does."""

import gzip
import json
import statistics
import time
import tracemalloc
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import resolve
from wagtail.models import Site

from competition import conf
from competition.domain.history import kept_month_figures, mark, month_figures, refresh
from competition.domain.presentation import month_ends
from competition.domain.scoreboard import load_board, load_lines, resolve_as_of
from competition.imports import load_dataset, run_import
from competition.models import Agency, CommitmentLine, CommitmentPage, CompetitionPage, TargetPage

from .floor import floor_queries, run_floor
from .generate import report_dates


def timed(function, repeat):
    """Run `function` `repeat` times; return (median seconds, best seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result


def board_against_floor(competition, as_of, repeat=7):
    """The floor (each of its forms, the fastest taken as the floor) and the cold board build,
    interleaved so that a busy machine slows both alike. Seconds are medians of `repeat` runs,
    after one untimed run of each (the first run in a process pays for what any server process
    pays once: the driver preparing its statements, the database's buffers, Python's imports).
    "Cold" is the board cache: no run reads or writes it."""
    as_of = resolve_as_of(competition, as_of)
    forms = floor_queries()
    floor_times = {name: [] for name in forms}
    build_times, lines_times = [], []
    rows = board = None
    for run in range(repeat + 1):
        timed_run = run > 0
        for name, sql in forms.items():
            started = time.perf_counter()
            rows = run_floor(competition.pk, as_of, sql)
            if timed_run:
                floor_times[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        load_lines(competition, as_of)
        if timed_run:
            lines_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        board = load_board(competition, as_of, with_jury=True)  # never reads or writes the cache
        if timed_run:
            build_times.append(time.perf_counter() - started)
    floors = {name: statistics.median(times) for name, times in floor_times.items()}
    floor_name = min(floors, key=floors.get)
    build = statistics.median(build_times)
    return {
        "as_of": as_of.isoformat(),
        "lines": len(rows),
        "agencies": len(board.agencies),
        "floor_forms_s": floors,
        "floor_form": floor_name,
        "floor_s": floors[floor_name],
        "lines_query_s": statistics.median(lines_times),
        "build_s": build,
        "ratio": build / floors[floor_name],
    }


@contextmanager
def _marked(pairs):
    """Within the block, these (competition, agency or None) are marked out of date; undone after."""
    with transaction.atomic():
        try:
            mark(pairs)
            yield
        finally:
            transaction.set_rollback(True)  # the block's own transaction or savepoint


def _timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def page_against_board(competition, as_of, repeat=7):
    """What a cold competition page computes (its public board and the history of its progress
    chart, `domain.history`) against the public board alone, interleaved like
    `board_against_floor`; the page's template is not rendered. The chart (`month_figures`, the
    cache neither read nor written) in the three states of the summary it reads: (a) up to date,
    nothing marked (`summary_`: the background rebuild has run since the last change); (b) one
    agency marked (the keys without prefix: the first page after one decision, value or line
    change of an agency, the case issue 24 means); (c) the whole competition marked (`whole_`:
    only after the upgrade to 0011 until `competition_refresh`: a change to many agencies brings
    the summary up to date in its own transaction). And with the history kept
    (`kept_month_figures`, in a fresh local-memory cache, which pickles as Redis does, the untimed
    first run keeping it: a cold page after a jury score, an adjustment, or for a new date,
    language or sort). Also the queries of the chart, and the time of the refresh of one agency
    and of the whole summary (`history.refresh`). The summary is brought up to date first (this
    writes to the database measured); the marks of (b) and (c) are undone."""
    as_of = resolve_as_of(competition, as_of)
    days = month_ends(competition.start_date, as_of)[:-1]
    whole_refresh = _timed(lambda: (mark([(competition.pk, None)]), refresh(competition.pk)))
    agency = CommitmentPage.objects.live().filter(competition=competition).values_list("agency_id", flat=True).first()
    one, whole = [(competition.pk, agency)], [(competition.pk, None)]
    times = {name: [] for name in ("board", "summary", "one", "whole", "kept", "refresh")}
    with kept_board_views():
        for run in range(repeat + 1):
            measured = {"board": _timed(lambda: load_board(competition, as_of))}
            measured["summary"] = _timed(lambda: month_figures(competition, days))
            with _marked(one):
                measured["one"] = _timed(lambda: month_figures(competition, days))
                measured["refresh"] = _timed(lambda: refresh(competition.pk))
            with _marked(whole):
                measured["whole"] = _timed(lambda: month_figures(competition, days))
            measured["kept"] = _timed(lambda: kept_month_figures(competition, days))
            if run > 0:
                for name, seconds in measured.items():
                    times[name].append(seconds)
        with CaptureQueriesContext(connection) as kept:
            kept_month_figures(competition, days)
    with _marked(one), CaptureQueriesContext(connection) as context:
        month_figures(competition, days)
    median = {name: statistics.median(values) for name, values in times.items()}
    board = median["board"]
    return {
        "months": len(days) + 1,
        "board_s": board,
        "chart_s": median["one"],
        "ratio": (board + median["one"]) / board,
        "chart_queries": len(context.captured_queries),
        "summary_chart_s": median["summary"],
        "summary_ratio": (board + median["summary"]) / board,
        "whole_chart_s": median["whole"],
        "whole_ratio": (board + median["whole"]) / board,
        "kept_chart_s": median["kept"],
        "kept_ratio": (board + median["kept"]) / board,
        "kept_chart_queries": len(kept.captured_queries),
        "refresh_one_s": median["refresh"],
        "refresh_whole_s": whole_refresh,
    }


def queries_per_board(competition, as_of):
    """Database queries of one cold board build."""
    as_of = resolve_as_of(competition, as_of)
    with CaptureQueriesContext(connection) as context:
        load_board(competition, as_of, with_jury=True)
    return len(context.captured_queries)


def board_memory(competition, as_of):
    """Peak memory allocated by one cold board build above what was allocated before it
    (tracemalloc: Python allocations, the board itself included), in MB."""
    as_of = resolve_as_of(competition, as_of)
    load_board(competition, as_of, with_jury=True)  # imports and first-use caches are not the build's
    tracemalloc.start()
    try:
        baseline, _peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        board = load_board(competition, as_of, with_jury=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del board
    return (peak - baseline) / 1e6


def values_file(competition, rows=None):
    """A `values` CSV for `competition`: a value for every line on reporting dates the
    generator left free (mid-month), as many dates as it takes to reach `rows` rows."""
    lines = list(
        CommitmentLine.objects.filter(commitment__competition=competition)
        .order_by("commitment__agency__code", "target__code")
        .values_list("commitment__agency__code", "target__code", "target__unit", "target__target_value")
    )
    taken = set(report_dates(12, competition.start_date, competition.end_date))
    days = [
        date(competition.start_date.year, month, 15)
        for month in range(1, 13)
        if date(competition.start_date.year, month, 15) not in taken
    ]
    wanted = rows or len(lines)
    out = ["agency,target,reported_on,value"]
    for day in days:
        for agency, target, unit, target_value in lines:
            if len(out) > wanted:
                break
            value = Decimal(1) if unit == "boolean" else Decimal(target_value)
            out.append(f"{agency},{target},{day.isoformat()},{value}")
    return "\n".join(out).encode("utf-8"), len(out) - 1


def import_throughput(competition, rows=None, repeat=1):
    """Import a generated values file through the real resources (run_import, as the command
    and the admin do) inside a transaction that is rolled back afterwards, so that the
    generated data stays as it was: once untimed, then `repeat` timed runs, as the other
    timings. Returns rows, the median seconds and rows/s."""
    content, count = values_file(competition, rows)

    def one_import():
        with transaction.atomic():
            report = run_import(
                "values", load_dataset(content, "csv"), competition=competition.slug, file_name="bench.csv"
            )
            transaction.set_rollback(True)
        if not report.ok:
            raise RuntimeError("the generated values file was refused: " + "; ".join(report.errors[:5]))
        return report

    one_import()
    seconds, _best, report = timed(one_import, repeat)
    return {"rows": count, "created": report.created, "seconds": seconds, "rows_per_s": count / seconds}


def queries_per_chart(competition, as_of):
    """Database queries of the history of one cold progress chart (`domain.history`)."""
    as_of = resolve_as_of(competition, as_of)
    days = month_ends(competition.start_date, as_of)[:-1]
    with CaptureQueriesContext(connection) as context:
        month_figures(competition, days)
    return len(context.captured_queries)


@contextmanager
def cold_views():
    """Views called in this process compute everything, as served with no cache: the cache of
    boards (and of the pages built from them) keeps nothing; requests come from RequestFactory."""
    alias = conf.get("CACHE_ALIAS")
    caches = {**settings.CACHES, alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with override_settings(CACHES=caches, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        yield


@contextmanager
def kept_board_views():
    """Views called in this process find the boards they built kept, as in production, where the
    background rebuild keeps every public board (and the parts of its scoreboard.json) after each
    change: the cache of boards is a fresh local-memory cache (which pickles what it keeps, as
    Redis does, and here keeps as many entries as Redis would: a national board's parts are
    thousands); a response itself is never kept (`call_view` goes through no middleware, so the
    page cache is bypassed)."""
    alias = conf.get("CACHE_ALIAS")
    fresh = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"bench-{time.time_ns()}",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
    caches = {**settings.CACHES, alias: fresh}
    with override_settings(CACHES=caches, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        yield


def call_view(path, query=None):
    """The response of the view of `path` (URL routing, no middleware) to a GET with `query`."""
    match = resolve(path)
    request = RequestFactory().get(path, query or {})
    response = match.func(request, *match.args, **match.kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {query or ''} answered {response.status_code}")
    return response


def scoreboard_path(competition):
    return (competition.get_url(None) or competition.url_path) + "scoreboard.json"


def slices_against_floor(competition, as_of, repeat=7, *, kept=True):
    """Each slice of scoreboard.json (`?group=CODE` of the first group, `?agency=CODE` of the
    first agency, by code) computed by its view (no middleware, no HTTP) against the floor of its
    rows (`bench.floor` restricted to the slice's lines, each form, the fastest taken),
    interleaved like `board_against_floor`.

    `kept` (the goal's case): the whole public board and the parts of its scoreboard.json kept,
    as the background rebuild keeps them in production, and the slice's response not (its first
    request): the view joins the slice's kept parts (the untimed first run keeps the board and
    the parts). Otherwise fully cold, the way a server with no cache
    computes it: the public board of the whole competition, the clusters, the slice's JSON text.
    A slice carries the overall rank, which depends on every agency, so a fully cold slice
    cannot cost less than the whole board."""
    as_of = resolve_as_of(competition, as_of)
    agencies = Agency.objects.filter(commitments__competition=competition).select_related("parent")
    agency = agencies.order_by("code").first()
    group = agencies.filter(parent__isnull=False).order_by("parent__code").first()
    slices = [("agency", agency.code, agency.pk)]
    if group is not None:
        slices.insert(0, ("group", group.parent.code, group.parent_id))
    path = scoreboard_path(competition)
    results = []
    with kept_board_views() if kept else cold_views():
        for scope, code, pk in slices:
            forms = floor_queries(scope)
            floor_times = {name: [] for name in forms}
            view_times = []
            rows = response = None
            query = {scope: code, "as_of": as_of.isoformat()}
            for run in range(repeat + 1):
                for name, sql in forms.items():
                    started = time.perf_counter()
                    rows = run_floor(competition.pk, as_of, sql, pk)
                    if run:
                        floor_times[name].append(time.perf_counter() - started)
                started = time.perf_counter()
                response = call_view(path, query)
                if run:
                    view_times.append(time.perf_counter() - started)
            floors = {name: statistics.median(times) for name, times in floor_times.items()}
            floor_name = min(floors, key=floors.get)
            view = statistics.median(view_times)
            results.append(
                {
                    "scope": scope,
                    "code": code,
                    "lines": len(rows),
                    "agencies": len(json.loads(response.content)["agencies"]),
                    "bytes": len(response.content),
                    "floor_s": floors[floor_name],
                    "floor_form": floor_name,
                    "view_s": view,
                    "ratio": view / floors[floor_name],
                    "kept": kept,
                }
            )
    return results


def scoreboard_size(competition):
    """The bytes of the whole scoreboard.json as served by default (today's board, clamped into
    the period), plain and gzip-compressed the way the page cache keeps it (level 6)."""
    with cold_views():
        body = call_view(scoreboard_path(competition)).content
    return {"bytes": len(body), "gzip_bytes": len(gzip.compress(body, compresslevel=6, mtime=0))}


def home_boards(repeat=7):
    """What the demo home page needs when nothing is kept: the public board of today (clamped)
    of each competition it lists (the live, public competitions of the default site), each built
    cold; the sum of their medians in seconds, and how many."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    listed = CompetitionPage.objects.live().public().descendant_of(site.root_page)
    total = 0.0
    for competition in listed:
        day = resolve_as_of(competition)
        load_board(competition, day)  # untimed, as in board_against_floor
        total += timed(lambda competition=competition, day=day: load_board(competition, day), repeat)[0]
    return {"competitions": len(listed), "boards_s": total}


def public_pages(competition):
    """(name, URL path) of a public page of each other kind the competition has: its first
    target page, its first commitment page and the page of its first group by code (a cluster
    page, whose generated code has dots, as agencies' identification codes do)."""
    pages = []
    url = competition.get_url(None) or competition.url_path
    for name, model in (("target page", TargetPage), ("commitment page", CommitmentPage)):
        child = model.objects.live().child_of(competition).order_by("path").first()
        if child is not None:
            pages.append((name, child.get_url(None) or child.url_path))
    group = (
        Agency.objects.filter(commitments__competition=competition, parent__isnull=False)
        .order_by("parent__code")
        .values_list("parent__code", flat=True)
        .first()
    )
    if group is not None:
        pages.append(("cluster page", url + competition.reverse_subpage("cluster", kwargs={"code": group})))
    return pages
