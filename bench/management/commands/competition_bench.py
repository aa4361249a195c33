"""`python manage.py competition_bench [--size hcmc --size national] [--repeat N]`: the benchmark
of docs/performance.md on the configured database. Generates the synthetic competitions it
needs (slugs `bench-SIZE`, kept for the next run), then measures the scoreboard build against
the floor, a cold competition page against its board, the slices of scoreboard.json against the
floor of their lines, the size of scoreboard.json, queries per board at two sizes, import
throughput, the build's peak memory, and the served pages when the serving benchmark is
available; each goal with its target, "OK" or "MISSED". Exits 1 when the query counts differ."""

import platform
import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import measure
from bench.generate import PRESETS, generate
from bench.serving import measure_serving
from competition.models import CompetitionPage

# The build as a multiple of the floor, at most (issue 24: HCMC 1.5× on PostgreSQL, 2× on SQLite).
TARGETS = {"postgresql": {"hcmc": 1.5, "national": 1.5}, "sqlite": {"hcmc": 2.0, "national": 2.0}}
PAGE_TARGET = 1.5  # a cold competition page (board and progress chart) as a multiple of its board, at most
KEPT_TARGET = 0.7  # a kept page as a multiple of the bare view, at least
SLICE_TARGET = 1.2  # a slice of scoreboard.json, the board kept, as a multiple of the floor of its lines, at most
HOME_COLD_TARGET = 2.0  # a cold home page as a multiple of a cold plain Wagtail page plus its boards, at most
# The national scoreboard.json before issue 24 (run E of docs/performance.md): bytes, compressed.
NATIONAL_JSON_BEFORE = (16_619_056, 1_184_579)
IMPORT_TARGET = 5000  # rows/s, at least
MEMORY_TARGET = 60  # MB above the baseline for a national build, at most


