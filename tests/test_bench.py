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
from bench.generate import GenerationError, Size, generate
from bench.measure import import_throughput, queries_per_board
from competition.domain import scoreboard
from competition.domain.scoreboard import load_board, load_lines
from competition.models import CompetitionPage, JuryScore, Submission
from competition.scoring import aggregate

# The demo site's settings, serving or benchmark: run by `make test`, skipped under the package's settings.
pytestmark = pytest.mark.demo

SMALL = Size(agencies=6, groups=2, targets=8, reports=4)
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
    scored = 0
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
            points = list(submission.scores.values_list("points", flat=True))
            assert line.jury_points == aggregate(points, method)
            scored += bool(points)
    assert scored > 10


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
