"""The generator and the benchmark at smoke size: the generated data is valid for the real app,
deterministic, chosen the way the floor chooses it, and a board costs the same number of
queries at two sizes. (The full benchmark is `make bench`, not a test.)"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from bench.floor import floor_queries, run_floor
from bench.generate import PRESETS, GenerationError, Size, generate
from bench.management.commands.competition_bench import serving_lines, slice_line
from bench.measure import (
    import_throughput,
    page_against_board,
    public_pages,
    queries_per_board,
    queries_per_chart,
    scoreboard_size,
    slices_against_floor,
)
from competition.domain import panels, scoreboard
from competition.domain.clusters import clusters_of
from competition.domain.presentation import progress_series
from competition.domain.scoreboard import load_board, load_lines
from competition.models import (
    Agency,
    CommitmentLine,
    CompetitionPage,
    JuryScore,
    ProgressChange,
    ProgressDirty,
    ReviewPanel,
    Submission,
)
from competition.scoring import aggregate

# The demo site's settings, serving or benchmark: run by `make test`, skipped under the package's settings.
pytestmark = pytest.mark.demo

SMALL = Size(agencies=6, groups=2, targets=8, reports=4)
NESTED = Size(agencies=10, groups=5, targets=3, reports=2, clusters=2)
LARGER = Size(agencies=18, groups=3, targets=8, reports=6)
AS_OF = date(2025, 10, 15)


@pytest.fixture
def small(db):
    return generate("small", SMALL, seed=7).competition


def test_generate_writes_the_size_asked(small):
    assert Submission.objects.filter(line__commitment__competition=small).count() == 6 * 8 * 4
    statuses = set(Submission.objects.values_list("status", flat=True))
    assert statuses == {"accepted", "submitted"}
    assert JuryScore.objects.filter(submission__line__commitment__competition=small).exists()
    board = load_board(small, AS_OF)
    assert len(board.agencies) == 6
    assert {group.code for group in board.groups} == {"small.G001", "small.G002"}
    assert {target.unit for target in board.targets} == {"percent", "number", "days", "boolean"}
    assert {target.direction for target in board.targets} == {"higher", "lower"}


def test_generate_is_deterministic(db):
    first = load_board(generate("first", SMALL, seed=3).competition, AS_OF)
    second = load_board(generate("second", SMALL, seed=3).competition, AS_OF)
    other = load_board(generate("other", SMALL, seed=4).competition, AS_OF)

    def figures(board):
        return [(a.score_percent, a.progress_percent, a.provisional) for a in board.agencies]

    assert figures(first) == figures(second)
    assert figures(first) != figures(other)


def test_generate_refuses_an_existing_slug(small):
    with pytest.raises(GenerationError, match="exists already"):
        generate("small", SMALL)


def test_generated_pages_are_served(small):
    client = Client()
    for path in ("/small/", "/small/scoreboard.json", "/small/target-t01/", "/small/commitment-small-a00001/"):
        assert client.get(path).status_code == 200, path
    data = client.get("/small/scoreboard.json?as_of=2025-10-15").json()
    assert len(data["agencies"]) == 6


def test_board_values_are_those_the_floor_chooses(small):
    """The build and every form of the floor pick the same submission for every line."""
    board = load_board(small, AS_OF)
    built = {(a.code, line.target_code): line.value for a in board.agencies for line in a.lines}
    lines = load_lines(small, AS_OF)
    assert len(lines) == len(built) == 6 * 8
    for sql in floor_queries().values():
        rows = run_floor(small.pk, AS_OF, sql)
        chosen = {row[0]: row[1] for row in rows}
        assert len(chosen) == len(built)
        values = Submission.objects.in_bulk([pk for pk in chosen.values() if pk])
        expected = sorted(
            (values[pk].line.commitment.agency.code, values[pk].line.target.code, values[pk].value)
            for pk in chosen.values()
            if pk
        )
        assert expected == sorted((code, target, value) for (code, target), value in built.items() if value is not None)


def test_board_queries_do_not_grow_with_the_size(db):
    small = generate("small", SMALL, seed=1).competition
    larger = generate("larger", LARGER, seed=1).competition
    assert queries_per_board(small, AS_OF) == queries_per_board(larger, AS_OF)
    assert queries_per_chart(small, AS_OF) == queries_per_chart(larger, AS_OF) == 1


def test_cold_competition_page_queries_are_counted(small, django_assert_num_queries):
    """What a competition page computes when nothing is kept: its board (6 queries) and the
    history of its progress chart (1); once the history is kept, for any other date of the
    month or after a jury score, only the board's."""
    cache = scoreboard.board_cache()
    cache.clear()
    with django_assert_num_queries(6 + 1):
        board = scoreboard.get_board(small, AS_OF)
        progress_series(small, board)
    with django_assert_num_queries(0):  # both kept
        series = progress_series(small, scoreboard.get_board(small, AS_OF))
    scoreboard.invalidate(small.pk, progress=False)  # a jury score, say
    with django_assert_num_queries(6):
        assert progress_series(small, scoreboard.get_board(small, AS_OF)) == series
    with django_assert_num_queries(6):  # another date of the month: its board
        progress_series(small, scoreboard.get_board(small, date(2025, 10, 20)))
    result = page_against_board(small, AS_OF, repeat=1)
    assert (result["chart_queries"], result["kept_chart_queries"]) == (1, 0)
    assert result["kept_ratio"] < result["ratio"]
    for prefix in ("", "summary_", "whole_"):
        assert result[f"{prefix}ratio"] == (result["board_s"] + result[f"{prefix}chart_s"]) / result["board_s"]
    assert result["refresh_one_s"] > 0 and result["refresh_whole_s"] > 0
    # The summary left up to date, the marks of the cases measured undone.
    assert not ProgressDirty.objects.filter(competition=small).exists()
    assert ProgressChange.objects.filter(competition=small, reported_on=None).count() == len(
        scoreboard.get_board(small, AS_OF).agencies
    )


