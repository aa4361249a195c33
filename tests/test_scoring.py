"""docs/scoring.md rule by rule, on plain data: no database, no Django.

Sections are tested in the order of docs/scoring.md; the worked example closes the file.
"""

import itertools
import pickle
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competition.scoring import (
    DEFAULT_MARGIN,
    DEFAULT_TIERS,
    STATUSES,
    AgencyInput,
    Candidate,
    CompetitionSpec,
    LineInput,
    Milestone,
    Reading,
    TargetSpec,
    adjustments_total,
    aggregate,
    aggregate_totals,
    choose_reading,
    clamp_as_of,
    compute_board,
    expected_progress,
    progress,
    tier_for,
)

START, END = date(2025, 1, 1), date(2025, 12, 31)
# Judging closed: the public board counts the jury's points (section 6), which most tests of
# points need; OPEN is the same competition while judging is open.
SPEC = CompetitionSpec(slug="c", title="C", start=START, end=END, closed=True)
OPEN = replace(SPEC, closed=False)
MID_YEAR = date(2025, 7, 2)  # 182 of the 364 days of SPEC: E = 0.5 without milestones
REPORTED = date(2025, 6, 30)


def target(code="T1", unit="percent", direction="higher", baseline=0, goal=100, max_points=100, **kw):
    return TargetSpec(
        code=code,
        title=f"Title {code}",
        unit=unit,
        direction=direction,
        baseline=D(baseline),
        target=D(goal),
        max_points=D(max_points),
        **kw,
    )


def line(code="T1", value=None, scores=(), baseline=None, goal=None, day=REPORTED):
    reading = None
    if value is not None:
        reading = Reading(value=D(value), reported_on=day, jury_scores=tuple(D(s) for s in scores))
    return LineInput(
        target_code=code,
        baseline=None if baseline is None else D(baseline),
        target=None if goal is None else D(goal),
        reading=reading,
    )


def agency(code, *lines, adjustments=0, parent=None, parent_name=None):
    return AgencyInput(
        code=code,
        name=f"Agency {code}",
        parent_code=parent,
        parent_name=parent_name,
        lines=lines,
        adjustments=D(adjustments),
    )


def one_line_board(value, scores=(), as_of=MID_YEAR, spec=SPEC, **target_kw):
    """The board of one agency "A" committed to one target "T1" (0 -> 100, 100 points)."""
    return compute_board(spec, [target(**target_kw)], [agency("A", line("T1", value, scores))], as_of)


# Section 1: the evaluation date.


@pytest.mark.parametrize(
    ("as_of", "today", "expected"),
    [
        (None, date(2025, 5, 5), date(2025, 5, 5)),  # default: today
        (None, date(2024, 5, 5), START),  # today before the period
        (None, date(2026, 5, 5), END),  # today after the period
        (None, START, START),
        (None, END, END),
        (date(2025, 2, 1), date(2026, 5, 5), date(2025, 2, 1)),  # an asked date wins over today
        (date(2030, 2, 1), date(2025, 5, 5), END),
        (date(2020, 2, 1), date(2025, 5, 5), START),
    ],
)
def test_clamp_as_of_into_the_period(as_of, today, expected):
    # Arrange: SPEC runs through 2025.

    # Act
    day = clamp_as_of(SPEC, as_of, today)

    # Assert
    assert day == expected


def test_clamp_as_of_defaults_to_the_system_date():
    today = date.today()
    around_today = replace(SPEC, start=today - timedelta(days=10), end=today + timedelta(days=10))
    long_ago = replace(SPEC, start=date(2000, 1, 1), end=date(2000, 12, 31))

    assert clamp_as_of(around_today) == today
    assert clamp_as_of(long_ago) == date(2000, 12, 31)


# Section 2: the value of a commitment target.

T0 = datetime(2025, 7, 1, 9, 0)


@pytest.mark.parametrize(
    ("candidates", "as_of", "expected_pk"),
    [
        # The latest reporting date on or before the evaluation date.
        ([Candidate(1, "accepted", date(2025, 3, 31), T0, D(10))], date(2025, 3, 31), 1),
        ([Candidate(1, "accepted", date(2025, 3, 31), T0, D(10))], date(2025, 3, 30), None),
        (
            [
                Candidate(1, "accepted", date(2025, 3, 31), T0, D(10)),
                Candidate(2, "accepted", date(2025, 6, 30), T0, D(20)),
                Candidate(3, "accepted", date(2025, 9, 30), T0, D(30)),
            ],
            date(2025, 7, 2),
            2,
        ),
        # On equal dates the later acceptance, whatever the keys.
        (
            [
                Candidate(9, "accepted", date(2025, 6, 30), T0, D(1)),
                Candidate(4, "accepted", date(2025, 6, 30), T0 + timedelta(seconds=1), D(2)),
            ],
            date(2025, 7, 2),
            4,
        ),
        # A missing acceptance time loses to a real one.
        (
            [
                Candidate(9, "accepted", date(2025, 6, 30), None, D(1)),
                Candidate(4, "accepted", date(2025, 6, 30), T0, D(2)),
            ],
            date(2025, 7, 2),
            4,
        ),
        # Then the higher primary key.
        (
            [
                Candidate(4, "accepted", date(2025, 6, 30), T0, D(2)),
                Candidate(9, "accepted", date(2025, 6, 30), T0, D(1)),
            ],
            date(2025, 7, 2),
            9,
        ),
        # Only accepted submissions count, however recent the others.
        (
            [
                Candidate(1, "accepted", date(2025, 3, 31), T0, D(10)),
                Candidate(2, "draft", date(2025, 6, 30), None, D(20)),
                Candidate(3, "submitted", date(2025, 6, 30), None, D(30)),
                Candidate(4, "returned", date(2025, 6, 30), None, D(40)),
                Candidate(5, "rejected", date(2025, 6, 30), T0, D(50)),
            ],
            date(2025, 7, 2),
            1,
        ),
        ([Candidate(5, "rejected", date(2025, 6, 30), T0, D(50))], date(2025, 7, 2), None),
        ([], date(2025, 7, 2), None),
    ],
)
def test_choose_reading_picks_the_latest_accepted_submission(candidates, as_of, expected_pk):
    # Act: in every order the candidates may come in.
    chosen = {choose_reading(order, as_of) for order in itertools.permutations(candidates)}

    # Assert
    assert {None if c is None else c.pk for c in chosen} == {expected_pk}


