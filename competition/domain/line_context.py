"""What an editor or a manager needs to see beside a commitment target's figures: its unit,
direction, the agency's baseline and target value, the deadline and the agency's last accepted
value, formatted for the reader's language (the form's panel, the decision screen)."""

from django.db.models import OuterRef, Subquery
from django.utils.formats import date_format

from ..templatetags.competition_tags import measured


def annotate_last_accepted(lines):
    """`lines` (a CommitmentLine queryset) with `last_value` and `last_reported_on`: the
    agency's latest accepted report of each (one query, whatever the number of lines)."""
    from ..models import Submission

    latest = Submission.objects.accepted().filter(line=OuterRef("pk")).order_by("-reported_on", "-pk")
    return lines.annotate(
        last_value=Subquery(latest.values("value")[:1]),
        last_reported_on=Subquery(latest.values("reported_on")[:1]),
    )


def facts(line):
    """The line's context as display strings (`line` annotated by `annotate_last_accepted`, with
    its target and competition loaded)."""
    target = line.target
    deadline = target.deadline or line.commitment.competition.end_date
    last_value = getattr(line, "last_value", None)
    last_on = getattr(line, "last_reported_on", None)
    return {
        "unit": target.get_unit_display(),
        "direction": target.get_direction_display(),
        "baseline": measured(line.effective_baseline),
        "target_value": measured(line.effective_target_value),
        "deadline": date_format(deadline, "DATE_FORMAT") if deadline else "—",
        "last_value": measured(last_value) if last_value is not None else "",
        "last_reported_on": date_format(last_on, "DATE_FORMAT") if last_on else "",
    }


def earlier_values(submission, limit=12):
    """The agency's accepted values for the submission's target other than this one, latest first."""
    from ..models import Submission

    return (
        Submission.objects.accepted()
        .filter(line_id=submission.line_id)
        .exclude(pk=submission.pk)
        .order_by("-reported_on", "-pk")[:limit]
    )