@pytest.mark.parametrize("with_jury", [True, False])
def test_board_queries_are_counted(small, django_assert_num_queries, with_jury):
    # Targets, milestones, tiers, lines with their values (and scores), agencies, adjustments.
    with django_assert_num_queries(6):
        load_board(small, AS_OF, with_jury=with_jury)


def test_a_board_without_the_jury_points_reads_no_score(small, django_assert_num_queries):
    # While judging is open the public board never reads the jury's scores (docs/scoring.md, 6).
    assert not small.closed
    with django_assert_num_queries(6) as captured:
        board = load_board(small, AS_OF)
    assert not any("juryscore" in query["sql"].lower() for query in captured.captured_queries)
    assert board.with_jury is False
    assert all(line.jury_points is None for agency in board.agencies for line in agency.lines)


def test_import_throughput_imports_through_the_resources_and_rolls_back(small):
    before = Submission.objects.count()
    result = import_throughput(small)
    assert result["rows"] == result["created"] == 6 * 8
    assert result["rows_per_s"] > 0
    assert Submission.objects.count() == before


def test_bench_command_at_smoke_size(db, capsys):
    call_command("competition_bench", "--size", "smoke", "--repeat", "1", "--no-serving")
    output = capsys.readouterr().out
    assert "equal at every size: OK" in output
    assert "× the floor" in output
    assert "rows/s" in output
    assert CompetitionPage.objects.filter(slug="bench-smoke").exists()
    # Every goal of issue 24 the command measures without serving, each with its target.
    for case in (
        "after one change to one agency (the first page after a decision: issue 24's goal)",
        "after the background rebuild",
        "with the whole competition out of date (only after the upgrade to 0011",
    ):
        assert f"competition page, cold, {case}" in output
    assert "for information, " in output
    assert "refresh of the chart's summary: one agency" in output
    assert "paid by a change to a target, in its own transaction" in output
    assert "× the board (" in output and "≤ 1.5×)" in output
    assert "competition page, cold, the chart's history kept" in output
    # Each slice with the board kept (judged against the goal), then fully cold (information).
    for state, verdict in (("board kept, response not", "≤ 1.2×)"), ("fully cold", "for information")):
        group = f"scoreboard.json?group=bench-smoke.G001, {state}:"
        group_line = next(line for line in output.splitlines() if group in line)
        assert "(4 agencies," in group_line and "floor of its 32 lines" in group_line and verdict in group_line
        agency = f"scoreboard.json?agency=bench-smoke.A00001, {state}:"
        agency_line = next(line for line in output.splitlines() if agency in line)
        assert "(1 agency," in agency_line and "floor of its 8 lines" in agency_line and verdict in agency_line
    assert "bytes, " in output and " compressed" in output