def test_choose_reading_accepts_any_iterable():
    candidates = (Candidate(pk, "accepted", REPORTED, T0, D(pk)) for pk in (1, 3, 2))

    assert choose_reading(candidates, MID_YEAR).value == 3


# Section 3: baseline, target value, progress.


@pytest.mark.parametrize(
    ("value", "baseline", "goal", "unit", "direction", "expected"),
    [
        # higher, T > B: linear, clamped into [0, 1]
        ("85", 40, 100, "percent", "higher", D("0.75")),
        ("40", 40, 100, "percent", "higher", D(0)),
        ("30", 40, 100, "percent", "higher", D(0)),
        ("100", 40, 100, "percent", "higher", D(1)),
        ("120", 40, 100, "number", "higher", D(1)),
        ("550", 100, 1000, "number", "higher", D("0.5")),
        ("2.5", 1, 4, "days", "higher", D("0.5")),
        # higher, T <= B: all or nothing
        ("95", 100, 90, "percent", "higher", D(1)),
        ("90", 100, 90, "percent", "higher", D(1)),
        ("89.99", 100, 90, "percent", "higher", D(0)),
        ("90", 90, 90, "number", "higher", D(1)),
        ("89", 90, 90, "number", "higher", D(0)),
        # lower, T < B: linear, clamped into [0, 1]
        ("7", 10, 5, "days", "lower", D("0.6")),
        ("10", 10, 5, "days", "lower", D(0)),
        ("12", 10, 5, "days", "lower", D(0)),
        ("5", 10, 5, "days", "lower", D(1)),
        ("3", 10, 5, "days", "lower", D(1)),
        ("30", 50, 10, "percent", "lower", D("0.5")),
        ("325", 400, 250, "number", "lower", D("0.5")),
        # lower, T >= B: all or nothing
        ("5", 3, 5, "days", "lower", D(1)),
        ("4", 3, 5, "days", "lower", D(1)),
        ("6", 3, 5, "days", "lower", D(0)),
        ("5", 5, 5, "number", "lower", D(1)),
        ("5.01", 5, 5, "number", "lower", D(0)),
        # boolean: always higher from 0 to 1, whatever B, T and direction say
        ("1", 0, 1, "boolean", "higher", D(1)),
        ("0", 0, 1, "boolean", "higher", D(0)),
        ("1", 1, 0, "boolean", "higher", D(1)),
        ("0", 1, 1, "boolean", "lower", D(0)),
        ("1", 1, 1, "boolean", "lower", D(1)),
        # no data
        (None, 40, 100, "percent", "higher", D(0)),
        (None, 10, 5, "days", "lower", D(0)),
        (None, 100, 1000, "number", "higher", D(0)),
        (None, 0, 1, "boolean", "higher", D(0)),
    ],
)
def test_progress_by_unit_and_direction(value, baseline, goal, unit, direction, expected):
    value = None if value is None else D(value)

    p = progress(value, D(baseline), D(goal), unit, direction)

    assert p == expected


def test_progress_keeps_full_precision():
    p = progress(D(50), D(0), D(300), "number", "higher")

    assert p == D(1) / D(6)
    assert p != D("0.1667")


@pytest.mark.parametrize(("unit", "direction"), [("percent", "sideways"), ("liters", "higher")])
def test_progress_unknown_unit_or_direction_is_refused(unit, direction):
    with pytest.raises(ValueError, match="unknown"):
        progress(D(1), D(0), D(2), unit, direction)


# Section 4: expected progress.

JUNE_MILESTONE = Milestone(date(2025, 6, 30), D(80))  # f = (80 - 40) / 60 = 2/3 for 40 -> 100
SEPTEMBER_MILESTONE = Milestone(date(2025, 9, 30), D(90))  # f = 5/6 for 40 -> 100


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2024, 12, 1), D(0)),  # before the start
        (START, D(0)),  # at the start
        (date(2025, 1, 2), D(1) / D(364)),
        (MID_YEAR, D("0.5")),
        (END, D(1)),  # at the deadline (the competition's end by default)
    ],
)
def test_expected_progress_without_milestones_is_linear_in_days(as_of, expected):
    t = target(baseline=40, goal=100)

    e = expected_progress(SPEC, t, D(40), D(100), as_of)

    assert e == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2025, 4, 1), D(90) / D(180)),  # 90 of the 180 days to its own deadline
        (date(2025, 6, 30), D(1)),  # at its own deadline
        (date(2025, 7, 1), D(1)),  # after it
        (END, D(1)),
    ],
)
def test_expected_progress_with_the_targets_own_deadline(as_of, expected):
    t = target(deadline=date(2025, 6, 30))

    e = expected_progress(SPEC, t, D(0), D(100), as_of)

    assert e == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (START, D(0)),
        (date(2025, 3, 31), (D(40) / D(60)) * 89 / 180),  # (start, 0) -> (30 June, 2/3)
        (date(2025, 6, 30), D(40) / D(60)),  # on the first milestone
        (date(2025, 8, 15), D(40) / D(60) + (D(50) / D(60) - D(40) / D(60)) * 46 / 92),  # between milestones
        (date(2025, 9, 30), D(50) / D(60)),  # on the second milestone
        (date(2025, 11, 15), D(50) / D(60) + (1 - D(50) / D(60)) * 46 / 92),  # -> (deadline, 1)
        (END, D(1)),
    ],
)
def test_expected_progress_through_milestones_in_date_order(as_of, expected):
    # Arrange: the milestones are passed out of date order.
    t = target(baseline=40, goal=100, milestones=(SEPTEMBER_MILESTONE, JUNE_MILESTONE))

    e = expected_progress(SPEC, t, D(40), D(100), as_of)

    assert e == expected


