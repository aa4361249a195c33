"""Self-assessment (tự chấm điểm) in public: the points each agency proposed for the submission
that supplies a line's value (docs/scoring.md, section 2), published only once judging is closed
and never counted (docs/registration.md, docs/opendata.md)."""

from django.db.models import F

from ..enums import SubmissionStatus
from ..models import Submission


def self_points_of(competition, board, agency_code=None):
    """{(agency code, target code): the agency's own points or None} for the submissions the board
    reads (the latest accepted one reported on or before its date, then the later decision, then
    the higher key, as the board chooses). Empty while judging is open (on the board of
    `competition`, a CompetitionPage). One query."""
    if not (competition.closed and board.competition.closed):
        return {}
    submissions = Submission.objects.filter(
        line__commitment__competition_id=competition.pk,
        status=SubmissionStatus.ACCEPTED,
        reported_on__lte=board.as_of,
    )
    if agency_code is not None:
        submissions = submissions.filter(line__commitment__agency__code=agency_code)
    found = {}
    rows = submissions.order_by(
        "line_id", F("reported_on").desc(), F("decided_at").desc(nulls_last=True), F("pk").desc()
    ).values_list("line_id", "line__commitment__agency__code", "line__target__code", "self_points")
    seen = set()
    for line_id, agency, target, points in rows:
        if line_id in seen:
            continue
        seen.add(line_id)
        found[agency, target] = points
    return found