def test_presets_nest_clusters_and_keep_their_sizes():
    """The figures stay comparable with the earlier runs: same agencies, groups and lines."""
    assert [(size.agencies, size.groups, size.targets, size.reports) for size in PRESETS.values()] == [
        (12, 3, 8, 4),
        (184, 16, 20, 12),
        (3321, 34, 20, 12),
    ]
    assert PRESETS["hcmc"].clusters == 2 and PRESETS["national"].clusters == 6
    assert all(size.panels for size in PRESETS.values())


def _tree(competition, prefix):
    """The generated agencies above the participants as (code, parent code), codes without prefix."""
    rows = Agency.objects.filter(code__startswith=prefix + ".").exclude(commitments__competition=competition)
    return sorted(
        (code.removeprefix(prefix), (parent or "").removeprefix(prefix))
        for code, parent in rows.values_list("code", "parent__code")
    )


def test_generate_nests_clusters_deterministically(db):
    first = generate("first", NESTED, seed=2).competition
    second = generate("second", NESTED, seed=2).competition
    # The top agency above two clusters, the five groups in consecutive runs below them (3, 2).
    assert _tree(first, "first") == [
        (".C01", ".TOP"),
        (".C02", ".TOP"),
        (".G001", ".C01"),
        (".G002", ".C01"),
        (".G003", ".C01"),
        (".G004", ".C02"),
        (".G005", ".C02"),
        (".TOP", ""),
    ]
    assert _tree(second, "second") == _tree(first, "first")
    # The board's groups stay those of the direct parents; the clusters roll up at every level.
    board = load_board(first, AS_OF)
    assert {group.code for group in board.groups} == {f"first.G00{g}" for g in range(1, 6)}
    clusters = {cluster.code: cluster for cluster in clusters_of(board)}
    assert (clusters["first.TOP"].depth, clusters["first.TOP"].agencies) == (3, 10)
    assert (clusters["first.C01"].depth, clusters["first.C01"].agencies) == (2, 6)
    assert (clusters["first.C02"].depth, clusters["first.C02"].agencies) == (2, 4)
    other = {cluster.code.removeprefix("second"): cluster for cluster in clusters_of(load_board(second, AS_OF))}
    assert [(c.mean_score_percent, c.mean_progress_percent) for _code, c in sorted(clusters.items())] == [
        (c.mean_score_percent, c.mean_progress_percent) for _code, c in sorted(other.items())
    ]


def test_generate_refuses_more_clusters_than_groups(db):
    with pytest.raises(GenerationError, match="more clusters than groups"):
        generate("many", Size(agencies=4, groups=2, targets=1, reports=1, clusters=3))