def test_expected_progress_of_the_worked_example_t1():
    t = target(baseline=40, goal=100, milestones=(JUNE_MILESTONE,))

    e = expected_progress(SPEC, t, D(40), D(100), MID_YEAR)

    assert e == D(40) / D(60) + (1 - D(40) / D(60)) * 2 / 184
    assert round(e, 4) == D("0.6703")


@pytest.mark.parametrize(("as_of", "expected"), [(START, D(0)), (date(2025, 1, 2), D(1))])
def test_expected_progress_deadline_on_the_start(as_of, expected):
    # Both ends of section 4 apply on the start itself; "E = 0 on or before the start" comes first.
    t = target(deadline=START)

    e = expected_progress(SPEC, t, D(0), D(100), as_of)

    assert e == expected


@pytest.mark.parametrize(
    "milestone_day",
    [
        date(2024, 12, 1),  # before the start
        START,  # on the start
        date(2025, 6, 30),  # on the target's deadline
        date(2025, 8, 1),  # after the target's deadline
        date(2026, 3, 1),  # after the competition too
    ],
)
@pytest.mark.parametrize("as_of", [date(2025, 1, 2), date(2025, 4, 1), date(2025, 6, 29)])
def test_expected_progress_ignores_milestones_on_or_outside_start_and_deadline(milestone_day, as_of):
    with_milestone = target(deadline=date(2025, 6, 30), milestones=(Milestone(milestone_day, D(95)),))
    plain = target(deadline=date(2025, 6, 30))

    e = expected_progress(SPEC, with_milestone, D(0), D(100), as_of)

    assert e == expected_progress(SPEC, plain, D(0), D(100), as_of)


@pytest.mark.parametrize(
    ("baseline", "goal", "expected"),
    [
        (40, 100, D(40) / D(60)),  # the target's own values
        (60, 100, D("0.5")),  # the commitment's own baseline
        (40, 120, D(40) / D(80)),  # the commitment's own target value
        (90, 100, D(0)),  # a milestone below the baseline counts as 0
        (0, 50, D(1)),  # a milestone beyond the target value counts as 1
    ],
)
def test_expected_progress_milestones_measured_with_the_commitments_values(baseline, goal, expected):
    t = target(baseline=40, goal=100, milestones=(JUNE_MILESTONE,))

    e = expected_progress(SPEC, t, D(baseline), D(goal), JUNE_MILESTONE.on)

    assert e == expected


@pytest.mark.parametrize(
    ("unit", "direction", "baseline", "goal", "milestone_value", "expected"),
    [
        ("days", "lower", 10, 5, 8, D("0.4")),
        ("days", "lower", 3, 5, 4, D(1)),  # T >= B: all or nothing
        ("percent", "higher", 100, 90, 80, D(0)),  # T <= B: all or nothing
        ("boolean", "higher", 0, 1, 1, D(1)),
        ("boolean", "higher", 0, 1, 0, D(0)),
    ],
)
def test_expected_progress_milestones_use_the_progress_formula(
    unit, direction, baseline, goal, milestone_value, expected
):
    t = target(
        unit=unit,
        direction=direction,
        baseline=baseline,
        goal=goal,
        milestones=(Milestone(JUNE_MILESTONE.on, D(milestone_value)),),
    )

    e = expected_progress(SPEC, t, D(baseline), D(goal), JUNE_MILESTONE.on)

    assert e == expected


# Section 5: status of a commitment target. E is exactly 0.5 at HALFWAY: 100 of the 200 days
# from the start to the target's deadline.

DEADLINE = date(2025, 7, 20)
HALFWAY = date(2025, 4, 11)


@pytest.mark.parametrize(
    ("value", "as_of", "margin", "expected"),
    [
        (None, HALFWAY, DEFAULT_MARGIN, "no_data"),
        (None, date(2025, 8, 1), DEFAULT_MARGIN, "no_data"),  # no data beats missed
        ("100", HALFWAY, DEFAULT_MARGIN, "achieved"),
        ("100", date(2025, 8, 1), DEFAULT_MARGIN, "achieved"),  # achieved beats missed
        ("99.99", date(2025, 7, 21), DEFAULT_MARGIN, "missed"),  # the day after the deadline
        ("0", date(2025, 7, 21), DEFAULT_MARGIN, "missed"),
        ("99.99", DEADLINE, DEFAULT_MARGIN, "missed"),  # on the deadline itself: missed
        ("0", DEADLINE, DEFAULT_MARGIN, "missed"),
        ("100", DEADLINE, DEFAULT_MARGIN, "achieved"),  # achieved on the deadline
        (None, DEADLINE, DEFAULT_MARGIN, "no_data"),
        ("99.5", date(2025, 7, 19), DEFAULT_MARGIN, "on_track"),  # the day before: E = 0.995
        ("99.49", date(2025, 7, 19), DEFAULT_MARGIN, "at_risk"),
        ("89.49", date(2025, 7, 19), DEFAULT_MARGIN, "off_track"),  # below E - margin = 0.895
        ("60", HALFWAY, DEFAULT_MARGIN, "on_track"),
        ("50", HALFWAY, DEFAULT_MARGIN, "on_track"),  # exactly at E
        ("49.99", HALFWAY, DEFAULT_MARGIN, "at_risk"),  # just below E
        ("40", HALFWAY, DEFAULT_MARGIN, "at_risk"),  # exactly at E - margin
        ("39.99", HALFWAY, DEFAULT_MARGIN, "off_track"),  # just below E - margin
        ("0", HALFWAY, DEFAULT_MARGIN, "off_track"),
        ("30", HALFWAY, D("0.20"), "at_risk"),  # the competition's own margin
        ("29.99", HALFWAY, D("0.20"), "off_track"),
        ("49.99", HALFWAY, D(0), "off_track"),  # no margin: below E is off track
        ("0", START, DEFAULT_MARGIN, "on_track"),  # E = 0 at the start
        ("0", date(2025, 1, 11), DEFAULT_MARGIN, "at_risk"),  # E = 0.05: E - margin < 0
    ],
)
def test_status_first_rule_that_matches(value, as_of, margin, expected):
    spec = replace(SPEC, at_risk_margin=margin)

    board = one_line_board(value, as_of=as_of, spec=spec, deadline=DEADLINE)

    assert board.agencies[0].lines[0].status == expected