class Command(BaseCommand):
    help = "Benchmark boards, queries, imports and memory on synthetic competitions (docs/performance.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", action="append", choices=sorted(PRESETS), help="Sizes to measure (repeatable; default hcmc)."
        )
        parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 10, 15), help="Evaluation date.")
        parser.add_argument(
            "--repeat", type=int, default=7, help="Timed runs per timing, after an untimed one (medians are shown)."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--prefix", default="bench-", help="Slug prefix of the competitions measured (default bench-)."
        )
        parser.add_argument(
            "--import-rows", type=int, default=None, help="Rows of the values file (default: a date per line)."
        )
        parser.add_argument("--no-serving", action="store_true", help="Skip the served-pages benchmark.")
        parser.add_argument("--serving-duration", type=int, default=10, help="Seconds of load per served URL.")

    def handle(self, *args, **options):
        sizes = options["size"] or ["hcmc"]
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1.")
        out = self.stdout.write
        vendor = connection.vendor
        out(f"Benchmark on {vendor} ({connection.settings_dict['NAME']}), Python {platform.python_version()}")
        if settings.DEBUG:
            out(self.style.WARNING("DEBUG is on: queries are recorded and timings are slower; run with DEBUG=0."))
        # The smallest size is always measured too, for the query counts at two sizes.
        competitions = {
            name: self._competition(options["prefix"] + name, name, options["seed"]) for name in ["smoke", *sizes]
        }
        failures = []

        out("\n== Queries per board and per progress chart (cold) ==")
        counts = {
            name: (measure.queries_per_board(page, options["as_of"]), measure.queries_per_chart(page, options["as_of"]))
            for name, page in competitions.items()
        }
        for name, (board, chart) in counts.items():
            out(f"  {name:9} {board} queries per board, {chart} per progress chart")
        if len(set(counts.values())) != 1:
            failures.append("query counts differ between sizes")
            out(self.style.ERROR("  FAIL: the number of queries depends on the size"))
        else:
            out("  equal at every size: OK")

        for name in sizes:
            page = competitions[name]
            out(f"\n== Board build against the floor: {name} ==")
            result = measure.board_against_floor(page, options["as_of"], repeat=options["repeat"])
            out(f"  {result['lines']} lines, {result['agencies']} agencies, as of {result['as_of']}")
            for form, seconds in result["floor_forms_s"].items():
                out(f"  floor ({form}): {seconds * 1000:.0f} ms")
            out(f"  floor: {result['floor_s'] * 1000:.0f} ms ({result['floor_form']})")
            out(f"  lines query of the build: {result['lines_query_s'] * 1000:.0f} ms")
            target = TARGETS.get(vendor, TARGETS["sqlite"]).get(name)
            verdict = "" if target is None else (" OK" if result["ratio"] <= target else " MISSED") + f" (≤ {target}×)"
            out(f"  board build, cold: {result['build_s'] * 1000:.0f} ms = {result['ratio']:.2f}× the floor{verdict}")

            result = measure.page_against_board(page, options["as_of"], repeat=options["repeat"])
            board_ms = result["board_s"] * 1000
            for label, prefix in (
                ("after one change to one agency (the first page after a decision: issue 24's goal)", ""),
                ("after the background rebuild (the summary up to date)", "summary_"),
                (
                    "with the whole competition out of date (only after the upgrade to 0011, until "
                    "competition_refresh: a change to many agencies brings the summary up to date itself)",
                    "whole_",
                ),
            ):
                ratio = result[f"{prefix}ratio"]
                verdict = "OK" if ratio <= PAGE_TARGET else "MISSED"
                if prefix == "whole_":
                    verdict = f"for information, {verdict}"
                out(
                    f"  competition page, cold, {label}: public board {board_ms:.0f} ms + progress chart "
                    f"({result['months']} months, {result['chart_queries']} query) "
                    f"{result[f'{prefix}chart_s'] * 1000:.0f} ms = {ratio:.2f}× the board ({verdict}: ≤ {PAGE_TARGET}×)"
                )
            verdict = "OK" if result["kept_ratio"] <= PAGE_TARGET else "MISSED"
            out(
                f"  competition page, cold, the chart's history kept (a new date, language or sort; a jury "
                f"score): public board + chart ({result['kept_chart_queries']} queries) "
                f"{result['kept_chart_s'] * 1000:.1f} ms = {result['kept_ratio']:.2f}× the board "
                f"({verdict}: ≤ {PAGE_TARGET}×)"
            )
            out(
                f"  refresh of the chart's summary: one agency {result['refresh_one_s'] * 1000:.0f} ms "
                f"(in the background rebuild); the whole competition {result['refresh_whole_s'] * 1000:.0f} ms "
                "(paid by a change to a target, in its own transaction)"
            )

            for kept in (True, False):
                for result in measure.slices_against_floor(page, options["as_of"], repeat=options["repeat"], kept=kept):
                    out(slice_line(result))
            result = measure.scoreboard_size(page)
            verdict = ""
            if name == "national":
                before, before_gzip = NATIONAL_JSON_BEFORE
                smaller = result["bytes"] < before and result["gzip_bytes"] < before_gzip
                verdict = (
                    f" ({'OK' if smaller else 'MISSED'}: smaller than {before:,} and {before_gzip:,} before issue 24)"
                )
            out(f"  scoreboard.json: {result['bytes']:,} bytes, {result['gzip_bytes']:,} compressed{verdict}")

            megabytes = measure.board_memory(page, options["as_of"])
            verdict = f" ({'OK' if megabytes <= MEMORY_TARGET else 'MISSED'}: ≤ {MEMORY_TARGET} MB)"
            out(f"  peak memory of the build: {megabytes:.1f} MB above baseline{verdict if name == 'national' else ''}")

        name = "hcmc" if "hcmc" in sizes else sizes[0]
        out(f"\n== Import of a values file: {name} ==")
        result = measure.import_throughput(competitions[name], options["import_rows"], repeat=options["repeat"])
        verdict = "OK" if result["rows_per_s"] >= IMPORT_TARGET else "MISSED"
        out(
            f"  {result['rows']} rows ({result['created']} created) in {result['seconds']:.2f} s (median) = "
            f"{result['rows_per_s']:.0f} rows/s ({verdict}: ≥ {IMPORT_TARGET})"
        )

        out("\n== Served pages ==")
        if options["no_serving"]:
            out("  skipped (--no-serving)")
        else:
            self._serving(competitions, sizes, options)

        if failures:
            raise CommandError("; ".join(failures))

    def _competition(self, slug, name, seed):
        page = CompetitionPage.objects.filter(slug=slug).first()
        if page is not None:
            return page
        self.stdout.write(f"Generating {slug} ({name} size)...")
        started = time.perf_counter()
        result = generate(slug, PRESETS[name], seed=seed, log=self.stdout.write)
        self.stdout.write(
            f"  {result.submissions} submissions, {result.scores} jury scores in {time.perf_counter() - started:.1f} s"
        )
        self.stdout.write(
            self.style.WARNING(
                "  Generated in this process: its timings and memory come out worse than in a fresh one "
                "(docs/performance.md). For figures, generate first with competition_generate, as make bench does."
            )
        )
        return result.competition

    def _serving(self, competitions, sizes, options):
        url = connection.settings_dict
        database_url = _database_url(url)
        home = measure.home_boards(repeat=options["repeat"])
        self.stdout.write(
            f"  the boards the home page needs, cold (today's public board of each of the {home['competitions']} "
            f"competitions it lists): {home['boards_s'] * 1000:.0f} ms"
        )
        for name in sizes:
            page = competitions[name]
            path = page.get_url(None) or page.url_path
            self.stdout.write(f"  {name}: {path}")
            rows = measure_serving(
                database_url, path, duration=options["serving_duration"], pages=measure.public_pages(page)
            )
            for line in serving_lines(rows, home["boards_s"]):
                self.stdout.write(line)


