"""The jury's work: the review queue, recording a score (refusing conflicts of interest and
closed competitions, auditing every change), and the spread of scores managers read."""

import statistics
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import permissions, scoring
from ..enums import SubmissionStatus
from ..models import Juror, JuryScore, Submission
from . import panels

REVIEWABLE = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED)
# Reviewers disagree strongly when their points spread over more than this share of the maximum.
DISAGREEMENT_SHARE = Decimal("0.25")


def seats_of(user):
    """The user's jury seats (one per competition), with the competition loaded."""
    if not user.is_authenticated:
        return Juror.objects.none()
    return Juror.objects.filter(user=user).select_related("competition")


def queue_for(user, *, competition=None, target=None, agency=None, group=None, status=None, include_earlier=False):
    """Submissions the user should look at, oldest first.

    For a reviewer: submitted or accepted submissions of their competitions that they have not
    scored yet, never of an agency they are affiliated with or declared a conflict with, and,
    where the competition has review panels, only of the lines they review (domain.panels). For
    a manager (not on the jury): submitted or accepted submissions of the competitions they
    manage. Unless `include_earlier`, reports superseded by a later accepted report of the same
    commitment target are left out: their scores no longer count on today's board.
    """
    return reviewable_for(
        user,
        competition=competition,
        target=target,
        agency=agency,
        group=group,
        status=status,
        include_earlier=include_earlier,
    ).filter(scored_by_me=False)


def reviewable_for(user, *, competition=None, target=None, agency=None, group=None, status=None, include_earlier=False):
    """`queue_for` with the submissions the user has scored too (annotated `scored_by_me`)."""
    seats = list(seats_of(user))
    scopes = panels.scopes_of({seat.competition_id for seat in seats}) if seats else {}
    conflicts = panels.conflict_agency_ids(seats) if seats else {}
    query = Q(pk__in=[])
    for seat in seats:
        seat_query = Q(line__commitment__competition_id=seat.competition_id)
        if conflicts[seat.pk]:
            seat_query &= ~Q(line__commitment__agency_id__in=sorted(conflicts[seat.pk]))
        seat_query &= panels.seat_filter(seat, scopes.get(seat.competition_id, []))
        query |= seat_query
    seat_competitions = {seat.competition_id for seat in seats}
    managed = permissions.managed_competition_ids(user) - seat_competitions
    if managed:
        query |= Q(line__commitment__competition_id__in=managed)
    queryset = (
        # Once a competition's results are published (judging closed), nothing of it is scored.
        Submission.objects.filter(query, status__in=REVIEWABLE, line__commitment__competition__closed=False)
        .annotate(scored_by_me=Exists(JuryScore.objects.filter(submission=OuterRef("pk"), juror__user=user)))
        .select_related("line__commitment__agency__parent", "line__commitment__competition", "line__target")
        .order_by("submitted_at", "pk")
    )
    if not include_earlier:
        queryset = current_only(queryset)
    if competition:
        queryset = queryset.filter(line__commitment__competition_id=competition)
    if target:
        queryset = queryset.filter(line__target__code=target)
    if agency:
        queryset = queryset.filter(line__commitment__agency__code=agency)
    if group:
        queryset = queryset.filter(line__commitment__agency__parent__code=group)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def current_only(queryset):
    """Leave out reports superseded by a later accepted report of the same line."""
    later = Submission.objects.filter(
        line=OuterRef("line"), status=SubmissionStatus.ACCEPTED, reported_on__gt=OuterRef("reported_on")
    )
    return queryset.exclude(Exists(later))


def progress_of(user, competition=None):
    """{"scored": n, "total": m} of a reviewer: of the submissions they should score now (those
    of their queue and those they scored), how many they scored (1 aggregate query more than
    the queue's set-up). None for a user on no jury."""
    if not seats_of(user).exists():
        return None
    queryset = reviewable_for(user, competition=competition).filter(line__commitment__competition__jurors__user=user)
    totals = queryset.order_by().aggregate(
        total=Count("pk", distinct=True), scored=Count("pk", filter=Q(scored_by_me=True), distinct=True)
    )
    return {"scored": totals["scored"] or 0, "total": totals["total"] or 0}


def seat_for(user, submission):
    return Juror.objects.filter(user=user, competition_id=submission.line.commitment.competition_id).first()


def can_see_others_scores(user, submission):
    """Blind review: a reviewer sees the others' points only after saving their own; managers
    of the competition always do."""
    if permissions.manages(user, submission.line.commitment.competition_id) or user.is_superuser:
        return True
    return JuryScore.objects.filter(submission=submission, juror__user=user).exists()