def test_generated_panels_leave_off_panel_scores_uncounted(db):
    """Two panels share the groups; a score by a juror off the line's panel is kept but not
    counted, exactly as the product's own rule (domain.panels.recount) marks it."""
    competition = generate("nested", NESTED, seed=2).competition
    scopes = {panel.name: panel for panel in ReviewPanel.objects.filter(competition=competition)}
    assert sorted(scopes) == ["Panel 1", "Panel 2"]
    first, second = scopes["Panel 1"], scopes["Panel 2"]
    assert sorted(first.clusters.values_list("code", flat=True)) == ["nested.G001", "nested.G002", "nested.G003"]
    assert sorted(second.clusters.values_list("code", flat=True)) == ["nested.G004", "nested.G005"]
    assert first.members.count() == second.members.count() == 3
    scores = JuryScore.objects.filter(submission__line__commitment__competition=competition)
    assert scores.filter(counted=False).exists() and scores.filter(counted=True).exists()
    assert panels.recount(competition) == 0  # nothing to change: the generator marked them the same way
    # Without panels every score counts.
    plain = generate("plain", Size(agencies=4, groups=2, targets=2, reports=2, panels=False), seed=2).competition
    assert not ReviewPanel.objects.filter(competition=plain).exists()
    assert not JuryScore.objects.filter(submission__line__commitment__competition=plain, counted=False).exists()


def test_floor_counts_only_counted_scores_as_the_board_does(small):
    """The floor's count and mean of each chosen submission's scores are those of its counted
    scores, and the board's jury points (mean) are that mean."""
    CompetitionPage.objects.filter(pk=small.pk).update(jury_aggregation="mean")
    small.refresh_from_db()
    board = load_board(small, AS_OF, with_jury=True)
    built = {
        (agency.code, line.target_code): line.jury_points
        for agency in board.agencies
        for line in agency.lines
        if line.reported_on
    }
    for sql in floor_queries().values():
        rows = run_floor(small.pk, AS_OF, sql)
        mixed = 0
        for _line_id, submission_id, _value, _day, count, mean in rows:
            if submission_id is None:
                continue
            submission = Submission.objects.select_related("line__commitment__agency", "line__target").get(
                pk=submission_id
            )
            counted = list(submission.scores.filter(counted=True).values_list("points", flat=True))
            assert count == len(counted)
            key = (submission.line.commitment.agency.code, submission.line.target.code)
            if counted:
                assert Decimal(str(mean)).quantize(Decimal("0.0001")) == aggregate(counted, "mean").quantize(
                    Decimal("0.0001")
                )
                assert built[key] == aggregate(counted, "mean")
            mixed += submission.scores.count() > len(counted) > 0
        assert mixed > 0  # some chosen submissions have scores that do not count


@pytest.mark.parametrize("scope", ["group", "agency"])
def test_slice_floors_return_exactly_the_slices_lines(db, scope):
    competition = generate("nested", NESTED, seed=2).competition
    generate("other", NESTED, seed=2)  # another competition's lines must stay out
    group = Agency.objects.get(code="nested.G004")
    agency = Agency.objects.get(code="nested.A00004")  # in group 4 (agencies spread round the groups)
    scope_id, agencies = (
        (group.pk, {"nested.A00004", "nested.A00009"}) if scope == "group" else (agency.pk, {agency.code})
    )
    wanted = set(
        CommitmentLine.objects.filter(
            commitment__competition=competition, commitment__agency__code__in=agencies
        ).values_list("pk", flat=True)
    )
    assert len(wanted) == len(agencies) * 3
    whole = {row[0]: row for row in run_floor(competition.pk, AS_OF)}
    for sql in floor_queries(scope).values():
        rows = run_floor(competition.pk, AS_OF, sql, scope_id)
        assert {row[0] for row in rows} == wanted
        assert sorted(rows) == sorted(whole[pk] for pk in wanted)  # the same rows as the whole floor's


