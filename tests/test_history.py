"""The competition page's progress chart from one query (competition.domain.history): at every
month end, exactly the figure the public board of that date gives (the mean of its agencies'
progress, rounded to 2 decimals), on the worked example, a hand-made competition with every kind
of line, and a generated one; in a constant number of queries."""

import io
import json
from datetime import date, timedelta
from functools import partial

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site

from competition import feed
from competition.domain import evidence, feed_tokens, history, judging, scoreboard
from competition.domain.history import mean_progress, month_figures
from competition.domain.presentation import month_ends, progress_series
from competition.enums import SubmissionStatus
from competition.imports import load_dataset, run_import
from competition.models import (
    Adjustment,
    CommitmentLine,
    CommitmentPage,
    FeedToken,
    ProgressChange,
    ProgressDirty,
    Submission,
    TargetPage,
)
from tests.factories import AgencyFactory, make_commitment, make_competition, make_score, make_submission, make_target

AS_OF_EDGES = [
    date(2024, 6, 1),  # before the start: clamped to it, a single point
    date(2025, 1, 1),  # the start
    date(2025, 1, 31),  # the first month end
    date(2025, 6, 30),  # a month end (adjustments and most values are dated on it)
    date(2025, 7, 1),  # the day after
    date(2025, 10, 15),
    date(2025, 12, 31),  # the end
    date(2026, 3, 1),  # after the end: clamped to it
]


def board_series(competition, as_of):
    """The chart as it was made before: the public board of each month end."""
    day = scoreboard.resolve_as_of(competition, as_of)
    return [
        {"date": end, "progress": mean_progress(scoreboard.get_board(competition, end))}
        for end in month_ends(competition.start_date, day)
    ]


def one_pass_series(competition, as_of):
    cache.clear()  # nothing computed for board_series is reused
    return progress_series(competition, scoreboard.get_board(competition, as_of))


def assert_same_series(competition, as_of):
    expected = board_series(competition, as_of)
    assert one_pass_series(competition, as_of) == expected
    return expected


def test_the_worked_example_gives_the_boards_figures(worked):
    for as_of in AS_OF_EDGES:
        series = assert_same_series(worked, as_of)
        assert len(series) == len(month_ends(worked.start_date, scoreboard.resolve_as_of(worked, as_of)))


def test_the_worked_example_once_judging_is_closed_and_results_published(worked):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pass-word-123")
    judging.close_judging(worked, boss)
    worked.refresh_from_db()
    # A published board is kept as it was: later data changes do not reach its last point.
    Submission.objects.filter(line__commitment__agency__code="A").update(value=0)
    scoreboard.invalidate(worked.pk)
    for as_of in (date(2025, 12, 31), date(2025, 12, 30), date(2025, 6, 30)):
        assert_same_series(worked, as_of)


@pytest.fixture
def varied(db):
    """Every kind of line: higher and lower, a boolean, a target without room to move (B = T)
    in each direction, own baselines and targets, an early deadline (missed at it), milestones,
    a line whose target is not live, an unpublished commitment, an agency reporting nothing,
    equal reporting dates told apart by the acceptance time (one never decided), values
    beyond the target and below the baseline, submissions that do not count, adjustments."""
    from competition.enums import SubmissionStatus
    from competition.models import TargetMilestone

    competition = make_competition(slug="varied")
    higher = make_target(competition, "T1", baseline=10, target=90, max_points=10)
    lower = make_target(competition, "T2", unit="days", direction="lower", baseline=30, target=5, max_points=7)
    boolean = make_target(competition, "T3", unit="boolean", baseline=0, target=1, max_points=3)
    flat_up = make_target(competition, "T4", unit="number", baseline=50, target=50, max_points=4)
    flat_down = make_target(competition, "T5", unit="number", direction="lower", baseline=5, target=8, max_points=4)
    early = make_target(competition, "T6", baseline=0, target=100, max_points=6, deadline=date(2025, 5, 31))
    hidden = make_target(competition, "T7", baseline=0, target=100, max_points=50)
    TargetMilestone.objects.create(page=higher, date=date(2025, 4, 30), value=40)
    targets = [higher, lower, boolean, flat_up, flat_down, early, hidden]
    agencies = [AgencyFactory(code=code, parent=None) for code in ("A", "B", "C", "D", "E")]
    for agency in agencies[:4]:
        make_commitment(competition, agency, targets)
    make_commitment(competition, agencies[4], targets, publish=False)
    lines = CommitmentLine.objects.select_related("commitment__agency", "target")
    line = {(each.commitment.agency.code, each.target.code): each for each in lines}
    CommitmentLine.objects.filter(pk=line["B", "T1"].pk).update(baseline=20, target_value=60)
    CommitmentLine.objects.filter(pk=line["C", "T2"].pk).update(target_value=40)  # lower, T > B: a step

    def report(agency, code, value, day, decided=True, **kw):
        submission = make_submission(line[agency, code], value, day, **kw)
        if not decided:
            Submission.objects.filter(pk=submission.pk).update(decided_at=None)

    for month in range(1, 13):
        day = date(2025, month, 1) + timedelta(days=13 * month % 27)
        report("A", "T1", 10 + 7 * month, day)
        report("B", "T2", 31 - 2 * month, day)
        if month % 3 == 0:
            report("C", "T1", 5 * month + 0.3333, day)
            report("A", "T3", month % 2, day)
            report("B", "T4", 49 + month % 3, day)
            report("C", "T5", 5 + month % 4, day)
            report("A", "T7", 100, day)  # a target that is not live: never counts
            report("E", "T1", 90, day)  # an unpublished commitment: never counts
    report("A", "T6", 70, date(2025, 3, 31))
    report("B", "T6", 120, date(2025, 6, 30))  # beyond the target
    report("C", "T2", 45, date(2025, 2, 14))  # worse than the baseline
    # Equal dates: the later acceptance wins; one never decided (imported) counts as earliest.
    report("C", "T3", 1, date(2025, 7, 31))
    report("C", "T3", 0, date(2025, 7, 31), decided=False)
    report("C", "T6", 10, date(2025, 4, 30), status=SubmissionStatus.SUBMITTED)
    report("C", "T6", 99, date(2025, 4, 30), status=SubmissionStatus.REJECTED)
    TargetPage.objects.get(pk=hidden.pk).unpublish()
    Adjustment.objects.create(
        competition=competition, agency=agencies[0], points=5, reason="Bonus", on=date(2025, 6, 30)
    )
    Adjustment.objects.create(competition=competition, agency=agencies[1], points=-40, reason="Late", on=None)
    return competition