def slice_line(result):
    """The line of one slice of scoreboard.json: with the whole board kept (the goal's case, with
    its verdict), or fully cold (for information: a slice carries the overall rank, which depends
    on every agency, so a fully cold slice builds the whole board and cannot meet the goal)."""
    agencies = f"{result['agencies']} {'agency' if result['agencies'] == 1 else 'agencies'}"
    if result["kept"]:
        state = "board kept, response not"
        verdict = f"({'OK' if result['ratio'] <= SLICE_TARGET else 'MISSED'}: ≤ {SLICE_TARGET}×)"
    else:
        state = "fully cold"
        verdict = "(for information: builds the whole board, for the overall rank)"
    return (
        f"  scoreboard.json?{result['scope']}={result['code']}, {state}: view {result['view_s'] * 1000:.1f} ms "
        f"({agencies}, {result['bytes']:,} bytes), floor of its {result['lines']} lines "
        f"{result['floor_s'] * 1000:.1f} ms ({result['floor_form']}) = {result['ratio']:.2f}× {verdict}"
    )


def serving_lines(rows, home_boards_s):
    """The printed rows of the serving benchmark, each kept page with its ratio to the bare view
    against KEPT_TARGET, and the cold home page against a cold plain Wagtail page plus the boards
    it needs (`home_boards_s`, measured in this process), by the mean time of one request."""
    lines = []
    bare = next((row for row in rows if row["name"] == "bare Django view"), None)
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        ratio = ""
        if bare and bare["requests_per_s"]:
            times = row["requests_per_s"] / bare["requests_per_s"]
            ratio = f"  {times:.2f}× the bare view"
            kept = "cached" in row["name"] or row["name"].endswith(", kept")
            if kept and "scoreboard.json" not in row["name"]:
                ratio += f" ({'OK' if times >= KEPT_TARGET else 'MISSED'}: ≥ {KEPT_TARGET}×)"
        # A row with no request answered in the time (a cold national page) has no p95.
        p95 = "–" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}"
        lines.append(
            f"    {row['name']:50} {row['requests_per_s']:8.0f} req/s  p95 {p95:>7} ms  errors {row['errors']}{ratio}"
        )
    home = by_name.get("demo home page, cold (no cache), 1 client")
    plain = by_name.get("plain Wagtail page, cold (no cache), 1 client")
    if home and plain:
        if home["mean_ms"] is None or plain["mean_ms"] is None:
            lines.append("    demo home page, cold: no request answered in the time (MISSED)")
        else:
            allowed = plain["mean_ms"] + home_boards_s * 1000
            times = home["mean_ms"] / allowed
            verdict = "OK" if times <= HOME_COLD_TARGET else "MISSED"
            lines.append(
                f"    demo home page, cold: {home['mean_ms']:.0f} ms a request = {times:.2f}× a cold plain Wagtail "
                f"page ({plain['mean_ms']:.0f} ms) plus its boards ({home_boards_s * 1000:.0f} ms) "
                f"({verdict}: ≤ {HOME_COLD_TARGET}×)"
            )
    return lines


def _database_url(settings_dict):
    """The DATABASE_URL of the configured database, for the server processes."""
    import os

    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{settings_dict['NAME']}"
