"""Closing and reopening a competition's judging (docs/scoring.md, section 6; docs/results.md).

While judging is open, the public boards leave the jury's points out: reviewers stay blind to each
other and the public reads computed, provisional results. Closing publishes the result: the board
as of the competition's end, with the jury's points, is kept as it was computed (an
`OfficialResult`), the public boards count the jury's points, and nothing that counts on them
(values, decisions, scores, adjustments) may change. Reopening, with a reason, withdraws that
result (it stays in the history) until the next publication; once a commendation decision has
been recorded on a result, judging can no longer reopen. Both are a manager's action, written to
Wagtail's audit log; the page's judging state is kept across its revisions
(`CompetitionPage.with_content_json`), and every kept board and page of the competition is dropped
at once (`competition.signals`), so that no reader is served the other state."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..models import CommendationDecision, CompetitionPage, OfficialResult
from ..scoring import board_to_data
from ..validators import clean_reason

CLOSE = "competition.judging_close"
REOPEN = "competition.judging_reopen"


def _locked(competition):
    """The competition's row, locked until the end of the transaction (so that two managers
    clicking at once close it once)."""
    return CompetitionPage.objects.select_for_update().get(pk=competition.pk)


def _store(competition, current):
    for name in CompetitionPage.JUDGING_FIELDS:
        setattr(competition, name, getattr(current, name))


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def close_judging(competition, user=None):
    """Close judging and publish the result: the board as of the competition's end, with the
    jury's points, kept as computed now; the public boards count the jury's points and nothing
    that counts on them can change any more."""
    from .scoreboard import load_board

    current = _locked(competition)
    if current.closed:
        raise ValidationError(_("Judging of this competition is already closed."))
    current.closed = True
    current.closed_at = timezone.now()
    current.closed_by = _actor(user)
    board = load_board(current, current.end_date, with_jury=True)
    result = OfficialResult.objects.create(
        competition=current,
        as_of=board.as_of,
        board=board_to_data(board),
        published_at=current.closed_at,
        published_by=current.closed_by,
    )
    current.save(update_fields=list(CompetitionPage.JUDGING_FIELDS), clean=False)
    from .commendations import create_proposal

    create_proposal(current, result)
    log(
        instance=current,
        action=CLOSE,
        user=user,
        data={
            "closed_at": current.closed_at.isoformat(),
            "official_result": result.pk,
            "as_of": board.as_of.isoformat(),
        },
    )
    _store(competition, current)
    return current


def current_result(competition):
    """The competition's published result, or None while judging is open."""
    if not competition.closed:
        return None
    return OfficialResult.objects.filter(competition=competition, withdrawn_at__isnull=True).first()


@transaction.atomic
def reopen_judging(competition, user=None, reason=""):
    """Reopen judging, for a reason the audit log keeps: the public boards leave the jury's
    points out again and reviewers may change their scores."""
    reason = clean_reason(reason, _("Say why judging reopens: the reason is kept in the history."))
    current = _locked(competition)
    if not current.closed:
        raise ValidationError(_("Judging of this competition is open already."))
    decision = CommendationDecision.objects.filter(competition=current).first()
    if decision is not None:
        raise ValidationError(
            _(
                "The commendation decision %(number)s of %(day)s was issued on these results: judging can "
                "no longer reopen."
            )
            % {"number": decision.number, "day": decision.issued_on.isoformat()}
        )
    closed_at = current.closed_at
    OfficialResult.objects.filter(competition=current, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawn_by=_actor(user), withdrawn_reason=reason
    )
    current.closed = False
    current.closed_at = None
    current.closed_by = None
    current.save(update_fields=list(CompetitionPage.JUDGING_FIELDS), clean=False)
    log(
        instance=current,
        action=REOPEN,
        user=user,
        data={"reason": reason, "closed_at": closed_at.isoformat() if closed_at else None},
    )
    _store(competition, current)
    return current


def set_judging(competition, closed, user=None, reason=""):
    """Close or reopen judging as `closed` says; nothing when it already is so. Returns whether
    it changed (for imports: a `closed` column)."""
    if bool(closed) == competition.closed:
        return False
    if closed:
        close_judging(competition, user)
    else:
        reopen_judging(competition, user, reason)
    return True