def test_every_kind_of_line_gives_the_boards_figures(varied):
    for as_of in AS_OF_EDGES:
        series = assert_same_series(varied, as_of)
        assert len({point["progress"] for point in series}) > (2 if as_of > date(2025, 6, 1) else 0)


@pytest.fixture
def boundary(db):
    """A competition whose mean lies on a rounding boundary at the end of February (12.505 %)."""
    competition = make_competition(slug="boundary")
    target = make_target(competition, "T1", baseline=0, target=100, max_points=10)
    for code, value in (("A", "12.5"), ("B", "12.51")):
        page = make_commitment(competition, AgencyFactory(code=code), [target])
        make_submission(page.lines.get(), value, date(2025, 2, 10))
    return competition


def test_a_mean_on_a_rounding_boundary_is_taken_from_the_board(boundary, django_assert_num_queries):
    """12.50 % and 12.51 %: the exact mean 12.505 rounds half to even (12.50), which the
    database's floating point cannot tell; the board of that date is built instead."""
    days = [date(2025, 1, 31), date(2025, 2, 28)]

    with django_assert_num_queries(1 + 6):  # the history, and the board of the date on the boundary
        figures = month_figures(boundary, days)

    assert figures == [0.0, 12.5] == [mean_progress(scoreboard.load_board(boundary, day)) for day in days]


def test_rounding_away_from_a_boundary():
    assert history._rounded(12.5049) == 12.5
    assert history._rounded(12.5051) == 12.51
    assert history._rounded(-1e-12) == 0.0
    assert history._rounded(99.999999) == 100.0
    assert history._rounded(12.505) is None
    assert history._rounded(12.5050000001) is None


def test_the_history_is_kept_until_the_competition_changes(varied, django_assert_num_queries):
    as_of = date(2025, 10, 15)
    board = scoreboard.get_board(varied, as_of)
    first = progress_series(varied, board)
    with django_assert_num_queries(0):
        assert progress_series(varied, board) == first

    report_line = CommitmentLine.objects.get(commitment__agency__code="D", target__code="T1")
    make_submission(report_line, 90, date(2025, 3, 31))
    scoreboard.invalidate(varied.pk)

    changed = progress_series(varied, scoreboard.get_board(varied, as_of))
    assert changed != first
    assert changed == board_series(varied, as_of)


@pytest.mark.demo
def test_a_generated_competition_gives_the_boards_figures(db):
    from bench.generate import Size, generate

    competition = generate("generated", Size(agencies=24, groups=3, targets=8, reports=6), seed=11).competition
    for as_of in (date(2025, 10, 15), date(2025, 12, 31), date(2025, 1, 1)):
        assert_same_series(competition, as_of)


@pytest.mark.demo
def test_the_chart_costs_the_same_queries_at_two_sizes(db, django_assert_num_queries):
    from bench.generate import Size, generate

    small = generate("small", Size(agencies=6, groups=2, targets=8, reports=4), seed=1).competition
    larger = generate("larger", Size(agencies=30, groups=3, targets=8, reports=8), seed=1).competition
    days = month_ends(small.start_date, date(2025, 10, 15))
    for competition in (small, larger):
        cache.clear()
        with django_assert_num_queries(1):  # the whole history, whatever the size
            month_figures(competition, days)


def test_the_competition_page_draws_the_boards_figures(varied, client):
    expected = board_series(varied, date(2025, 10, 15))
    cache.clear()

    page = BeautifulSoup(client.get("/varied/?as_of=2025-10-15").content, "html.parser")

    drawn = json.loads(page.find(id="chart-data").string)["progress"]
    assert drawn == [{"date": point["date"].isoformat(), "progress": point["progress"]} for point in expected]


# The history kept (kept_month_figures): one entry per competition under its progress version.


