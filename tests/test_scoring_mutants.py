"""Tests that kill the mutants of competition/scoring.py that survived tests/test_scoring.py
(`make mutation`, docs/testing.md): each one pins a rule of docs/scoring.md that a one-character
change to the code would break without any other test noticing. Plain data, no database."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from competition.scoring import (
    AgencyInput,
    LineInput,
    Milestone,
    Reading,
    aggregate,
    aggregate_totals,
    compute_board,
    expected_progress,
)
from tests.test_scoring import MID_YEAR, REPORTED, SPEC, agency, line, target


def test_a_trimmed_mean_of_three_asymmetric_scores_drops_the_lowest_and_the_highest():
    """Three scores are enough to trim (the only other three-score test was symmetric, where
    the trimmed mean and the mean agree)."""
    scores = [D(1), D(2), D(9)]

    assert aggregate(scores, "trimmed_mean") == D(2)
    assert aggregate_totals("trimmed_mean", 3, sum(scores), D(1), D(9)) == D(2)
    assert aggregate_totals("mean", 3, sum(scores), D(1), D(9)) == D(4)
    # Two scores are averaged.
    assert aggregate_totals("trimmed_mean", 2, D(10), D(1), D(9)) == D(5)


def test_aggregate_totals_without_scores_is_none_and_median_needs_the_scores():
    assert aggregate_totals("mean", 0, None) is None
    with pytest.raises(ValueError, match="needs the scores themselves"):
        aggregate_totals("median", 3, D(6), D(1), D(3))


@pytest.mark.parametrize("scores", [[], [D(1)]])
def test_an_unknown_aggregation_method_is_refused_even_without_scores(scores):
    with pytest.raises(ValueError, match="unknown aggregation method 'bogus'"):
        aggregate(scores, "bogus")


def test_jury_points_worked_out_beforehand_are_the_awarded_points():
    """A reading may carry its JP already aggregated by the database (PostgreSQL's loader does):
    it is used as it is, and the line is not provisional."""
    reading = Reading(value=D(50), reported_on=REPORTED, jury_points=D(7))
    board = compute_board(
        SPEC,
        [target(max_points=10)],
        [AgencyInput(code="A", name="A", lines=(LineInput("T1", reading=reading),))],
        MID_YEAR,
    )

    (result,) = board.agency("A").lines
    assert (result.computed_points, result.jury_points, result.awarded_points) == (D(5), D(7), D(7))
    assert result.provisional is False


def test_scores_win_over_jury_points_given_alongside():
    reading = Reading(value=D(50), reported_on=REPORTED, jury_scores=(D(2), D(4)), jury_points=D(9))
    board = compute_board(
        SPEC,
        [target(max_points=10)],
        [AgencyInput(code="A", name="A", lines=(LineInput("T1", reading=reading),))],
        MID_YEAR,
    )

    assert board.agency("A").lines[0].awarded_points == D(3)


def test_tied_agencies_are_listed_by_code_not_by_name():
    agencies = [
        AgencyInput(code="B", name="Alpha", lines=(line("T1", "50"),)),
        AgencyInput(code="A", name="Zulu", lines=(line("T1", "50"),)),
    ]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [(result.code, result.rank) for result in board.agencies] == [("A", 1), ("B", 1)]


def test_the_tier_comes_from_the_full_score_not_the_rounded_one():
    """89.996 % is ranked as 90.00 but has not reached the 90 % tier."""
    tiers = (("Excellent", D(90)), ("Good", D(75)))
    board = compute_board(
        replace(SPEC, tiers=tiers), [target(max_points=100000)], [agency("A", line("T1", "89.996"))], MID_YEAR
    )

    (result,) = board.agencies
    assert result.score_percent == D("89.996")
    assert result.tier == "Good"


def test_a_group_is_named_after_the_first_name_given_for_its_parent():
    agencies = [
        agency("C", line("T1", "40"), parent="P", parent_name="First name"),
        agency("A", line("T1", "60"), parent="P", parent_name="Second name"),
        agency("B", line("T1", "80"), parent="Q"),
    ]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [(group.code, group.name, group.agencies) for group in board.groups] == [
        ("P", "First name", 2),
        ("Q", "Q", 1),
    ]
    assert board.groups[0].mean_score_percent == D(50)


def test_a_milestone_outside_the_period_is_passed_over_not_the_end_of_the_list():
    milestones = (Milestone(SPEC.start, D(50)), Milestone(date(2025, 6, 30), D(80)))

    assert expected_progress(SPEC, target(milestones=milestones), D(0), D(100), date(2025, 6, 30)) == D("0.8")


def test_a_line_without_data_keeps_its_own_baseline_and_target():
    board = compute_board(SPEC, [target()], [agency("A", line("T1", baseline=20, goal=60))], MID_YEAR)

    (result,) = board.agency("A").lines
    assert (result.baseline, result.target, result.status) == (D(20), D(60), "no_data")


def test_a_group_takes_the_first_name_given_even_after_an_agency_without_one():
    agencies = [
        agency("A", line("T1", "40"), parent="P"),
        agency("B", line("T1", "60"), parent="P", parent_name="The department"),
    ]

    board = compute_board(SPEC, [target()], agencies, MID_YEAR)

    assert [(group.code, group.name) for group in board.groups] == [("P", "The department")]


def test_each_agency_result_names_the_agency_and_its_parent():
    board = compute_board(SPEC, [target()], [agency("A", line("T1", "40"), parent="P")], MID_YEAR)

    assert (board.agency("A").name, board.agency("A").parent_code) == ("Agency A", "P")


def test_status_counts_count_every_line():
    agencies = [agency(code, line("T1", "60")) for code in ("A", "B", "C")]

    (summary,) = compute_board(SPEC, [target()], agencies, MID_YEAR).targets

    assert (summary.committed, summary.status_counts["on_track"]) == (3, 3)


def test_no_adjustments_add_up_to_a_decimal_zero():
    """Not the integer 0 that `sum` starts from: a board's figures stay Decimals to the last digit."""
    from competition.scoring import adjustments_total

    total = adjustments_total([], date(2025, 6, 30))

    assert isinstance(total, D) and total == 0
