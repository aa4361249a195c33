"""Actions on evidence: submitting, and the manager's decision (accept, return, reject). Each
checks the actor's permission and the state machine, saves a revision, writes an entry to
Wagtail's audit log and tells the people concerned by e-mail."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..enums import SubmissionStatus
from ..validators import validate_judging_open, validate_no_nul
from .languages import mail_in_each_language, short_date
from .transitions import record_transition

DECISIONS = {
    "accept": SubmissionStatus.ACCEPTED,
    "return": SubmissionStatus.RETURNED,
    "reject": SubmissionStatus.REJECTED,
}
LOG_ACTIONS = {
    SubmissionStatus.SUBMITTED: "competition.submit",
    SubmissionStatus.ACCEPTED: "competition.accept",
    SubmissionStatus.RETURNED: "competition.return",
    SubmissionStatus.REJECTED: "competition.reject",
}


def _transition(submission, user, status, note=""):
    previous = submission.status
    if not submission.can_transition_to(status):
        raise ValidationError(
            _("This submission is %(old)s: it cannot become %(new)s.")
            % {"old": SubmissionStatus(previous).label.lower(), "new": SubmissionStatus(status).label.lower()}
        )
    record_transition(
        submission, user, status, submitted=SubmissionStatus.SUBMITTED, action=LOG_ACTIONS[status], note=note
    )
    return submission


@transaction.atomic
def submit(submission, user):
    """An editor hands a draft (or a returned submission) to the managers."""
    submission = type(submission).objects.select_for_update().get(pk=submission.pk)
    if not permissions.can_submit_submission(user, submission):
        raise PermissionDenied
    submission.full_clean()
    return _transition(submission, user, SubmissionStatus.SUBMITTED)


@transaction.atomic
def decide(submission, user, decision, note=""):
    """A manager accepts, returns (with a reason the editor reads) or rejects a submission."""
    submission = type(submission).objects.select_for_update().get(pk=submission.pk)
    if decision not in DECISIONS:
        raise ValidationError(_("Unknown decision."))
    # Said first: why a manager of the competition may not decide any more.
    validate_judging_open(submission.line.commitment.competition)
    if not permissions.can_decide_submission(user, submission):
        raise PermissionDenied
    note = (note or "").strip()
    validate_no_nul(note)
    if decision in ("return", "reject") and not note:
        raise ValidationError(_("Give the reason, so that the agency knows what to do."))
    _transition(submission, user, DECISIONS[decision], note)
    # A task, once committed: the e-mail goes out from a worker, never holding the request.
    from ..tasks import enqueue_on_commit, send_decision_email

    enqueue_on_commit(send_decision_email, submission.pk)
    return submission


def pending_decisions(user):
    """Submissions waiting for the user's decision (submitted, in competitions they manage whose
    judging is open; every one for a superuser), the longest waiting first."""
    from ..models import Submission

    queryset = Submission.objects.filter(
        status=SubmissionStatus.SUBMITTED, line__commitment__competition__closed=False
    ).order_by("submitted_at", "pk")
    if not user.is_superuser:
        queryset = queryset.filter(line__commitment__competition_id__in=permissions.managed_competition_ids(user))
    return queryset


def next_pending(user, after=None):
    """The next submission waiting for the user's decision (never `after`), or None."""
    queryset = pending_decisions(user)
    if after is not None:
        queryset = queryset.exclude(pk=after.pk)
    return queryset.first()


def editors_of(submission):
    from ..models import AgencyMembership

    return [
        membership.user
        for membership in AgencyMembership.objects.filter(agency_id=submission.line.commitment.agency_id)
        .select_related("user__wagtail_userprofile")
        .filter(user__is_active=True)
    ]


def notify_decision(submission):
    """E-mail the agency's editors that their submission was accepted, returned or rejected, each
    in their admin language (one e-mail per language)."""
    return mail_in_each_language(editors_of(submission), lambda: decision_message(submission))


def submission_admin_url(submission):
    """The absolute address of the submission in the admin (its Inspect page), for e-mails."""
    from django.conf import settings
    from django.urls import reverse

    base = (getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "").rstrip("/")
    return base + reverse("wagtailsnippets_competition_submission:inspect", args=[submission.pk])


def decision_message(submission):
    """The decision e-mail in the active language: dates and the value formatted for it (the value
    without needless trailing zeros), the time of the decision in the site's time zone, and a link
    to the submission."""
    from django.utils.formats import date_format

    from ..templatetags.competition_tags import measured

    target = submission.line.target
    day = short_date(submission.reported_on)
    subject = _("[%(competition)s] %(target)s, %(day)s: %(status)s") % {
        "competition": submission.line.commitment.competition.title,
        "target": target.code,
        "day": day,
        "status": submission.get_status_display(),
    }
    body = _(
        "Your submission for %(target)s (%(title)s), reported on %(day)s with the value %(value)s, was %(status)s."
    ) % {
        "target": target.code,
        "title": target.title,
        "day": day,
        "value": f"{measured(submission.value)} ({target.get_unit_display().lower()})",
        "status": submission.get_status_display().lower(),
    }
    if submission.decided_at:
        body += " " + _("Decided on %(when)s.") % {
            "when": date_format(timezone.localtime(submission.decided_at), "DATETIME_FORMAT")
        }
    if submission.decision_note:
        body += "\n\n" + _("Reason: %(note)s") % {"note": submission.decision_note}
    body += "\n\n" + _("See the submission: %(url)s") % {"url": submission_admin_url(submission)}
    return subject, body