def figures_of_boards(competition, days):
    return [mean_progress(scoreboard.load_board(competition, day)) for day in days]


@pytest.mark.parametrize("name", ["varied", "boundary"])
def test_the_kept_history_gives_the_boards_figures_at_every_month_end(db, request, name):
    competition = request.getfixturevalue(name)
    days = month_ends(competition.start_date, competition.end_date)[:-1]
    cache.clear()
    kept = history.kept_month_figures(competition, days)
    assert kept == figures_of_boards(competition, days) == history.kept_month_figures(competition, days)
    if name == "boundary":
        assert kept[1] == 12.5  # 12.505 rounded half to even, from the board of February's end
    else:
        assert len(set(kept)) > 5


def test_the_kept_history_serves_every_date_it_covers(varied, django_assert_num_queries):
    """Kept up to a month end, it answers every chart whose month ends precede it, whatever its
    date; a later date computes it again (1 query), up to its own month end, and keeps that."""
    cache.clear()
    october = month_ends(varied.start_date, date(2025, 10, 15))[:-1]
    with django_assert_num_queries(1):
        first = history.kept_month_figures(varied, october)
    for as_of in (date(2025, 10, 1), date(2025, 10, 31), date(2025, 6, 15), date(2025, 2, 1), date(2025, 1, 31)):
        days = month_ends(varied.start_date, as_of)[:-1]
        with django_assert_num_queries(0):
            figures = history.kept_month_figures(varied, days)
        assert figures == first[: len(days)] == figures_of_boards(varied, days)
    december = month_ends(varied.start_date, date(2025, 12, 15))[:-1]
    with django_assert_num_queries(1):
        later = history.kept_month_figures(varied, december)
    assert later[: len(october)] == first
    assert later == figures_of_boards(varied, december)
    with django_assert_num_queries(0):
        assert history.kept_month_figures(varied, october) == first


def test_the_competition_page_reuses_the_history_for_another_date_in_the_month(
    varied, client, django_assert_num_queries
):
    cache.clear()
    client.get("/varied/?as_of=2025-10-15")
    board = scoreboard.get_board(varied, date(2025, 10, 20))
    with django_assert_num_queries(0):  # the board is kept; the history too, from the 15th
        series = progress_series(varied, board)
    assert series == board_series(varied, date(2025, 10, 20))


# Committed for real, so that the signals of the fixture's saves have run (in a test's transaction
# their callbacks wait for a commit that never comes, and would carry over into the change's).
COMMITTED = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@COMMITTED
def test_the_kept_history_is_stale_once_a_value_changes(varied, django_capture_on_commit_callbacks):
    days = month_ends(varied.start_date, date(2025, 10, 15))[:-1]
    cache.clear()
    before = history.kept_month_figures(varied, days)
    submission = Submission.objects.filter(line__commitment__agency__code="A", line__target__code="T1").earliest(
        "reported_on"
    )
    with django_capture_on_commit_callbacks(execute=True):  # the signals invalidate after the commit
        submission.value = 90
        submission.save()

    after = history.kept_month_figures(varied, days)
    assert after != before
    assert after == figures_of_boards(varied, days)


@COMMITTED
@pytest.mark.parametrize("change", ["target", "line", "unpublish"])
def test_the_kept_history_is_stale_once_a_target_or_the_lines_change(
    varied, django_capture_on_commit_callbacks, change
):
    days = month_ends(varied.start_date, date(2025, 12, 31))[:-1]
    cache.clear()
    before = history.kept_month_figures(varied, days)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "target":
            target = TargetPage.objects.get(competition=varied, code="T1")
            target.target_value = 50
            target.save()
        elif change == "line":
            line = CommitmentLine.objects.get(commitment__agency__code="B", target__code="T2")
            line.baseline = 40
            line.save()
        else:
            from competition.models import CommitmentPage

            CommitmentPage.objects.get(competition=varied, agency__code="D").unpublish()

    after = history.kept_month_figures(varied, days)
    assert after != before
    assert after == figures_of_boards(varied, days)