def can_review(user, submission):
    """May open the scoring screen of this submission: a reviewer of its line (neither
    affiliated nor in declared conflict with its agency, and on its panel where the competition
    has panels), or a manager of its competition."""
    seat = seat_for(user, submission)
    if seat is not None:
        if seat.has_conflict_with(submission.line.commitment.agency_id):
            return False
        if panels.counts_for(submission, seat):
            return True
    return permissions.manages(user, submission.line.commitment.competition_id) or user.is_superuser


def reviews_line(seat, submission):
    """The seat's juror is a reviewer of the submission's line (not in conflict, on its panel)."""
    return (
        seat is not None
        and not seat.has_conflict_with(submission.line.commitment.agency_id)
        and panels.counts_for(submission, seat)
    )


@transaction.atomic
def record_score(submission, user, points, comment=""):
    """Create or change the user's score for `submission`; every change is audited with the old
    and the new points."""
    # The submission's row is locked for the rest of the transaction, so that scores of one
    # submission are recorded one after the other: two first scores by one reviewer arriving
    # together then update one row instead of colliding on the unique constraint.
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("line__commitment__competition", "line__commitment__agency", "line__target")
        .get(pk=submission.pk)
    )
    seat = seat_for(user, submission)
    if seat is None:
        raise PermissionDenied(_("You are not a reviewer of this competition."))
    if not seat.has_conflict_with(submission.line.commitment.agency_id) and not panels.counts_for(submission, seat):
        raise ValidationError(_("You are not on the review panel of this line: your score would not count."))
    competition = submission.line.commitment.competition
    if competition.closed:
        raise ValidationError(_("The competition is closed: scores can no longer change."))
    score = JuryScore.objects.select_for_update().filter(submission=submission, juror=seat).first()
    previous = None if score is None else (score.points, score.comment)
    if score is None:
        score = JuryScore(submission=submission, juror=seat)
    score.points, score.comment = points, comment
    score.counted = True  # a reviewer of the line (checked above)
    score.full_clean(validate_constraints=False)
    score.save()
    log(
        instance=submission,
        action="competition.score",
        user=user,
        data={
            "juror": user.get_username(),
            "old_points": None if previous is None else _plain(previous[0]),
            "new_points": _plain(points),
            "old_comment": None if previous is None else previous[1],
            "new_comment": comment,
        },
    )
    return score


def _plain(value):
    return format(Decimal(value).normalize(), "f")


def suggested_points(submission):
    """P * max_points for the submission's value (docs/scoring.md, sections 3 and 6)."""
    line = submission.line
    target = line.target
    baseline = target.baseline if line.baseline is None else line.baseline
    goal = target.target_value if line.target_value is None else line.target_value
    progress = scoring.progress(submission.value, baseline, goal, target.unit, target.direction)
    return progress * target.max_points


def score_summary(submission):
    """Every score of the submission with the aggregate under the competition's method and the
    spread (standard deviation, min, max), flagged when reviewers disagree strongly."""
    competition = submission.line.commitment.competition
    scores = list(submission.scores.select_related("juror__user").order_by("juror__user__username"))
    # Scores by reviewers no longer on the line's panel are listed but do not count.
    points = [score.points for score in scores if score.counted]
    summary = {"scores": scores, "aggregate": scoring.aggregate(points, competition.jury_aggregation)}
    if points:
        low, high = min(points), max(points)
        summary.update(
            low=low,
            high=high,
            stdev=Decimal(statistics.pstdev(points)) if len(points) > 1 else Decimal(0),
            disagreement=(high - low) > DISAGREEMENT_SHARE * submission.line.target.max_points,
        )
    return summary


def reviewer_offsets(competition):
    """Per reviewer: how far their points sit from the other reviewers' mean on the same
    submissions, as a share of the target's maximum (positive: lenient; negative: harsh)."""
    by_submission = {}
    for submission_id, username, points, max_points in JuryScore.objects.filter(
        submission__line__commitment__competition=competition, counted=True
    ).values_list("submission_id", "juror__user__username", "points", "submission__line__target__max_points"):
        by_submission.setdefault(submission_id, []).append((username, points, max_points))
    offsets = {}
    for entries in by_submission.values():
        if len(entries) < 2:
            continue
        for username, points, max_points in entries:
            others = [p for name, p, _m in entries if name != username]
            offsets.setdefault(username, []).append((points - sum(others) / len(others)) / max_points)
    return sorted(
        (
            {"reviewer": name, "scored": len(values), "mean_offset": sum(values) / len(values)}
            for name, values in offsets.items()
        ),
        key=lambda row: row["mean_offset"],
    )