def test_status_missed_on_the_competitions_end_when_it_is_the_deadline():
    # The competition's end is the default deadline: its final board misses what is not achieved.
    board = one_line_board("10", as_of=END)

    assert board.agencies[0].lines[0].status == "missed"


def test_status_the_day_before_the_end_is_not_missed_yet():
    board = one_line_board("10", as_of=END - timedelta(days=1))

    assert board.agencies[0].lines[0].status == "off_track"


# Section 6: points.


@pytest.mark.parametrize(
    ("scores", "method", "expected"),
    [
        ((), "mean", None),
        ((), "median", None),
        ((), "trimmed_mean", None),
        (("7",), "mean", D(7)),
        (("25", "20", "24"), "mean", D(23)),
        (("15", "17"), "mean", D(16)),
        (("1", "2"), "mean", D("1.5")),
        (("10", "0", "0"), "mean", D(10) / 3),
        (("4",), "median", D(4)),
        (("9", "1", "5"), "median", D(5)),  # odd count: the middle one
        (("9", "1", "7", "5"), "median", D(6)),  # even count: the mean of the middle two
        (("48", "50"), "median", D(49)),
        (("30", "10"), "trimmed_mean", D(20)),  # 2 scores: the mean
        (("3",), "trimmed_mean", D(3)),
        (("30", "0", "10"), "trimmed_mean", D(10)),  # 3 scores: drop 0 and 30
        (("100", "0", "20", "30", "10"), "trimmed_mean", D(20)),  # 5 scores: the mean of 10, 20, 30
        (("5", "5", "5", "10"), "trimmed_mean", D(5)),  # only one of the equal lowest is dropped
        (("1", "2", "4"), "trimmed_mean", D(2)),
    ],
)
def test_aggregate_by_method(scores, method, expected):
    result = aggregate(tuple(D(s) for s in scores), method)

    assert result == expected


def test_aggregate_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate((D(1),), "max")


def test_compute_board_unknown_aggregation_is_refused():
    with pytest.raises(ValueError, match="unknown aggregation"):
        one_line_board("50", spec=replace(SPEC, jury_aggregation="max"))


@pytest.mark.parametrize(
    ("method", "scores", "expected_jury"),
    [
        ("mean", ("9", "1", "5", "7"), D("5.5")),
        ("median", ("9", "1", "5", "7"), D(6)),
        ("trimmed_mean", ("9", "1", "5", "7"), D(6)),
        ("trimmed_mean", ("9", "1"), D(5)),
    ],
)
def test_jury_points_use_the_competitions_aggregation(method, scores, expected_jury):
    board = one_line_board("50", scores, spec=replace(SPEC, jury_aggregation=method), max_points=10)

    result = board.agencies[0].lines[0]
    assert (result.computed_points, result.jury_points, result.awarded_points) == (
        5,
        expected_jury,
        expected_jury,
    )
    assert result.provisional is False
    assert board.agencies[0].provisional is False


@pytest.mark.parametrize(
    ("value", "scores", "expected"),
    [
        ("50", ("8",), (D(5), D(8), D(8), False)),  # jury above the computed points
        ("50", ("2",), (D(5), D(2), D(2), False)),  # jury below them: still the jury's
        ("50", ("0",), (D(5), D(0), D(0), False)),  # a jury score of 0 is a score
        ("50", (), (D(5), None, D(5), True)),  # nobody scored: computed points, provisional
        ("25", (), (D("2.5"), None, D("2.5"), True)),
        (None, (), (D(0), None, D(0), True)),  # no data: 0, provisional
    ],
)
def test_awarded_points_from_jury_else_computed(value, scores, expected):
    board = one_line_board(value, scores, max_points=10)

    result = board.agencies[0].lines[0]
    assert (result.computed_points, result.jury_points, result.awarded_points, result.provisional) == expected
    assert board.agencies[0].provisional is expected[3]


def test_agency_provisional_when_any_line_lacks_jury_scores():
    targets = [target("T1", max_points=10), target("T2", max_points=10)]
    scored = agency("A", line("T1", "50", ("5",)), line("T2", "50", ("4",)))
    half = agency("B", line("T1", "50", ("5",)), line("T2", "50"))
    unreported = agency("C", line("T1", "50", ("5",)), line("T2"))

    board = compute_board(SPEC, targets, [scored, half, unreported], MID_YEAR)

    assert {a.code: a.provisional for a in board.agencies} == {"A": False, "B": True, "C": True}
    assert [line.provisional for line in board.agency("B").lines] == [False, True]


# One line scored by the jury (8), one whose jury points came aggregated by the database (9).
JURY_TARGETS = [target("T1", max_points=10), target("T2", max_points=10)]
JURY_SCORED = agency(
    "A",
    line("T1", "50", ("8",)),
    LineInput("T2", reading=Reading(value=D(30), reported_on=REPORTED, jury_points=D(9))),
)


@pytest.mark.parametrize(
    ("spec", "lines", "total", "provisional"),
    [
        # While judging is open the public board leaves the jury's points out...
        (OPEN, [(None, D(5), True), (None, D(3), True)], D(8), True),
        # ...once it is closed, it counts them.
        (SPEC, [(D(8), D(8), False), (D(9), D(9), False)], D(17), False),
    ],
)
def test_the_public_board_counts_the_jury_points_once_judging_is_closed(spec, lines, total, provisional):
    board = compute_board(spec, JURY_TARGETS, [JURY_SCORED], MID_YEAR)

    result = board.agencies[0]
    assert board.with_jury is spec.closed
    assert [(r.jury_points, r.awarded_points, r.provisional) for r in result.lines] == lines
    assert (result.total_points, result.provisional) == (total, provisional)