@COMMITTED
def test_jury_scores_and_adjustments_leave_the_kept_history_as_it_is(
    varied, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """Neither counts in progress (docs/scoring.md, 7): the boards are stale, the history is not."""
    days = month_ends(varied.start_date, date(2025, 10, 15))[:-1]
    cache.clear()
    before = history.kept_month_figures(varied, days)
    board_version = scoreboard.board_version(varied.pk)
    submission = Submission.objects.filter(line__commitment__agency__code="A").latest("reported_on")
    agency = submission.line.commitment.agency
    with django_capture_on_commit_callbacks(execute=True):
        make_score(submission, "juror-1", 80)
        Adjustment.objects.create(competition=varied, agency=agency, points=3, reason="Late bonus", on=date(2025, 3, 1))

    assert scoreboard.board_version(varied.pk) != board_version
    with django_assert_num_queries(0):
        assert history.kept_month_figures(varied, days) == before
    assert before == figures_of_boards(varied, days)


def test_an_invalidation_without_details_makes_the_history_stale(varied, django_assert_num_queries):
    days = month_ends(varied.start_date, date(2025, 10, 15))[:-1]
    cache.clear()
    history.kept_month_figures(varied, days)
    scoreboard.invalidate(varied.pk)  # a bulk change (an import, a queryset update) says no more
    with django_assert_num_queries(1):
        history.kept_month_figures(varied, days)


# The summary kept in the database (models.ProgressChange) and its marks (models.ProgressDirty):
# after every kind of change, the agencies it touched are marked in its own transaction, the chart
# computes them from the submissions until the refresh, and the refresh brings their rows up to
# what a full recomputation gives.


def summary_rows(competition):
    rows = ProgressChange.objects.filter(competition=competition).values_list("agency__code", "reported_on", "change")
    return sorted(rows, key=lambda row: (row[0], row[1] or date.min))


def full_summary(competition):
    """The summary recomputed for every agency (undone afterwards)."""
    with transaction.atomic():
        history.mark([(competition.pk, None)])
        history.refresh(competition.pk)
        rows = summary_rows(competition)
        transaction.set_rollback(True)  # back to the savepoint of this block
    return rows


def assert_same_summary(competition):
    kept, full = summary_rows(competition), full_summary(competition)
    assert [row[:2] for row in kept] == [row[:2] for row in full]
    assert [row[2] for row in kept] == pytest.approx([row[2] for row in full], abs=1e-12)


def marked_agencies(competition):
    """The codes of the agencies marked out of date (None: the whole competition)."""
    marks = ProgressDirty.objects.filter(competition=competition).values_list("agency__code", flat=True)
    return set(marks)


def line_of(code, target):
    return CommitmentLine.objects.get(commitment__agency__code=code, target__code=target)


def accepted_of(code, target, latest=False):
    submissions = Submission.objects.filter(
        line=line_of(code, target), status=SubmissionStatus.ACCEPTED, decided_at__isnull=False
    )
    return submissions.latest("reported_on") if latest else submissions.earliest("reported_on")


def _accept(competition, ready):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pass-word-123")
    evidence.decide(Submission.objects.get(line=line_of("C", "T6"), status=SubmissionStatus.SUBMITTED), boss, "accept")
    return {"C"}


def _status(code, target, status):
    submission = accepted_of(code, target)
    submission.status = status
    submission.save()
    return {code}


def _edit(competition, ready):
    submission = accepted_of("A", "T1")
    submission.value = 90
    submission.save()
    return {"A"}


def _delete(competition, ready):
    draft = make_submission(line_of("D", "T1"), 80, date(2025, 3, 31), status=SubmissionStatus.DRAFT)
    ready()
    draft.delete()
    return {"D"}


VALUES = "competition,agency,target,reported_on,value,note\nvaried,D,T1,2025-03-31,80,\n"


def _import(competition, ready, *, fast=True):
    report = run_import("values", load_dataset(VALUES.encode(), "csv"), fast=fast)
    assert report.ok and report.created == 1
    return {"D"}  # both paths mark the agencies they wrote to (and refresh them after the commit)


def _import_changed_value(competition, ready, *, fast=True):
    day = accepted_of("A", "T1").reported_on.isoformat()
    file = f"competition,agency,target,reported_on,value,note\nvaried,A,T1,{day},55,\nvaried,B,T1,{day},1,\n"
    report = run_import("values", load_dataset(file.encode(), "csv"), fast=fast)
    assert report.ok and report.updated == 1 and report.created == 1
    return {"A", "B"}


def _feed(competition, ready):
    competition.accept_feed_values = True
    competition.save_revision().publish()
    ready()
    manager = get_user_model().objects.create_superuser("feeder", "feeder@example.org", "pass-word-123")
    token = FeedToken(name="Document system", competition=competition, agency=line_of("D", "T1").commitment.agency)
    token.expires_on = date.today() + timedelta(days=30)
    feed_tokens.issue(token, manager)
    result = feed.post_values(token, [{"target": "T1", "reported_on": "2025-03-31", "value": "80"}])
    assert result.count("created") == 1 and not result.errors, result
    return {"D"}


def _remove_line(competition, ready):
    line_of("A", "T2").delete()  # no submission: A's remaining lines weigh more
    return {"A"}


def _add_line(competition, ready):
    line = line_of("A", "T2")
    commitment, target = line.commitment_id, line.target_id
    line.delete()
    ready()  # the agency without the line, as it was before
    CommitmentLine.objects.create(commitment_id=commitment, target_id=target)
    return {"A"}


def _line_baseline(competition, ready):
    line = line_of("B", "T2")
    line.baseline = 40
    line.save()
    return {"B"}


def _target(**fields):
    def change(competition, ready):
        target = TargetPage.objects.get(competition=competition, code="T1")
        for name, value in fields.items():
            setattr(target, name, value)
        target.save()
        return {None}  # and computed again after the commit (test_bulk_changes_...)

    return change


def _unpublish_commitment(competition, ready):
    CommitmentPage.objects.get(competition=competition, agency__code="D").unpublish()
    return {"D"}


def _unpublish_target(competition, ready):
    TargetPage.objects.get(competition=competition, code="T1").unpublish()
    return {None}


def _move_commitment(competition, ready):
    page = CommitmentPage.objects.get(competition=competition, agency__code="C")
    page.agency = AgencyFactory(code="F", parent=None)
    # C has reported values, so every admin path refuses this (CommitmentPage.clean): a data
    # correction that skips validation, whose figures must still follow the page.
    page.save(clean=False)
    return {"C", "F"}  # the same progress under another agency: the chart's figures stay


CHANGES = {
    "accept": _accept,
    "return": lambda competition, ready: _status("A", "T1", SubmissionStatus.RETURNED),
    "withdraw": lambda competition, ready: _status("B", "T2", SubmissionStatus.DRAFT),
    "edit an accepted value": _edit,
    "delete a submission": _delete,
    "import values": _import,
    "import values row by row": lambda competition, ready: _import(competition, ready, fast=False),
    "import a changed value": _import_changed_value,
    "import a changed value row by row": partial(_import_changed_value, fast=False),
    "a data feed's accepted value": _feed,
    "remove a line": _remove_line,
    "add a line": _add_line,
    "change a line's baseline": _line_baseline,
    "target's max points": _target(max_points=40),
    "target's direction": _target(direction="lower"),
    "target's value": _target(target_value=50),
    "unpublish a commitment page": _unpublish_commitment,
    "unpublish a target": _unpublish_target,
    "move a commitment page to another agency": _move_commitment,
}
SAME_FIGURES = {"delete a submission", "move a commitment page to another agency"}


@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_chart_gives_the_boards_figures_before_and_after_the_refresh(varied, change):
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    figures = []

    def ready():
        """The summary up to date, nothing marked: the state the change starts from."""
        history.refresh(varied.pk)
        assert marked_agencies(varied) == set()
        figures[:] = [month_figures(varied, days)]
        assert figures[0] == figures_of_boards(varied, days)

    ready()
    marked = CHANGES[change](varied, ready)
    assert marked == marked_agencies(varied)  # in the change's transaction

    boards = figures_of_boards(varied, days)
    assert (boards == figures[0]) == (change in SAME_FIGURES)
    assert month_figures(varied, days) == boards  # the marked agencies computed from their submissions
    assert history.refresh(varied.pk) > 0
    assert marked_agencies(varied) == set()
    assert month_figures(varied, days) == boards  # from the summary alone
    assert_same_summary(varied)


def _retitle(competition):
    competition.title = "Renamed"
    competition.save_revision().publish()


def _longer_period(competition):
    competition.end_date = date(2026, 3, 31)
    competition.save_revision().publish()


def _move_in_tree(competition):
    folder = competition.get_parent().add_child(instance=Page(title="Folder", slug="folder"))
    competition.move(folder, pos="last-child")


def _restrict(competition):
    PageViewRestriction.objects.create(page=competition, restriction_type="password", password="secret")


def _site(competition):
    site = Site.objects.get(is_default_site=True)
    site.hostname = "competition.example.org"
    site.save()


def _import_agencies(competition):
    report = run_import("agencies", load_dataset(b"code,name\nA,Agency A renamed\n", "csv"))
    assert report.ok and report.updated == 1, report.errors


def _score(competition):
    make_score(accepted_of("A", "T1", latest=True), "juror", 5)


BESIDE_THE_SUMMARY = {
    "edit the competition page": _retitle,
    "lengthen the period": _longer_period,
    "move the competition page in the tree": _move_in_tree,
    "restrict the competition page": _restrict,
    "change the site": _site,
    "import agencies": _import_agencies,
    "a jury score": _score,
}


@pytest.mark.parametrize("change", BESIDE_THE_SUMMARY)
def test_changes_the_summary_does_not_read_mark_nothing(varied, change):
    """The summary reads the live targets and commitment pages of a competition by their foreign
    keys, their lines and the submissions: a change to anything else marks nothing, so the next
    cold page still reads the summary (marking the whole competition made it compute every
    agency from its submissions, 2.6 times a board at HCMC size, until the background rebuild)."""
    history.refresh(varied.pk)
    BESIDE_THE_SUMMARY[change](varied)
    assert marked_agencies(varied) == set()
    varied.refresh_from_db()
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    assert month_figures(varied, days) == figures_of_boards(varied, days)
    assert_same_summary(varied)


def test_a_target_s_draft_leaves_the_summary_and_its_publication_computes_it_again(
    varied, monkeypatch, django_capture_on_commit_callbacks
):
    """A draft of a target saves its revision, not its figures: nothing to compute. Publishing
    new figures marks the whole summary and computes it again once, right after the commit;
    publishing the same figures again, nothing."""
    history.refresh(varied.pk)
    cleared = []  # the marks each refresh cleared (the background rebuild's included)
    original = history.refresh
    monkeypatch.setattr(history, "refresh", lambda pk: cleared.append(original(pk)) or cleared[-1])
    target = TargetPage.objects.get(competition=varied, code="T1")
    target.target_value = 50
    with django_capture_on_commit_callbacks(execute=True):
        revision = target.save_revision()
        assert marked_agencies(varied) == set()
    assert not any(cleared)
    with django_capture_on_commit_callbacks(execute=True):
        revision.publish()
        assert marked_agencies(varied) == {None}
    assert [count for count in cleared if count] == [1]
    assert marked_agencies(varied) == set()
    assert_same_summary(varied)
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    assert month_figures(varied, days) == figures_of_boards(varied, days)
    cleared.clear()
    target.title = "Renamed"  # published again, its figures as they were
    with django_capture_on_commit_callbacks(execute=True):
        target.save_revision().publish()
        assert marked_agencies(varied) == set()
    assert not any(cleared)


def _expire(target):
    Page.objects.filter(pk=target.pk).update(expire_at=timezone.now() - timedelta(minutes=1))
    call_command("publish_scheduled")


PLAIN_UNPUBLICATIONS = {
    "unpublished as a plain page": lambda target: Page.objects.get(pk=target.pk).unpublish(),
    "expired (publish_scheduled)": _expire,
    "unpublished in bulk": lambda target: Page.objects.filter(pk=target.pk).unpublish(),
}


@pytest.mark.parametrize("unpublish", PLAIN_UNPUBLICATIONS)
def test_a_target_unpublished_as_a_plain_page_marks_the_whole_summary(
    varied, unpublish, django_capture_on_commit_callbacks
):
    """Wagtail's expiry and bulk unpublication save a plain Page: the target's own signals do
    not run, only `page_unpublished`."""
    history.refresh(varied.pk)
    target = TargetPage.objects.get(competition=varied, code="T1")
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    with django_capture_on_commit_callbacks(execute=True):
        PLAIN_UNPUBLICATIONS[unpublish](target)
        assert not TargetPage.objects.get(pk=target.pk).live
        assert marked_agencies(varied) == {None}
        assert month_figures(varied, days) == figures_of_boards(varied, days)
    assert marked_agencies(varied) == set()
    assert_same_summary(varied)


@COMMITTED
def test_two_editors_saving_targets_of_a_competition_at_once_do_not_deadlock(varied):
    """X saves two targets in one transaction (as the admin's bulk publication does), Y the second
    of them meanwhile. Had a target's save refreshed the summary in its transaction, X would hold
    the refresh's lock waiting for T2's row, and Y T2's row waiting for the lock; the refresh
    runs after each commit instead, and both changes end in the summary."""
    import threading
    import time

    from django.db import OperationalError, connections

    t1 = TargetPage.objects.get(competition=varied, code="T1").pk
    t2 = TargetPage.objects.get(competition=varied, code="T2").pk
    x_saved, y_done, errors = threading.Event(), threading.Event(), []

    def run(body):
        try:
            body()
        except OperationalError as error:  # deadlock detected, or SQLite's lock timeout
            errors.append(str(error).splitlines()[0])
        finally:
            connections.close_all()

    def x():
        with transaction.atomic():
            first = TargetPage.objects.get(pk=t1)
            first.target_value = 55
            first.save()
            x_saved.set()
            for _ in range(50):  # until Y has committed, or waits
                if y_done.is_set():
                    break
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                        if cursor.fetchone()[0]:
                            break
                time.sleep(0.1)
            second = TargetPage.objects.get(pk=t2)
            second.target_value = 56
            second.save()

    def y():
        x_saved.wait(30)
        try:
            with transaction.atomic():
                second = TargetPage.objects.get(pk=t2)
                second.max_points = 9
                second.save(update_fields=["max_points"])
        finally:
            y_done.set()

    if connection.vendor != "postgresql":
        pytest.skip("one writer at a time on SQLite: nothing to deadlock")
    threads = [threading.Thread(target=run, args=(body,)) for body in (x, y)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert TargetPage.objects.get(pk=t2).max_points == 9
    assert TargetPage.objects.get(pk=t2).target_value == 56
    assert marked_agencies(varied) == set()
    assert_same_summary(varied)


class MarkFailed(Exception):
    pass


@COMMITTED
@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "row by row"])
def test_an_import_and_the_marks_of_its_competitions_commit_together(varied, monkeypatch, fast):
    """Both paths of an import mark the summary out of date in the import's own transaction: had
    the rows been committed first, a failure in between would leave the summary out of date
    unmarked, and the chart wrong until the next change."""
    submissions = Submission.objects.count()

    def failing(pairs):
        raise MarkFailed

    monkeypatch.setattr(history, "mark", failing)
    with pytest.raises(MarkFailed):
        run_import("values", load_dataset(VALUES.encode(), "csv"), fast=fast)
    assert Submission.objects.count() == submissions  # nothing written


