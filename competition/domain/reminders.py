"""Reminder e-mails: each editor hears what is due within N days or overdue for their agencies,
and what was returned to them; at most one e-mail per editor per day."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..enums import SubmissionStatus
from ..models import AgencyMembership, Reminder, Submission
from .due import due_items, lines_for_agencies
from .languages import preferred_language
from .registration import reminder_lines as registration_reminders


def reminder_text(user, agency_ids, today, within_days):
    items = due_items(lines_for_agencies(agency_ids), today=today, within_days=within_days)
    returned = Submission.objects.filter(
        line__commitment__agency_id__in=agency_ids, status=SubmissionStatus.RETURNED
    ).select_related("line__commitment__agency", "line__target")
    lines = []
    for item in items:
        line = item.line
        what = _("overdue since %(day)s") if item.overdue else _("due by %(day)s")
        lines.append(
            f"- {line.commitment.agency.name} · {line.target.code} {line.target.title}: "
            + what % {"day": item.deadline.isoformat()}
        )
    for submission in returned:
        lines.append(
            f"- {submission.line.commitment.agency.name} · {submission.line.target.code}, "
            f"{submission.reported_on.isoformat()}: "
            + _("returned to you: %(note)s")
            % {"note": submission.decision_note}
        )
    lines.extend(registration_reminders(agency_ids, today, within_days))
    if not lines:
        return None
    return _("Hello %(name)s,\n\nThis is what needs your attention:\n\n") % {
        "name": user.get_full_name() or user.get_username()
    } + "\n".join(lines)


def send_reminders(within_days=7, today=None):
    """Send today's reminders; return (sent, skipped because already sent today)."""
    today = today or timezone.localdate()
    agencies_of = {}
    for user_id, agency_id in AgencyMembership.objects.filter(user__is_active=True).values_list("user_id", "agency_id"):
        agencies_of.setdefault(user_id, set()).add(agency_id)
    memberships = AgencyMembership.objects.filter(user_id__in=agencies_of).select_related("user__wagtail_userprofile")
    users = {membership.user_id: membership.user for membership in memberships}
    sent = skipped = 0
    for user_id, user in sorted(users.items()):
        if not user.email:
            continue
        with translation.override(preferred_language(user)):
            text = reminder_text(user, agencies_of[user_id], today, within_days)
            subject = _("Reporting reminder for %(day)s") % {"day": today.isoformat()}
        if text is None:
            continue
        try:
            with transaction.atomic():
                Reminder.objects.create(user=user, day=today)
                send_mail(
                    subject,
                    text,
                    settings.DEFAULT_FROM_EMAIL,
                    [user.email],
                )
        except IntegrityError:
            skipped += 1
            continue
        sent += 1
    return sent, skipped