@pytest.mark.parametrize(("spec", "with_jury", "expected"), [(OPEN, True, D(8)), (SPEC, False, D(5))])
def test_a_board_may_be_asked_with_or_without_the_jury_points(spec, with_jury, expected):
    # A manager's look at the board with the jury's points while judging is open, and the reverse.
    board = compute_board(
        spec, [target(max_points=10)], [agency("A", line("T1", "50", ("8",)))], MID_YEAR, with_jury=with_jury
    )

    assert board.with_jury is with_jury
    assert board.agencies[0].lines[0].awarded_points == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2025, 1, 1), D(5)),  # undated (the start) only
        (date(2025, 6, 29), D(5)),
        (date(2025, 6, 30), D(3)),  # on its date the deduction counts
        (date(2025, 12, 1), D(13)),
        (date(2025, 12, 31), D(13)),
    ],
)
def test_adjustments_count_from_their_date(as_of, expected):
    dated = [(None, D(5)), (date(2025, 6, 30), D(-2)), (date(2025, 12, 1), D(10))]

    assert adjustments_total(dated, as_of) == expected


@settings(max_examples=200, deadline=None)
@given(
    adjustments=st.lists(
        st.tuples(
            st.one_of(st.none(), st.dates(START, END)),
            st.decimals(min_value=-50, max_value=50, places=2).filter(lambda d: d != 0),
        ),
        max_size=8,
    ),
    as_of=st.dates(START, END),
)
def test_adjustments_by_date_property(adjustments, as_of):
    total = adjustments_total(adjustments, as_of)
    later = adjustments_total(adjustments, END)

    # Exactly those dated on or before the board's date (undated: the start) count...
    assert total == sum((points for on, points in adjustments if (on or START) <= as_of), D(0))
    # ...and by the end of the competition every one does.
    assert later == sum((points for _on, points in adjustments), D(0))


# Section 7: agency results.


def test_agency_totals_and_percentages():
    targets = [target("T1", max_points=30), target("T2", max_points=20), target("T3", max_points=50)]
    lines = (line("T1", "50", ("12",)), line("T2", "100"), line("T3", "10", ("45",)))
    a = agency("A", *lines, adjustments="-1.5")

    result = compute_board(SPEC, targets, [a], MID_YEAR).agency("A")

    assert result.max_points == 100
    assert result.adjustments == D("-1.5")
    assert result.total_points == 12 + 20 + 45 - D("1.5")
    assert result.score_percent == D("75.5")
    # Progress ignores jury points and adjustments: 30 * 0.5 + 20 * 1 + 50 * 0.1.
    assert result.progress_percent == 40


@pytest.mark.parametrize(
    ("adjustments", "expected_total"),
    [
        ("-5", D(5)),
        ("-10", D(0)),
        ("-25", D(0)),  # below zero: clamped to 0
        ("3", D(13)),
    ],
)
def test_total_points_with_adjustments_never_below_zero(adjustments, expected_total):
    board = compute_board(
        SPEC, [target(max_points=20)], [agency("A", line("T1", "50"), adjustments=adjustments)], MID_YEAR
    )

    result = board.agencies[0]
    assert result.total_points == expected_total
    assert result.score_percent == expected_total * 5
    assert result.progress_percent == 50


def test_score_above_one_hundred_with_a_bonus():
    a = agency("A", line("T1", "100"), adjustments=2)

    board = compute_board(SPEC, [target(max_points=10)], [a], MID_YEAR)

    result = board.agencies[0]
    assert (result.total_points, result.score_percent, result.progress_percent) == (12, 120, 100)
    assert result.tier == "Excellent"


def test_agency_without_lines_scores_zero():
    agencies = [agency("E", adjustments=5), agency("F", line("T1", "1"))]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    empty = board.agency("E")
    assert (empty.max_points, empty.total_points, empty.score_percent, empty.progress_percent) == (0, 5, 0, 0)
    assert (empty.lines, empty.provisional, empty.rank, empty.tier) == ((), False, 2, "Below target")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # "1, 2, 2, 4": 86.004 and 86.001 both round to 86.00
        ({"C": "90", "A": "86.004", "B": "86.001", "D": "50"}, [("C", 1), ("A", 2), ("B", 2), ("D", 4)]),
        # ROUND_HALF_UP: 86.005 rounds to 86.01, 86.004 to 86.00
        ({"B": "86.005", "A": "86.004"}, [("B", 1), ("A", 2)]),
        ({"B": "86.0049", "A": "86.004"}, [("A", 1), ("B", 1)]),
        ({"A": "86.005", "B": "86.0100"}, [("A", 1), ("B", 1)]),
        # ties at the top, ties listed by code
        ({"D": "70", "C": "70", "B": "70", "A": "10"}, [("B", 1), ("C", 1), ("D", 1), ("A", 4)]),
        ({"A": "10", "B": "20", "C": "30"}, [("C", 1), ("B", 2), ("A", 3)]),
    ],
)
def test_rank_by_score_rounded_to_two_decimals(values, expected):
    # Arrange: one target 0 -> 100 worth 100 points, so the value is the score.
    agencies = [agency(code, line("T1", value)) for code, value in values.items()]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [(a.code, a.rank) for a in board.agencies] == expected


def test_rank_uses_score_percent_not_points():
    targets = [target("T1", max_points=10), target("T2", max_points=90)]
    small = agency("A", line("T1", "100"))  # 10 points of 10: 100 %
    large = agency("B", line("T1", "100"), line("T2", "50"))  # 55 points of 100: 55 %

    board = compute_board(SPEC, targets, [large, small], MID_YEAR)

    assert [(a.code, a.rank, a.score_percent) for a in board.agencies] == [("A", 1, 100), ("B", 2, 55)]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("120", "Excellent"),
        ("90", "Excellent"),  # exactly at the minimum
        ("89.999", "Good"),
        ("89.995", "Good"),  # shown as 90.00, but tiers use the full value
        ("75", "Good"),
        ("74.99", "Fair"),
        ("50", "Fair"),
        ("49.99", "Below target"),
        ("0", "Below target"),
    ],
)
def test_tier_for_default_tiers(score, expected):
    assert tier_for(D(score), ()) == expected
    assert tier_for(D(score), DEFAULT_TIERS) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("95", "Gold"),
        ("80", "Gold"),
        ("79.99", "Silver"),
        ("60", "Silver"),
        ("40", "Bronze"),
        ("39.99", ""),  # below every minimum: no label
    ],
)
def test_tier_for_custom_tiers_in_any_order(score, expected):
    tiers = (("Silver", D(60)), ("Bronze", D(40)), ("Gold", D(80)))

    assert tier_for(D(score), tiers) == expected