def test_a_competition_is_computed_from_its_submissions_until_its_summary_is_built(varied):
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    ProgressChange.objects.filter(competition=varied).delete()
    history.mark([(varied.pk, None)])  # as migration 0011 leaves every competition
    assert None in marked_agencies(varied)
    figures = month_figures(varied, days)
    assert figures == figures_of_boards(varied, days)
    history.refresh(varied.pk)
    assert {row[0] for row in summary_rows(varied)} == {"A", "B", "C", "D"}  # E's page is not live
    assert history.refresh(varied.pk) == 0  # nothing left to do
    assert month_figures(varied, days) == figures


def test_the_refresh_command_builds_the_summary_of_every_live_competition(varied):
    """After an upgrade every competition is wholly marked (migration 0011); the command
    refreshes them at once, as the background rebuild would after a change."""
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    history.mark([(varied.pk, None)])
    with pytest.raises(CommandError, match="no-such-competition"):
        call_command("competition_refresh", "varied", "no-such-competition")
    assert None in marked_agencies(varied)  # nothing was refreshed
    out = io.StringIO()
    call_command("competition_refresh", stdout=out)
    assert out.getvalue().startswith("varied: refreshed")
    assert marked_agencies(varied) == set()
    assert {row[0] for row in summary_rows(varied)} == {"A", "B", "C", "D"}
    assert month_figures(varied, days) == figures_of_boards(varied, days)
    assert_same_summary(varied)