@pytest.mark.parametrize("kept", [True, False])
def test_slices_and_size_are_measured_on_the_views_output(db, monkeypatch, kept):
    competition = generate("nested", NESTED, seed=2).competition
    built = []
    real_load_board = scoreboard.load_board
    monkeypatch.setattr(
        scoreboard, "load_board", lambda *args, **kw: built.append(args) or real_load_board(*args, **kw)
    )
    results = {result["scope"]: result for result in slices_against_floor(competition, AS_OF, repeat=2, kept=kept)}
    assert (results["group"]["code"], results["group"]["agencies"], results["group"]["lines"]) == ("nested.G001", 2, 6)
    assert (results["agency"]["code"], results["agency"]["agencies"], results["agency"]["lines"]) == (
        "nested.A00001",
        1,
        3,
    )
    for result in results.values():
        assert result["view_s"] > 0 and result["floor_s"] > 0
        assert result["ratio"] == result["view_s"] / result["floor_s"]
        assert result["kept"] is kept
    # Board kept: built once (the untimed first run, which keeps its parts), then every timed run
    # joins the slice from its kept parts.
    # Fully cold: built by every run, 3 a slice.
    assert len(built) == (1 if kept else 6)
    size = scoreboard_size(competition)
    served = Client().get("/nested/scoreboard.json")
    assert size["bytes"] == len(served.content)
    assert 0 < size["gzip_bytes"] < size["bytes"]


def test_the_other_public_pages_served_include_a_cluster_page_whose_code_has_dots(db):
    competition = generate("nested", NESTED, seed=2).competition
    pages = dict(public_pages(competition))
    assert sorted(pages) == ["cluster page", "commitment page", "target page"]
    assert pages["cluster page"] == "/nested/clusters/nested.G001/"
    client = Client()
    for path in pages.values():
        assert client.get(path).status_code == 200, path


def test_slice_lines_judge_the_kept_board_and_only_inform_of_the_cold_one():
    result = {
        "scope": "group",
        "code": "bench-hcmc.G001",
        "agencies": 12,
        "lines": 240,
        "bytes": 71387,
        "floor_s": 0.0096,
        "floor_form": "lateral",
        "view_s": 0.0105,
        "ratio": 0.0105 / 0.0096,
        "kept": True,
    }
    assert slice_line(result) == (
        "  scoreboard.json?group=bench-hcmc.G001, board kept, response not: view 10.5 ms (12 agencies, 71,387 "
        "bytes), floor of its 240 lines 9.6 ms (lateral) = 1.09× (OK: ≤ 1.2×)"
    )
    slower = {**result, "view_s": 0.012, "ratio": 0.012 / 0.0096}
    assert slice_line(slower).endswith("= 1.25× (MISSED: ≤ 1.2×)")
    cold = {**result, "view_s": 0.2435, "ratio": 0.2435 / 0.0096, "kept": False, "agencies": 1}
    assert slice_line(cold) == (
        "  scoreboard.json?group=bench-hcmc.G001, fully cold: view 243.5 ms (1 agency, 71,387 bytes), floor of "
        "its 240 lines 9.6 ms (lateral) = 25.36× (for information: builds the whole board, for the overall rank)"
    )


def _row(name, requests_per_s, mean_ms=10.0):
    return {"name": name, "requests_per_s": requests_per_s, "p95_ms": 1.0, "mean_ms": mean_ms, "errors": 0}


def test_serving_lines_give_each_kept_page_and_the_cold_home_page_their_verdict():
    rows = [
        _row("bare Django view", 1000),
        _row("plain Wagtail page, cold (no cache), 1 client", 50, mean_ms=20),
        _row("demo home page, cold (no cache), 1 client", 10, mean_ms=100),
        _row("demo home page (lists competitions), kept", 800),
        _row("target page, kept", 600),
        _row("scoreboard.json, cached (Redis)", 100),
    ]
    lines = serving_lines(rows, home_boards_s=0.030)
    assert any("demo home page (lists competitions), kept" in line and "(OK: ≥ 0.7×)" in line for line in lines)
    assert any("target page, kept" in line and "(MISSED: ≥ 0.7×)" in line for line in lines)
    assert not any("scoreboard.json" in line and "0.7×" in line for line in lines)
    assert not any("cold (no cache)" in line and "0.7×" in line for line in lines)
    # 100 ms against 20 + 30 ms: twice, met exactly at the target.
    assert lines[-1] == (
        "    demo home page, cold: 100 ms a request = 2.00× a cold plain Wagtail page (20 ms) plus its boards "
        "(30 ms) (OK: ≤ 2.0×)"
    )
    slower = serving_lines([*rows[:2], _row("demo home page, cold (no cache), 1 client", 5, mean_ms=101)], 0.030)
    assert slower[-1].endswith("(MISSED: ≤ 2.0×)")