def test_tier_on_the_board_uses_the_competitions_tiers():
    spec = replace(SPEC, tiers=(("Pass", D(60)), ("Fail", D(0))))
    agencies = [
        agency("A", line("T1", "60")),
        agency("B", line("T1", "59.99")),
        agency("C", line("T1", "95")),
    ]

    board = compute_board(spec, [target()], agencies, MID_YEAR)

    assert {a.code: a.tier for a in board.agencies} == {"A": "Pass", "B": "Fail", "C": "Pass"}


def test_tier_on_the_board_defaults():
    values = zip("ABCD", ("90", "75", "50", "49"), strict=True)
    agencies = [agency(code, line("T1", value)) for code, value in values]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [a.tier for a in board.agencies] == ["Excellent", "Good", "Fair", "Below target"]


# Sections 3 and 4 on the board: the commitment's own values.


def test_line_uses_the_commitments_own_baseline_and_target():
    t = target(baseline=40, goal=100, max_points=10, milestones=(JUNE_MILESTONE,))
    own = agency("A", line("T1", "80", baseline=70, goal=90))
    default = agency("B", line("T1", "80"))
    repeated = agency("C", line("T1", "80", baseline=40, goal=100))

    board = compute_board(SPEC, [t], [own, default, repeated], JUNE_MILESTONE.on)

    a, b, c = (board.agency(code).lines[0] for code in "ABC")
    assert (a.baseline, a.target, a.progress, a.expected) == (70, 90, D("0.5"), D("0.5"))
    assert (b.baseline, b.target, b.progress, b.expected) == (40, 100, D(40) / D(60), D(40) / D(60))
    assert c == b


def test_boolean_line_runs_from_zero_to_one():
    t = target(unit="boolean", baseline=0, goal=1, max_points=10)

    board = compute_board(SPEC, [t], [agency("A", line("T1", "1", baseline=1, goal=1))], MID_YEAR)

    result = board.agencies[0].lines[0]
    assert (result.baseline, result.target, result.progress, result.status) == (0, 1, 1, "achieved")


def test_lines_sorted_by_target_code():
    targets = [target("T3"), target("T1"), target("T2")]

    a = agency("A", line("T2", "1"), line("T3"), line("T1", "2"))

    board = compute_board(SPEC, targets, [a], MID_YEAR)

    assert [result.target_code for result in board.agencies[0].lines] == ["T1", "T2", "T3"]
    assert [result.value for result in board.agencies[0].lines] == [2, 1, None]
    assert [result.reported_on for result in board.agencies[0].lines] == [REPORTED, REPORTED, None]


def test_line_for_an_unknown_target_is_an_error():
    with pytest.raises(KeyError):
        compute_board(SPEC, [target("T1")], [agency("A", line("T9", "1"))], MID_YEAR)


# Section 8: target summaries and groups.


def test_target_summaries_count_and_average():
    targets = [target("T2", max_points=10, deadline=date(2025, 3, 31)), target("T1", max_points=10)]
    agencies = [
        agency("A", line("T1", "100"), line("T2", "100")),
        agency("B", line("T1", "50"), line("T2", "50")),
        agency("C", line("T1", "0")),
        agency("D", line("T1")),
    ]

    board = compute_board(SPEC, targets, agencies, MID_YEAR)

    t1, t2 = board.targets
    assert (t1.code, t1.title, t1.unit, t1.direction, t1.deadline, t1.max_points) == (
        "T1",
        "Title T1",
        "percent",
        "higher",
        END,
        10,
    )
    assert (t1.committed, t1.reporting, t1.achieved) == (4, 3, 1)
    assert t1.mean_progress == D("0.375")  # (1 + 0.5 + 0 + 0) / 4: no data counts as 0
    assert t1.status_counts == {
        "no_data": 1,
        "achieved": 1,
        "missed": 0,
        "on_track": 1,
        "at_risk": 0,
        "off_track": 1,
    }
    assert list(t1.status_counts) == list(STATUSES)
    assert (t2.code, t2.deadline, t2.committed, t2.reporting, t2.achieved) == (
        "T2",
        date(2025, 3, 31),
        2,
        2,
        1,
    )
    assert t2.mean_progress == D("0.75")
    assert t2.status_counts == dict.fromkeys(STATUSES, 0) | {"achieved": 1, "missed": 1}


def test_target_summary_without_commitments():
    board = compute_board(SPEC, [target("T1"), target("T2")], [agency("A", line("T1", "50"))], MID_YEAR)

    summary = board.targets[1]
    assert (summary.code, summary.committed, summary.reporting, summary.achieved) == ("T2", 0, 0, 0)
    assert summary.mean_progress == 0
    assert summary.status_counts == dict.fromkeys(STATUSES, 0)
    assert list(summary.status_counts) == list(STATUSES)


def test_groups_by_parent_with_means_of_children():
    targets = [target(max_points=10)]
    agencies = [
        agency("A", line("T1", "100"), parent="Z", parent_name="Ministry Z"),
        agency("B", line("T1", "50", ("2",)), parent="M", parent_name="Ministry M"),
        agency("C", line("T1", "20", ("8",)), parent="M", parent_name="Ministry M"),
        agency("D", line("T1", "90")),  # no parent: no group
        agency("M", line("T1", "10")),  # a parent taking part itself is not its own child
    ]

    board = compute_board(SPEC, targets, agencies, MID_YEAR)

    assert [(g.code, g.name, g.agencies) for g in board.groups] == [
        ("M", "Ministry M", 2),
        ("Z", "Ministry Z", 1),
    ]
    ministry_m, ministry_z = board.groups
    assert (ministry_m.mean_score_percent, ministry_m.mean_progress_percent) == (50, 35)
    assert (ministry_z.mean_score_percent, ministry_z.mean_progress_percent) == (100, 100)