def test_a_queryset_update_marks_the_competition_through_invalidate(varied, django_capture_on_commit_callbacks):
    """Bulk updates send no signals; whoever makes one calls `scoreboard.invalidate`, which
    marks the whole summary, computed again after the commit."""
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    history.refresh(varied.pk)
    before = summary_rows(varied)
    Submission.objects.filter(line__commitment__agency__code="A").update(value=0)
    with django_capture_on_commit_callbacks(execute=True):
        scoreboard.invalidate(varied.pk)
        assert marked_agencies(varied) == {None}
        assert month_figures(varied, days) == figures_of_boards(varied, days)
    assert marked_agencies(varied) == set()
    assert summary_rows(varied) != before
    assert_same_summary(varied)
    assert month_figures(varied, days) == figures_of_boards(varied, days)


def test_a_refresh_keeps_a_mark_it_did_not_read(varied):
    """A change committed after the refresh read the marks stays marked (its mark is deleted by
    id only if read)."""
    history.refresh(varied.pk)
    stale = ProgressDirty.objects.create(competition=varied, agency=line_of("A", "T1").commitment.agency)
    original = ProgressDirty.objects.filter

    def reading_then_marking(*args, **kwargs):
        found = original(*args, **kwargs)
        if kwargs.get("competition_id") == varied.pk:
            found = list(found.values_list("pk", "agency_id"))
            ProgressDirty.objects.create(competition=varied, agency=line_of("B", "T1").commitment.agency)
            return FakeMarks(found)
        return found

    class FakeMarks(list):
        def values_list(self, *fields):
            return self

    ProgressDirty.objects.filter = reading_then_marking
    try:
        assert history.refresh(varied.pk) == 1
    finally:
        del ProgressDirty.objects.filter
    assert not ProgressDirty.objects.filter(pk=stale.pk).exists()
    assert marked_agencies(varied) == {"B"}


