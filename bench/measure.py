"""The measurements of `competition_bench`, each a function returning plain figures. Boards are
built with the jury's points (as once judging is closed, or for a manager): the heavier build,
which reads every chosen submission's scores as the floor does."""

import statistics
import time
import tracemalloc
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from competition.domain.history import month_figures
from competition.domain.presentation import month_ends
from competition.domain.scoreboard import load_board, load_lines, resolve_as_of
from competition.imports import load_dataset, run_import
from competition.models import CommitmentLine

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


def page_against_board(competition, as_of, repeat=7):
    """What a cold competition page computes (its public board and the history of its progress
    chart, `domain.history`, neither read from nor written to the cache) against the public
    board alone, interleaved like `board_against_floor`; the page's template is not rendered.
    Also the queries of the chart's history."""
    as_of = resolve_as_of(competition, as_of)
    days = month_ends(competition.start_date, as_of)[:-1]
    board_times, chart_times = [], []
    for run in range(repeat + 1):
        started = time.perf_counter()
        load_board(competition, as_of)
        board_s = time.perf_counter() - started
        started = time.perf_counter()
        month_figures(competition, days)
        if run > 0:
            board_times.append(board_s)
            chart_times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as context:
        month_figures(competition, days)
    board = statistics.median(board_times)
    chart = statistics.median(chart_times)
    return {
        "months": len(days) + 1,
        "board_s": board,
        "chart_s": chart,
        "ratio": (board + chart) / board,
        "chart_queries": len(context.captured_queries),
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


def import_throughput(competition, rows=None):
    """Import a generated values file through the real resources (run_import, as the command
    and the admin do) inside a transaction that is rolled back afterwards, so that the
    generated data stays as it was. Returns rows, seconds and rows/s."""
    content, count = values_file(competition, rows)
    started = time.perf_counter()
    with transaction.atomic():
        dataset = load_dataset(content, "csv")
        report = run_import("values", dataset, competition=competition.slug, file_name="bench.csv")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    if not report.ok:
        raise RuntimeError("the generated values file was refused: " + "; ".join(report.errors[:5]))
    return {"rows": count, "created": report.created, "seconds": seconds, "rows_per_s": count / seconds}


def queries_per_chart(competition, as_of):
    """Database queries of the history of one cold progress chart (`domain.history`)."""
    as_of = resolve_as_of(competition, as_of)
    days = month_ends(competition.start_date, as_of)[:-1]
    with CaptureQueriesContext(connection) as context:
        month_figures(competition, days)
    return len(context.captured_queries)
