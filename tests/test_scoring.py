"""SCORING.md rule by rule, on plain data (no database)."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from competition import scoring
from competition.scoring import (
    AgencyInput,
    Candidate,
    CompetitionSpec,
    LineInput,
    Milestone,
    Reading,
    TargetSpec,
)

START, END = date(2025, 1, 1), date(2025, 12, 31)
SPEC = CompetitionSpec(slug="c", title="C", start=START, end=END)


def target(code="T1", unit="percent", direction="higher", baseline=40, goal=100, max_points=30, **kw):
    return TargetSpec(
        code=code,
        title=code,
        unit=unit,
        direction=direction,
        baseline=D(baseline),
        target=D(goal),
        max_points=D(max_points),
        **kw,
    )


def reading(value, scores=(), day=date(2025, 6, 30)):
    return Reading(value=D(value), reported_on=day, jury_scores=tuple(D(s) for s in scores))


# Section 1: the evaluation date.
@pytest.mark.parametrize(
    ("as_of", "today", "expected"),
    [
        (None, date(2025, 5, 5), date(2025, 5, 5)),
        (None, date(2024, 5, 5), START),
        (None, date(2026, 5, 5), END),
        (date(2025, 2, 1), date(2026, 5, 5), date(2025, 2, 1)),
        (date(2030, 2, 1), None, END),
        (date(2020, 2, 1), None, START),
    ],
)
def test_clamp_as_of_into_the_period(as_of, today, expected):
    assert scoring.clamp_as_of(SPEC, as_of, today) == expected


# Section 2: the choice of value.
def test_choose_reading_latest_accepted_on_or_before_the_date():
    t0 = datetime(2025, 7, 1, 9)
    candidates = [
        Candidate(1, "accepted", date(2025, 3, 31), t0, D(10)),
        Candidate(2, "accepted", date(2025, 6, 30), t0, D(20)),
        Candidate(3, "accepted", date(2025, 6, 30), t0 + timedelta(hours=1), D(30)),
        Candidate(4, "submitted", date(2025, 6, 30), None, D(40)),
        Candidate(5, "returned", date(2025, 6, 30), None, D(41)),
        Candidate(6, "rejected", date(2025, 6, 30), t0 + timedelta(days=1), D(42)),
        Candidate(7, "draft", date(2025, 6, 30), None, D(43)),
        Candidate(8, "accepted", date(2025, 9, 30), t0, D(50)),
    ]

    assert scoring.choose_reading(candidates, date(2025, 7, 2)).pk == 3
    assert scoring.choose_reading(candidates, date(2025, 4, 1)).pk == 1
    assert scoring.choose_reading(candidates, date(2025, 3, 30)) is None
    assert scoring.choose_reading(candidates, date(2025, 9, 30)).pk == 8


def test_choose_reading_equal_acceptance_uses_the_higher_key():
    t0 = datetime(2025, 7, 1, 9)
    candidates = [
        Candidate(9, "accepted", date(2025, 6, 30), t0, D(1)),
        Candidate(4, "accepted", date(2025, 6, 30), t0, D(2)),
    ]

    assert scoring.choose_reading(candidates, date(2025, 7, 1)).pk == 9


# Section 3: progress.
@pytest.mark.parametrize(
    ("value", "baseline", "goal", "unit", "direction", "expected"),
    [
        (85, 40, 100, "percent", "higher", D("0.75")),
        (30, 40, 100, "percent", "higher", D(0)),  # clamped below
        (100, 40, 100, "percent", "higher", D(1)),
        (7, 10, 5, "days", "lower", D("0.6")),
        (12, 10, 5, "days", "lower", D(0)),
        (3, 10, 5, "days", "lower", D(1)),  # clamped above
        (50, 100, 1000, "number", "higher", D(0)),
        (550, 100, 1000, "number", "higher", D("0.5")),
        (95, 100, 90, "percent", "higher", D(1)),  # T <= B, V >= T
        (85, 100, 90, "percent", "higher", D(0)),  # T <= B, V < T
        (90, 90, 90, "percent", "higher", D(1)),  # T == B
        (4, 3, 5, "days", "lower", D(1)),  # lower with T >= B, V <= T
        (6, 3, 5, "days", "lower", D(0)),
        (1, 0, 1, "boolean", "higher", D(1)),
        (0, 0, 1, "boolean", "higher", D(0)),
        (1, 1, 1, "boolean", "lower", D(1)),  # a boolean is always 0 -> 1, higher
        (None, 40, 100, "percent", "higher", D(0)),
    ],
)
def test_progress_by_unit_and_direction(value, baseline, goal, unit, direction, expected):
    value = None if value is None else D(value)

    assert scoring.progress(value, D(baseline), D(goal), unit, direction) == expected


# Section 4: expected progress.
def test_expected_progress_without_milestones_is_linear_in_days():
    t = target()

    assert scoring.expected_progress(SPEC, t, D(40), D(100), date(2025, 7, 2)) == D(182) / D(364)
    assert scoring.expected_progress(SPEC, t, D(40), D(100), START) == 0
    assert scoring.expected_progress(SPEC, t, D(40), D(100), END) == 1


def test_expected_progress_through_milestones_in_date_order():
    t = target(milestones=(Milestone(date(2025, 9, 30), D(90)), Milestone(date(2025, 6, 30), D(80))))
    f1 = D(40) / D(60)

    assert scoring.expected_progress(SPEC, t, D(40), D(100), date(2025, 6, 30)) == f1
    mid = scoring.expected_progress(SPEC, t, D(40), D(100), date(2025, 7, 2))
    assert round(mid, 4) == round(f1 + (D(50) / D(60) - f1) * 2 / 92, 4)
    assert scoring.expected_progress(SPEC, t, D(40), D(100), date(2025, 9, 30)) == D(50) / D(60)


@pytest.mark.parametrize("milestone_day", [START, date(2024, 12, 1), date(2025, 6, 30), date(2025, 8, 1)])
def test_milestones_on_or_outside_start_and_deadline_are_ignored(milestone_day):
    t = target(deadline=date(2025, 6, 30), milestones=(Milestone(milestone_day, D(95)),))
    plain = target(deadline=date(2025, 6, 30))
    day = date(2025, 4, 1)

    assert scoring.expected_progress(SPEC, t, D(40), D(100), day) == scoring.expected_progress(
        SPEC, plain, D(40), D(100), day
    )


def test_expected_progress_uses_the_commitments_own_baseline():
    t = target(milestones=(Milestone(date(2025, 6, 30), D(80)),))

    assert scoring.expected_progress(SPEC, t, D(60), D(100), date(2025, 6, 30)) == D("0.5")


def test_expected_progress_after_target_deadline_is_one():
    t = target(deadline=date(2025, 6, 30))

    assert scoring.expected_progress(SPEC, t, D(40), D(100), date(2025, 7, 1)) == 1


# Section 5: statuses.
@pytest.mark.parametrize(
    ("value", "p", "e", "as_of", "expected"),
    [
        (None, D(1), D(0), date(2025, 6, 1), "no_data"),
        (D(1), D(1), D(1), date(2026, 6, 1), "achieved"),  # achieved beats missed
        (D(1), D("0.99"), D(1), date(2026, 1, 1), "missed"),
        (D(1), D("0.99"), D(1), END, "at_risk"),  # on the deadline itself, not missed yet
        (D(1), D("0.5"), D("0.5"), date(2025, 6, 1), "on_track"),  # exactly at E
        (D(1), D("0.4"), D("0.5"), date(2025, 6, 1), "at_risk"),  # exactly at E - margin
        (D(1), D("0.3999"), D("0.5"), date(2025, 6, 1), "off_track"),
    ],
)
def test_status_first_rule_that_matches(value, p, e, as_of, expected):
    assert scoring.status_of(value, p, e, as_of, END, D("0.10")) == expected


# Section 6: aggregation.
@pytest.mark.parametrize(
    ("scores", "method", "expected"),
    [
        ((), "mean", None),
        ((25, 20, 24), "mean", D(23)),
        ((15, 17), "mean", D(16)),
        ((1, 9, 5), "median", D(5)),
        ((1, 9, 5, 7), "median", D(6)),
        ((4,), "median", D(4)),
        ((10, 20), "trimmed_mean", D(15)),  # fewer than 3: the mean
        ((0, 10, 30), "trimmed_mean", D(10)),
        ((0, 10, 20, 30, 100), "trimmed_mean", D(20)),
    ],
)
def test_aggregate_methods(scores, method, expected):
    assert scoring.aggregate(tuple(D(s) for s in scores), method) == expected


def test_aggregate_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="unknown aggregation"):
        scoring.aggregate((D(1),), "max")


# Section 7: tiers and ranks.
@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (D(90), "Excellent"),
        (D("89.999"), "Good"),
        (D(75), "Good"),
        (D(50), "Fair"),
        (D(0), "Below target"),
        (D(120), "Excellent"),
    ],
)
def test_default_tiers(score, expected):
    assert scoring.tier_for(score, ()) == expected


def test_custom_tiers_take_the_highest_minimum_reached():
    tiers = (("Gold", D(80)), ("Silver", D(60)), ("Bronze", D(40)))

    assert scoring.tier_for(D(70), tiers) == "Silver"
    assert scoring.tier_for(D(10), tiers) == ""


def one_line_agency(code, value, max_points=100, adjustments=0, parent=None, scores=()):
    return AgencyInput(
        code=code,
        name=code,
        parent_code=parent,
        parent_name=f"Parent {parent}" if parent else None,
        lines=(LineInput("T1", reading=reading(value, scores)),),
        adjustments=D(adjustments),
    )


def test_ranks_tie_on_two_decimals_and_skip():
    t = target(baseline=0, goal=100, max_points=100)
    agencies = [
        one_line_agency("A", "86.004"),
        one_line_agency("B", "86.001"),
        one_line_agency("C", "90"),
        one_line_agency("D", "50"),
    ]

    board = scoring.compute_board(SPEC, [t], agencies, date(2025, 7, 2))

    assert [(a.code, a.rank) for a in board.agencies] == [("C", 1), ("A", 2), ("B", 2), ("D", 4)]


def test_rank_rounds_half_up_at_the_second_decimal():
    t = target(baseline=0, goal=100, max_points=100)

    board = scoring.compute_board(
        SPEC, [t], [one_line_agency("A", "86.005"), one_line_agency("B", "86.004")], date(2025, 7, 2)
    )

    assert [(a.code, a.rank) for a in board.agencies] == [("A", 1), ("B", 2)]


def test_adjustments_cannot_push_the_total_below_zero():
    t = target(baseline=0, goal=100, max_points=10)

    board = scoring.compute_board(SPEC, [t], [one_line_agency("A", 10, adjustments=-5)], date(2025, 7, 2))

    assert board.agencies[0].total_points == 0
    assert board.agencies[0].score_percent == 0


def test_bonus_may_lift_the_score_above_one_hundred():
    t = target(baseline=0, goal=100, max_points=10)

    board = scoring.compute_board(SPEC, [t], [one_line_agency("A", 100, adjustments=2)], date(2025, 7, 2))

    assert board.agencies[0].score_percent == 120
    assert board.agencies[0].tier == "Excellent"


def test_jury_points_replace_computed_points_and_clear_provisional():
    t = target(baseline=0, goal=100, max_points=10)

    board = scoring.compute_board(SPEC, [t], [one_line_agency("A", 50, scores=(9, 7))], date(2025, 7, 2))

    line = board.agencies[0].lines[0]
    assert (line.computed_points, line.jury_points, line.awarded_points, line.provisional) == (5, 8, 8, False)
    assert board.agencies[0].provisional is False


def test_agency_with_no_lines_scores_zero():
    board = scoring.compute_board(SPEC, [target()], [AgencyInput(code="E", name="Empty")], date(2025, 7, 2))

    assert (board.agencies[0].score_percent, board.agencies[0].max_points) == (0, 0)


# Section 8: summaries and groups.
def test_target_summaries_and_groups():
    t = target(baseline=0, goal=100, max_points=10)
    agencies = [
        one_line_agency("A", 100, parent="P"),
        one_line_agency("B", 50, parent="P"),
        one_line_agency("C", 20, parent="Q"),
        AgencyInput(code="D", name="D", lines=(LineInput("T1"),)),
    ]

    board = scoring.compute_board(SPEC, [t], agencies, date(2025, 7, 2))

    summary = board.targets[0]
    assert (summary.committed, summary.reporting, summary.achieved) == (4, 3, 1)
    assert summary.mean_progress == D("0.425")
    assert list(summary.status_counts) == list(scoring.STATUSES)
    assert summary.status_counts["no_data"] == 1 and summary.status_counts["missed"] == 0
    assert [(g.code, g.name, g.agencies) for g in board.groups] == [("P", "Parent P", 2), ("Q", "Parent Q", 1)]
    assert board.groups[0].mean_score_percent == 75
    assert board.groups[0].mean_progress_percent == 75


def test_commitment_own_baseline_and_target():
    t = target(baseline=40, goal=100, max_points=10)
    agency = AgencyInput(
        code="A", name="A", lines=(LineInput("T1", baseline=D(70), target=D(90), reading=reading(80)),)
    )

    line = scoring.compute_board(SPEC, [t], [agency], date(2025, 7, 2)).agencies[0].lines[0]

    assert (line.baseline, line.target, line.progress) == (70, 90, D("0.5"))


# The worked example of SCORING.md, to the figure.
def test_worked_example_to_the_figure():
    targets = [
        target("T1", "percent", "higher", 40, 100, 30, milestones=(Milestone(date(2025, 6, 30), D(80)),)),
        target("T2", "days", "lower", 10, 5, 20),
        target("T3", "percent", "higher", 80, 95, 50),
    ]
    a = AgencyInput(
        code="A",
        name="A",
        lines=(
            LineInput("T1", reading=reading(85, (25, 20, 24))),
            LineInput("T2", reading=reading(7)),
            LineInput("T3", reading=reading(96, (48, 50))),
        ),
        adjustments=D(2),
    )
    b = AgencyInput(
        code="B",
        name="B",
        lines=(LineInput("T1", reading=reading(70, (15, 17))), LineInput("T2", reading=reading(9)), LineInput("T3")),
        adjustments=D(-3),
    )

    board = scoring.compute_board(SPEC, targets, [b, a], date(2025, 7, 2))

    ra, rb = board.agencies
    assert (ra.code, ra.rank, ra.tier, ra.provisional) == ("A", 1, "Good", True)
    assert (ra.total_points, ra.score_percent, ra.progress_percent) == (86, 86, D("84.5"))
    assert (rb.code, rb.rank, rb.tier, rb.provisional) == ("B", 2, "Below target", True)
    assert (rb.total_points, rb.score_percent, rb.progress_percent) == (17, 17, 19)
    expected = {
        ("A", "T1"): ("on_track", D("0.75"), "0.6703", D("22.5"), D(23), D(23)),
        ("A", "T2"): ("on_track", D("0.6"), "0.5000", D(12), None, D(12)),
        ("A", "T3"): ("achieved", D(1), "0.5000", D(50), D(49), D(49)),
        ("B", "T1"): ("off_track", D("0.5"), "0.6703", D(15), D(16), D(16)),
        ("B", "T2"): ("off_track", D("0.2"), "0.5000", D(4), None, D(4)),
        ("B", "T3"): ("no_data", D(0), "0.5000", D(0), None, D(0)),
    }
    for agency in board.agencies:
        for line in agency.lines:
            status, p, e, cp, jp, ap = expected[(agency.code, line.target_code)]
            assert line.status == status
            assert line.progress == p
            assert str(round(line.expected, 4)) == e
            assert (line.computed_points, line.jury_points, line.awarded_points) == (cp, jp, ap)