def test_the_chart_and_the_refresh_cost_constant_queries(db, django_assert_num_queries):
    from bench.generate import Size, generate

    small = generate("small", Size(agencies=6, groups=2, targets=8, reports=4), seed=1).competition
    larger = generate("larger", Size(agencies=30, groups=3, targets=8, reports=8), seed=1).competition
    days = month_ends(small.start_date, date(2025, 10, 15))
    locking = 1 if connection.vendor == "postgresql" else 0
    for competition in (small, larger):
        agencies = list(CommitmentPage.objects.filter(competition=competition).values_list("agency_id", flat=True))
        # The whole competition, a few agencies, then nothing out of date.
        for marks in ([(competition.pk, None)], [(competition.pk, agency) for agency in agencies[:3]]):
            history.mark(marks)
            with django_assert_num_queries(1):
                month_figures(competition, days)
            # The lock, the marks, the rows deleted, the rows inserted, the marks deleted (and the
            # savepoint and its release: the test runs in a transaction).
            with django_assert_num_queries(locking + 4 + 2):
                history.refresh(competition.pk)
        assert marked_agencies(competition) == set()
        with django_assert_num_queries(1):
            month_figures(competition, days)


def test_a_competition_with_its_pages_can_be_deleted(db):
    """Deleting a competition deletes its commitment pages, whose signals mark their agencies: no
    mark may be left naming the competition deleted (the constraints are checked at the end)."""
    competition = make_competition(slug="gone")
    make_commitment(competition, AgencyFactory(code="A"), [])  # lines would protect their targets
    history.refresh(competition.pk)
    pk = competition.pk
    competition.delete()
    connection.check_constraints()
    assert not ProgressDirty.objects.filter(competition_id=pk).exists()
    assert not ProgressChange.objects.filter(competition_id=pk).exists()


def _unpublish_specific(target):
    target.unpublish()  # what the admin's unpublish view runs (no transaction around it)


def _publish_revision(target):
    target.max_points = 40
    revision = target.save_revision()
    revision.publish()  # what publish_scheduled runs for a revision whose time has come


AUTOCOMMIT_CHANGES = {
    "expired (publish_scheduled)": _expire,
    "unpublished (admin view)": _unpublish_specific,
    "a revision published (publish_scheduled)": _publish_revision,
    "unpublished as a plain page": lambda target: Page.objects.get(pk=target.pk).unpublish(),
    "unpublished in bulk (PageQuerySet)": lambda target: Page.objects.filter(pk=target.pk).unpublish(),
    "its commitment page expired": lambda target: _expire(line_of("A", "T1").commitment),
}


