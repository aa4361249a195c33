"""Validation lives with the models, so that admin forms refuse what imports refuse."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from competition.enums import SubmissionStatus
from competition.models import Adjustment, Agency, CommitmentLine, Juror, JuryScore, Submission, TargetMilestone
from tests.factories import (
    AgencyFactory,
    UserFactory,
    make_commitment,
    make_competition,
    make_submission,
    make_target,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    competition = make_competition(slug="rules")
    targets = {
        "pct": make_target(competition, code="P", unit="percent"),
        "days": make_target(competition, code="D", unit="days", direction="lower", baseline=10, target=5),
        "bool": make_target(competition, code="B", unit="boolean", baseline=0, target=1),
        "num": make_target(competition, code="N", unit="number", baseline=0, target=500),
    }
    agency = AgencyFactory(code="R1")
    make_commitment(competition, agency, list(targets.values()))
    lines = {key: CommitmentLine.objects.get(target=target) for key, target in targets.items()}
    return competition, targets, agency, lines


def errors_of(instance):
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("pct", "100.5", "between 0 and 100"),
        ("pct", "-0.1", "between 0 and 100"),
        ("days", "-1", "cannot be negative"),
        ("num", "-3", "cannot be negative"),
        ("bool", "0.5", "0 or 1"),
        ("bool", "2", "0 or 1"),
    ],
)
def test_submission_value_validated_by_unit(setup, key, value, message):
    _competition, _targets, _agency, lines = setup
    submission = Submission(line=lines[key], reported_on=date(2025, 5, 1), value=Decimal(value))

    assert message in errors_of(submission)["value"][0]


@pytest.mark.parametrize("key", ["pct", "days", "bool", "num"])
def test_submission_valid_values_pass(setup, key):
    _competition, _targets, _agency, lines = setup

    Submission(line=lines[key], reported_on=date(2025, 5, 1), value=Decimal(1)).full_clean()


@pytest.mark.parametrize("day", [date(2024, 12, 31), date(2026, 1, 1)])
def test_submission_date_inside_the_period(setup, day):
    _competition, _targets, _agency, lines = setup

    assert (
        "outside the competition period"
        in errors_of(Submission(line=lines["pct"], reported_on=day, value=1))["reported_on"][0]
    )


def test_submission_states_move_only_forward(setup):
    _competition, _targets, _agency, lines = setup
    submission = Submission(line=lines["pct"], reported_on=date(2025, 5, 1), value=1)

    assert submission.can_transition_to(SubmissionStatus.SUBMITTED)
    assert not submission.can_transition_to(SubmissionStatus.ACCEPTED)
    submission.status = SubmissionStatus.RETURNED
    assert submission.is_editable and submission.can_transition_to(SubmissionStatus.SUBMITTED)
    for final in (SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED):
        submission.status = final
        assert not submission.is_editable
        assert not any(submission.can_transition_to(status) for status in SubmissionStatus)


def test_score_refused_for_conflict_of_interest(setup):
    competition, _targets, agency, lines = setup
    submission = make_submission(lines["pct"], 50)
    juror = Juror.objects.create(competition=competition, user=UserFactory(), agency=agency)

    assert "conflict of interest" in errors_of(JuryScore(submission=submission, juror=juror, points=1))["juror"][0]


def test_score_refused_outside_the_targets_range(setup):
    competition, _targets, _agency, lines = setup
    submission = make_submission(lines["pct"], 50)
    juror = Juror.objects.create(competition=competition, user=UserFactory())

    assert "between 0 and 10" in errors_of(JuryScore(submission=submission, juror=juror, points=11))["points"][0]
    assert "between 0 and 10" in errors_of(JuryScore(submission=submission, juror=juror, points=-1))["points"][0]
    JuryScore(submission=submission, juror=juror, points=10).full_clean()


def test_score_refused_for_a_juror_of_another_competition(setup):
    _competition, _targets, _agency, lines = setup
    other = make_competition(slug="other-rules")
    juror = Juror.objects.create(competition=other, user=UserFactory())
    submission = make_submission(lines["pct"], 50)

    assert "not a reviewer" in errors_of(JuryScore(submission=submission, juror=juror, points=1))["juror"][0]


@pytest.mark.parametrize("status", [SubmissionStatus.DRAFT, SubmissionStatus.RETURNED, SubmissionStatus.REJECTED])
def test_score_refused_for_unscorable_submissions(setup, status):
    competition, _targets, _agency, lines = setup
    submission = make_submission(lines["pct"], 50, status=status)
    juror = Juror.objects.create(competition=competition, user=UserFactory())

    assert "submission" in errors_of(JuryScore(submission=submission, juror=juror, points=1))


def test_adjustment_rules(setup):
    competition, _targets, agency, _lines = setup
    outsider = AgencyFactory(code="OUT")

    assert (
        "0 points" in errors_of(Adjustment(competition=competition, agency=agency, points=0, reason="x"))["points"][0]
    )
    assert (
        "no commitment"
        in errors_of(Adjustment(competition=competition, agency=outsider, points=1, reason="x"))["agency"][0]
    )
    Adjustment(competition=competition, agency=agency, points=-2, reason="Late").full_clean()


@pytest.mark.parametrize(("points", "shown"), [("2.0000", "+2"), ("-0.5000", "-0.5"), ("1.2500", "+1.25")])
def test_an_adjustment_is_named_with_its_points_as_the_pages_write_them(setup, points, shown):
    """Its name (the listings' and history's titles, the delete confirmation) writes the points
    without the column's trailing zeros."""
    _competition, _targets, agency, _lines = setup

    assert str(Adjustment(agency=agency, points=Decimal(points), reason="Late")) == f"{agency.code} {shown} Late"


def test_target_rules(setup):
    competition, targets, _agency, _lines = setup
    target = targets["pct"]
    target.target_value = Decimal(120)
    target.max_points = Decimal(0)
    target.deadline = date(2026, 3, 1)

    errors = errors_of(target)

    assert set(errors) >= {"target_value", "max_points", "deadline"}


def test_milestone_inside_period_and_unit(setup):
    _competition, targets, _agency, _lines = setup
    milestone = TargetMilestone(page=targets["pct"], date=date(2026, 2, 1), value=Decimal(150))

    assert set(errors_of(milestone)) == {"date", "value"}


def test_commitment_line_refuses_a_target_of_another_competition(setup):
    _competition, _targets, _agency, lines = setup
    other = make_competition(slug="elsewhere")
    foreign = make_target(other, code="F")
    line = lines["pct"]
    line.target = foreign

    assert "another competition" in errors_of(line)["target"][0]


def test_agency_cannot_be_its_own_ancestor(db):
    parent = Agency.objects.create(code="PA", name="Parent")
    child = Agency.objects.create(code="CH", name="Child", parent=parent)
    parent.parent = child

    assert "ancestor" in errors_of(parent)["parent"][0]