def test_groups_count_children_without_lines_and_name_falls_back_to_code():
    agencies = [agency("A", line("T1", "60"), parent="P"), agency("B", parent="P")]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    (group,) = board.groups
    assert (group.code, group.name, group.agencies, group.mean_score_percent) == ("P", "P", 2, 30)


def test_no_groups_without_parents():
    board = compute_board(SPEC, [target()], [agency("A", line("T1", "60"))], MID_YEAR)

    assert board.groups == ()


def test_group_rank_among_the_agencies_of_the_same_parent():
    agencies = [
        agency("A", line("T1", "90"), parent="P"),
        agency("B", line("T1", "80"), parent="Q"),
        agency("C", line("T1", "70"), parent="P"),
        agency("D", line("T1", "70"), parent="P"),  # ties C in P: shares its group rank
        agency("E", line("T1", "60"), parent="P"),  # after the tie the group rank skips
        agency("F", line("T1", "95")),  # no parent: no group rank
    ]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [(a.code, a.rank, a.group_rank) for a in board.agencies] == [
        ("F", 1, None),
        ("A", 2, 1),
        ("B", 3, 1),
        ("C", 4, 2),
        ("D", 4, 2),
        ("E", 6, 4),
    ]


@settings(max_examples=150, deadline=None)
@given(
    members=st.lists(
        st.tuples(st.sampled_from([None, "P", "Q", "R"]), st.integers(min_value=0, max_value=20)),
        min_size=1,
        max_size=25,
    )
)
def test_group_ranks_follow_the_overall_ranks(members):
    # Values on a coarse grid, so that ties happen often.
    agencies = [
        agency(f"A{index:02d}", line("T1", str(value * 5)), parent=parent)
        for index, (parent, value) in enumerate(members)
    ]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    for result in board.agencies:
        if result.parent_code is None:
            assert result.group_rank is None
            continue
        cluster = [other for other in board.agencies if other.parent_code == result.parent_code]
        # The rule of section 7 within the cluster: 1 + the members with a better overall rank
        # (equal rounded scores share an overall rank, so they share the group rank too).
        assert result.group_rank == 1 + sum(1 for other in cluster if other.rank < result.rank)
        assert result.group_rank <= result.rank


# The board as a whole.


def test_board_lookup_order_and_pickling():
    agencies = [agency("B", line("T1", "50")), agency("A", line("T1", "70")), agency("C", line("T1", "50"))]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)
    copy = pickle.loads(pickle.dumps(board, pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own bytes)

    assert (board.competition, board.as_of) == (SPEC, MID_YEAR)
    assert [a.code for a in board.agencies] == ["A", "B", "C"]
    assert board.agency("C") is board.agencies[2]
    assert board.agency("X") is None
    assert copy == board
    assert copy.agency("B") == board.agency("B")


def test_compute_board_uses_the_date_as_given():
    # The caller clamps; a date past the end is taken as it is (so a target can be missed).
    board = one_line_board("10", as_of=date(2026, 1, 1))

    assert board.as_of == date(2026, 1, 1)
    assert board.agencies[0].lines[0].status == "missed"


@settings(max_examples=200, deadline=None)
@given(
    deadline=st.dates(date(2025, 2, 1), END),
    as_of=st.dates(START, END),
    value=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)),
)
def test_statuses_at_and_after_the_deadline_property(deadline, as_of, value):
    board = one_line_board(None if value is None else str(value), as_of=as_of, deadline=deadline)

    status = board.agencies[0].lines[0].status
    if as_of >= deadline:
        # The deadline has come: no data, achieved or missed, nothing in between.
        assert status in ("no_data", "achieved", "missed")
        assert (status == "missed") is (value is not None and value < 100)
    else:
        assert status != "missed"


def test_compute_board_empty():
    board = compute_board(SPEC, [], [], MID_YEAR)

    assert (board.agencies, board.targets, board.groups) == ((), (), ())


# The worked example of docs/scoring.md, to the figure: judging closed, then open.

WORKED_TARGETS = [
    target("T3", "percent", "higher", 80, 95, 50),
    target("T1", "percent", "higher", 40, 100, 30, milestones=(JUNE_MILESTONE,)),
    target("T2", "days", "lower", 10, 5, 20),
]
WORKED_AGENCIES = [
    agency("B", line("T1", "70", ("15", "17")), line("T2", "9"), line("T3"), adjustments=-3),
    agency(
        "A",
        line("T3", "96", ("48", "50")),
        line("T2", "7"),
        line("T1", "85", ("25", "20", "24")),
        adjustments=2,
    ),
]


@pytest.fixture
def worked_board():
    return compute_board(SPEC, WORKED_TARGETS, WORKED_AGENCIES, MID_YEAR)


@pytest.mark.parametrize(
    ("agency_code", "target_code", "value", "p", "status", "cp", "jp", "ap", "provisional"),
    [
        ("A", "T1", D(85), D("0.75"), "on_track", D("22.5"), D(23), D(23), False),
        ("A", "T2", D(7), D("0.6"), "on_track", D(12), None, D(12), True),
        ("A", "T3", D(96), D(1), "achieved", D(50), D(49), D(49), False),
        ("B", "T1", D(70), D("0.5"), "off_track", D(15), D(16), D(16), False),
        ("B", "T2", D(9), D("0.2"), "off_track", D(4), None, D(4), True),
        ("B", "T3", None, D(0), "no_data", D(0), None, D(0), True),
    ],
)
def test_worked_example_lines(
    worked_board,
    agency_code,
    target_code,
    value,
    p,
    status,
    cp,
    jp,
    ap,
    provisional,
):
    (result,) = [r for r in worked_board.agency(agency_code).lines if r.target_code == target_code]

    assert (result.value, result.progress, result.status) == (value, p, status)
    assert (result.computed_points, result.jury_points, result.awarded_points) == (cp, jp, ap)
    assert result.provisional is provisional


