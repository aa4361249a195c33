"""Reminder e-mails: each editor hears what is due within N days or overdue for their agencies,
and what was returned to them; at most one e-mail per editor per day. Each editor's reminder is
a task (competition.tasks.send_reminder), so that a worker sends them, and a failure to send
one is retried without resending the others."""

from collections import Counter

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..enums import SubmissionStatus
from ..models import AgencyMembership, Reminder, Submission
from .due import due_items, lines_for_agencies
from .languages import preferred_language, short_date
from .registration import reminder_lines as registration_reminders


def reminder_text(user, agency_ids, today, within_days):
    items = due_items(lines_for_agencies(agency_ids), today=today, within_days=within_days)
    # A returned submission of a competition whose judging is closed cannot be sent again.
    returned = Submission.objects.filter(
        line__commitment__agency_id__in=agency_ids,
        status=SubmissionStatus.RETURNED,
        line__commitment__competition__closed=False,
    ).select_related("line__commitment__agency", "line__target")
    lines = []
    for item in items:
        line = item.line
        what = _("overdue since %(day)s") if item.overdue else _("due by %(day)s")
        lines.append(
            f"- {line.commitment.agency.name} · {line.target.code} {line.target.title}: "
            + what % {"day": short_date(item.deadline)}
        )
    for submission in returned:
        lines.append(
            f"- {submission.line.commitment.agency.name} · {submission.line.target.code}, "
            f"{short_date(submission.reported_on)}: "
            + _("returned to you: %(note)s")
            % {"note": submission.decision_note}
        )
    lines.extend(registration_reminders(agency_ids, today, within_days))
    if not lines:
        return None
    return _("Hello %(name)s,\n\nThis is what needs your attention:\n\n") % {
        "name": user.get_full_name() or user.get_username()
    } + "\n".join(lines)


def send_reminder_to(user_id, today, within_days):
    """Send an editor today's reminder (in their admin language) unless it was sent already.
    Returns "sent", "already sent" or "nothing due"."""
    agency_ids = set(
        AgencyMembership.objects.filter(user_id=user_id, user__is_active=True).values_list("agency_id", flat=True)
    )
    membership = (
        AgencyMembership.objects.filter(user_id=user_id, user__is_active=True)
        .select_related("user__wagtail_userprofile")
        .first()
    )
    if membership is None or not membership.user.email:
        return NOTHING_DUE
    user = membership.user
    with translation.override(preferred_language(user)):
        text = reminder_text(user, agency_ids, today, within_days)
        subject = _("Reporting reminder for %(day)s") % {"day": short_date(today)}
    if text is None:
        return NOTHING_DUE
    try:
        with transaction.atomic():
            Reminder.objects.create(user=user, day=today)
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    except IntegrityError:
        return ALREADY_SENT
    return SENT


SENT, ALREADY_SENT, NOTHING_DUE, QUEUED, FAILED = "sent", "already sent", "nothing due", "queued", "failed"


def enqueue_reminders(within_days=7, today=None):
    """Enqueue today's reminder of every active editor with an e-mail address who has not had it
    yet, one task each (competition.tasks.send_reminder); return how many ended in each outcome
    (SENT, ALREADY_SENT, NOTHING_DUE, FAILED; QUEUED while a worker has yet to run them)."""
    from django_tasks import TaskResultStatus

    from ..tasks import send_reminder

    today = today or timezone.localdate()
    editors = set(
        AgencyMembership.objects.filter(user__is_active=True).exclude(user__email="").values_list("user_id", flat=True)
    )
    reminded = set(Reminder.objects.filter(day=today, user_id__in=editors).values_list("user_id", flat=True))
    outcomes = Counter({ALREADY_SENT: len(reminded)})
    for user_id in sorted(editors - reminded):
        result = send_reminder.enqueue(user_id, today.isoformat(), within_days)
        if result.status == TaskResultStatus.SUCCESSFUL:
            outcomes[result.return_value] += 1
        elif result.status == TaskResultStatus.FAILED:
            outcomes[FAILED] += 1
        else:
            outcomes[QUEUED] += 1
    return outcomes


def send_reminders(within_days=7, today=None):
    """Send today's reminders (through the task queue); return (sent, skipped because already
    sent today). Reminders a worker has yet to send are in neither."""
    outcomes = enqueue_reminders(within_days, today)
    return outcomes[SENT], outcomes[ALREADY_SENT]