@COMMITTED
@pytest.mark.parametrize("change", AUTOCOMMIT_CHANGES)
def test_a_target_change_outside_a_transaction_and_its_mark_commit_together(varied, monkeypatch, change):
    """Review 2: Wagtail runs these without a transaction, and Django sends post_save (and
    page_unpublished) after the page's save has committed: a failure (or a killed process)
    between the save and the mark leaves the target changed and the summary unmarked."""
    history.refresh(varied.pk)
    target = TargetPage.objects.get(competition=varied, code="T1")
    commitment = line_of("A", "T1").commitment
    before = (
        TargetPage.objects.filter(pk=target.pk).values_list("live", "max_points").get(),
        Page.objects.get(pk=commitment.pk).live,
    )

    def failing(pairs):
        raise MarkFailed

    monkeypatch.setattr(history, "mark", failing)
    with pytest.raises(MarkFailed):
        AUTOCOMMIT_CHANGES[change](target)
    monkeypatch.undo()
    after = (
        TargetPage.objects.filter(pk=target.pk).values_list("live", "max_points").get(),
        Page.objects.get(pk=commitment.pk).live,
    )
    # Either the change was undone with its mark, or the summary is marked (it is not: mark failed).
    assert after == before or marked_agencies(varied), (before, after)


TARGET_UNPUBLICATIONS = {"unpublished (admin view)": _unpublish_specific, **PLAIN_UNPUBLICATIONS}


@COMMITTED
@pytest.mark.parametrize("unpublish", TARGET_UNPUBLICATIONS)
def test_a_target_s_unpublication_computes_the_summary_once(varied, monkeypatch, unpublish):
    """The save that unpublishes a target marks its whole summary, and the summary is computed
    again once, after that save's commit. `page_unpublished`, sent after the commit, used to
    mark it again: a second whole computation (about 1 s at national size) for nothing."""
    history.refresh(varied.pk)
    cleared = []  # the marks each refresh cleared
    original = history.refresh
    monkeypatch.setattr(history, "refresh", lambda pk: cleared.append(original(pk)) or cleared[-1])
    target = TargetPage.objects.get(competition=varied, code="T1")
    TARGET_UNPUBLICATIONS[unpublish](target)
    assert not Page.objects.get(pk=target.pk).live
    assert len([count for count in cleared if count]) == 1, cleared
    assert marked_agencies(varied) == set()
    assert_same_summary(varied)
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    assert month_figures(varied, days) == figures_of_boards(varied, days)


@COMMITTED
def test_no_reader_sees_an_expired_target_counted_before_its_mark(varied, monkeypatch):
    """Review 2: between the expired page's committed save and `page_unpublished` Wagtail writes
    its audit log; a chart read then must still give the boards' figures."""
    import wagtail.actions.unpublish as unpublish_action

    history.refresh(varied.pk)
    target = TargetPage.objects.get(competition=varied, code="T1")
    days = month_ends(varied.start_date, varied.end_date)[:-1]
    seen = []
    original = unpublish_action.log

    def reading_log(*args, **kwargs):
        seen.append((month_figures(varied, days), figures_of_boards(varied, days), marked_agencies(varied)))
        return original(*args, **kwargs)

    monkeypatch.setattr(unpublish_action, "log", reading_log)
    _expire(target)
    assert seen
    chart, boards, marked = seen[0]
    assert chart == boards, (marked, chart, boards)


@COMMITTED
def test_a_target_changed_by_another_editor_between_the_read_and_the_save_is_marked(varied):
    """Review 2: `remember_target` reads the stored figures without locking the row. X saves T1
    as X loaded it (a new title; the figures X's form held); Y changes T1's figures, commits and
    refreshes after X's read but before X's UPDATE; X's save writes the old figures back over
    Y's, and finds them equal to what it read: nothing marked, the summary holds Y's figures."""
    import threading

    from django.db import connections
    from django.db.models.signals import pre_save

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: X's read and Y's commit cannot interleave")
    history.refresh(varied.pk)
    pk = TargetPage.objects.get(competition=varied, code="T1").pk
    x_read, y_done, errors = threading.Event(), threading.Event(), []

    def pause(sender, instance, **kwargs):  # runs after remember_target (connected later)
        if threading.current_thread().name == "X":
            x_read.set()
            for _ in range(100):  # until Y has committed, or waits for a lock X holds
                if y_done.wait(0.1):
                    break
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    if cursor.fetchone()[0]:
                        break

    def run(body):
        try:
            body()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(repr(error))
        finally:
            connections.close_all()

    def x():
        target = TargetPage.objects.get(pk=pk)
        target.title = "Renamed by X"
        target.save()  # Wagtail's Page.save: its own transaction

    def y():
        x_read.wait(30)
        try:
            target = TargetPage.objects.get(pk=pk)
            target.target_value = 55
            with transaction.atomic():
                target.save()
        finally:
            y_done.set()

    pre_save.connect(pause, sender=TargetPage, dispatch_uid="review2-pause")
    try:
        threads = [threading.Thread(target=run, args=(body,), name=name) for name, body in (("X", x), ("Y", y))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        pre_save.disconnect(sender=TargetPage, dispatch_uid="review2-pause")
    assert not errors, errors
    # Whichever save came last wrote its whole instance (Wagtail has no optimistic locking): the
    # summary must agree with what is stored, or be marked.
    assert marked_agencies(varied) or summary_rows(varied) == full_summary(varied)
    assert_same_summary(varied)