@pytest.mark.parametrize(
    ("target_code", "expected", "at_risk_floor"),
    [("T1", "0.6703", "0.5703"), ("T2", "0.5000", "0.4000"), ("T3", "0.5000", "0.4000")],
)
def test_worked_example_expected_progress(worked_board, target_code, expected, at_risk_floor):
    values = {r.expected for a in worked_board.agencies for r in a.lines if r.target_code == target_code}

    (value,) = values  # A and B share the target's own values, so the same E
    assert round(value, 4) == D(expected)
    assert round(value - SPEC.at_risk_margin, 4) == D(at_risk_floor)
    assert (value == D("0.5")) is (target_code != "T1")  # T2 and T3: exactly 182 / 364


def test_worked_example_agencies(worked_board):
    a, b = worked_board.agencies

    assert (a.code, a.rank, a.tier, a.provisional) == ("A", 1, "Good", True)
    assert (a.max_points, a.adjustments, a.total_points) == (100, 2, 86)
    assert (round(a.score_percent, 2), round(a.progress_percent, 2)) == (D("86.00"), D("84.50"))
    assert (b.code, b.rank, b.tier, b.provisional) == ("B", 2, "Below target", True)
    assert (b.max_points, b.adjustments, b.total_points) == (100, -3, 17)
    assert (round(b.score_percent, 2), round(b.progress_percent, 2)) == (D("17.00"), D("19.00"))
    assert [r.target_code for r in a.lines] == ["T1", "T2", "T3"]


def test_worked_example_while_judging_is_open():
    board = compute_board(OPEN, WORKED_TARGETS, WORKED_AGENCIES, MID_YEAR)
    a, b = board.agencies

    assert (a.code, a.rank, a.tier, a.provisional, a.total_points) == ("A", 1, "Good", True, D("86.5"))
    assert (round(a.score_percent, 2), round(a.progress_percent, 2)) == (D("86.50"), D("84.50"))
    assert (b.code, b.rank, b.tier, b.provisional, b.total_points) == ("B", 2, "Below target", True, D(16))
    assert (round(b.score_percent, 2), round(b.progress_percent, 2)) == (D("16.00"), D("19.00"))
    for result in (*a.lines, *b.lines):
        assert (result.jury_points, result.awarded_points) == (None, result.computed_points)


def test_worked_example_targets(worked_board):
    t1, t2, t3 = worked_board.targets

    assert [(t.code, t.committed, t.reporting, t.achieved) for t in (t1, t2, t3)] == [
        ("T1", 2, 2, 0),
        ("T2", 2, 2, 0),
        ("T3", 2, 1, 1),
    ]
    assert (t1.mean_progress, t2.mean_progress, t3.mean_progress) == (D("0.625"), D("0.4"), D("0.5"))
    assert t1.status_counts == dict.fromkeys(STATUSES, 0) | {"on_track": 1, "off_track": 1}
    assert t3.status_counts == dict.fromkeys(STATUSES, 0) | {"achieved": 1, "no_data": 1}
    assert worked_board.groups == ()


@pytest.mark.parametrize("method", ["mean", "trimmed_mean"])
@pytest.mark.parametrize(
    "scores", [(), ("7",), ("7", "8.5"), ("1", "2", "3"), ("9.1234", "0", "10", "3.3333"), ("2", "2", "2", "2", "9")]
)
def test_aggregate_totals_matches_aggregate(method, scores):
    points = [D(score) for score in scores]
    total = sum(points, D(0)) if points else None
    lowest, highest = (min(points), max(points)) if points else (None, None)
    result = aggregate_totals(method, len(points), total, lowest, highest)
    expected = aggregate(points, method)
    assert result == expected
    assert str(result) == str(expected)


def test_aggregate_totals_refuses_the_median():
    with pytest.raises(ValueError, match="needs the scores"):
        aggregate_totals("median", 3, D(6), D(1), D(3))


def test_a_board_kept_as_plain_data_comes_back_equal_to_the_last_digit(worked_board):
    import json

    from competition.scoring import board_from_data, board_to_data

    agencies = [*WORKED_AGENCIES, agency("C", line("T1", "33.3333", ("10.1234",)), parent="P", adjustments="0.5")]
    board = compute_board(SPEC, WORKED_TARGETS, agencies, MID_YEAR)

    kept = json.loads(json.dumps(board_to_data(board)))
    restored = board_from_data(kept)

    assert restored == board
    assert repr(restored) == repr(board)  # Decimal exponents too
    assert board_from_data(board_to_data(worked_board)) == worked_board


def test_a_board_kept_as_plain_data_keeps_the_competitions_own_settings():
    """Settings other than the defaults (a margin, tiers, an aggregation of the competition's
    own) come back as they were: a board that lost them would look equal with the defaults."""
    import json

    from competition.scoring import board_from_data, board_to_data

    spec = replace(
        SPEC,
        at_risk_margin=D("7.5"),
        jury_aggregation="median",
        tiers=(("Top", D("95")), ("Middle", D("60.5")), ("Rest", D("0"))),
    )
    board = compute_board(spec, WORKED_TARGETS, WORKED_AGENCIES, MID_YEAR)

    restored = board_from_data(json.loads(json.dumps(board_to_data(board))))

    assert restored.competition == spec
    assert restored == board


def test_board_data_of_an_unknown_version_is_refused(worked_board):
    from competition.scoring import board_from_data, board_to_data

    data = board_to_data(worked_board) | {"version": 99}

    with pytest.raises(ValueError, match="unknown board data version 99"):
        board_from_data(data)


def test_only_plain_values_are_kept_as_board_data():
    from competition.scoring import _plain

    assert [_plain(value) for value in (None, True, 3, "x", {"met": 1})] == [None, True, 3, "x", {"met": 1}]
    with pytest.raises(TypeError, match="cannot keep 1.5 as plain data"):
        _plain(1.5)