def test_generate_command_refuses_bad_sizes(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("competition_generate", "--agencies", "0")


def test_generated_adjustments_and_own_baselines_are_valid(small):
    board = load_board(small, AS_OF)
    for agency in board.agencies:
        assert agency.max_points > 0
        for line in agency.lines:
            assert Decimal(0) <= line.progress <= Decimal(1)


@pytest.mark.parametrize("method", ["mean", "median", "trimmed_mean"])
def test_board_jury_points_match_the_scores_for_every_aggregation(small, method):
    """Whether the database sends the scores or their totals, JP is docs/scoring.md's figure."""
    CompetitionPage.objects.filter(pk=small.pk).update(jury_aggregation=method)
    small.refresh_from_db()
    board = load_board(small, AS_OF, with_jury=True)
    scored = uncounted = 0
    for agency in board.agencies:
        for line in agency.lines:
            if line.reported_on is None:
                continue
            submission = (
                Submission.objects.filter(
                    line__commitment__agency__code=agency.code,
                    line__target__code=line.target_code,
                    line__commitment__competition=small,
                    status="accepted",
                    reported_on__lte=AS_OF,
                )
                .order_by("-reported_on", "-decided_at", "-pk")
                .first()
            )
            # Only the scores of the line's review panel count (the generator's panels, docs/panels.md).
            points = list(submission.scores.filter(counted=True).values_list("points", flat=True))
            assert line.jury_points == aggregate(points, method)
            scored += bool(points)
            uncounted += submission.scores.filter(counted=False).exists()
    assert scored > 10
    assert uncounted > 0


@pytest.mark.parametrize("method", ["mean", "median", "trimmed_mean"])
def test_streamed_board_is_the_fetched_board(small, method, monkeypatch):
    """On PostgreSQL the lines are streamed and scored as they arrive: the board is the one
    built from the whole result fetched first, to the last digit (reprs show Decimal exponents)."""
    if connection.vendor != "postgresql":
        pytest.skip("streaming is PostgreSQL's: elsewhere both builds fetch")
    CompetitionPage.objects.filter(pk=small.pk).update(jury_aggregation=method)
    small.refresh_from_db()
    streamed = load_board(small, AS_OF, with_jury=True)

    monkeypatch.setattr(scoreboard, "_can_stream", lambda: False)
    fetched = load_board(small, AS_OF, with_jury=True)

    assert repr(streamed) == repr(fetched)


def test_lines_are_streamed_on_postgresql_with_the_pinned_driver(small, django_assert_num_queries):
    if connection.vendor != "postgresql":
        pytest.skip("streaming is PostgreSQL's")
    assert scoreboard._can_stream() is True  # psycopg 3.3 with its bundled libpq 18
    with django_assert_num_queries(6) as captured:  # the streamed query is recorded too
        load_board(small, AS_OF)
    assert any("LEFT JOIN LATERAL" in query["sql"] for query in captured.captured_queries)


def test_a_stream_left_early_leaves_the_connection_usable(small):
    """A build that fails half-way (say, a programming error on one line) stops reading the
    stream: the connection must still answer the next query."""
    lines = scoreboard.iter_lines(small, AS_OF)
    first = next(lines)
    lines.close()

    assert len(first) == 8
    assert Submission.objects.filter(line__commitment__competition=small).count() == 6 * 8 * 4
    assert len(load_board(small, AS_OF).agencies) == 6
