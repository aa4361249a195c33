"""What is due: the reporting deadlines of a competition and, for each commitment target, the
deadlines it has met, missed or still has ahead. A deadline is met by a submitted or accepted
submission reported after the previous deadline and on or before this one."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from ..enums import ReportingSchedule, SubmissionStatus
from ..models import CommitmentLine, Submission
from .presentation import month_ends

COUNTING = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED)


def reporting_deadlines(competition):
    """The competition's reporting deadlines in date order, inside its period."""
    days = {deadline.date for deadline in competition.reporting_deadlines.all()}
    schedule = competition.reporting_schedule
    if schedule in (ReportingSchedule.MONTHLY, ReportingSchedule.QUARTERLY):
        for day in month_ends(competition.start_date, competition.end_date):
            if schedule == ReportingSchedule.MONTHLY or day.month in (3, 6, 9, 12) or day == competition.end_date:
                days.add(day)
    return sorted(day for day in days if competition.start_date <= day <= competition.end_date)


@dataclass(frozen=True)
class DueItem:
    line: CommitmentLine
    deadline: date
    overdue: bool


def due_items(lines, today=None, within_days=14):
    """For `lines` (with commitment__competition loaded), the deadlines not yet met that have
    passed (overdue) or fall within `within_days` (due soon). Two queries plus the deadlines."""
    today = today or timezone.localdate()
    lines = list(lines)
    reported = defaultdict(list)
    for line_id, reported_on in Submission.objects.filter(
        line__in=[line.pk for line in lines], status__in=COUNTING
    ).values_list("line_id", "reported_on"):
        reported[line_id].append(reported_on)
    deadlines_of = {}
    items = []
    for line in lines:
        competition = line.commitment.competition
        if competition.pk not in deadlines_of:
            deadlines_of[competition.pk] = reporting_deadlines(competition)
        previous = competition.start_date - timedelta(days=1)
        for deadline in deadlines_of[competition.pk]:
            window_start = previous
            previous = deadline
            if deadline > today + timedelta(days=within_days):
                break
            if any(window_start < day <= deadline for day in reported[line.pk]):
                continue
            items.append(DueItem(line=line, deadline=deadline, overdue=deadline < today))
    return sorted(items, key=lambda item: (item.deadline, item.line.commitment.agency.code, item.line.target.code))


# A competition whose judging is closed refuses every new value until a manager reopens it
# (permissions.can_change_submission): nothing is due there, and nobody is told to report.
OPEN = {"commitment__live": True, "target__live": True, "commitment__competition__closed": False}


def lines_for_agencies(agency_ids):
    return (
        CommitmentLine.objects.filter(commitment__agency_id__in=agency_ids, **OPEN)
        .select_related("commitment__agency", "commitment__competition", "target")
        .prefetch_related("commitment__competition__reporting_deadlines")
    )


def lines_for_competitions(competition_ids):
    return (
        CommitmentLine.objects.filter(commitment__competition_id__in=competition_ids, **OPEN)
        .select_related("commitment__agency", "commitment__competition", "target")
        .prefetch_related("commitment__competition__reporting_deadlines")
    )
