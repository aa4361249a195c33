"""Closing and reopening a competition's judging (docs/scoring.md, section 6).

While judging is open, the public boards leave the jury's points out: reviewers stay blind to each
other and the public reads computed, provisional results. Closing publishes the jury's points on
every public board and locks the scores; reopening (with a reason) hides them again. Both are a
manager's action, written to Wagtail's audit log; the page's `closed` state is kept across its
revisions (`CompetitionPage.with_content_json`), and every kept board and page of the competition
is dropped at once (`competition.signals`), so that no reader is served the other state."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..models import CompetitionPage

CLOSE = "competition.judging_close"
REOPEN = "competition.judging_reopen"
MAX_REASON = 1000


def _locked(competition):
    """The competition's row, locked until the end of the transaction (so that two managers
    clicking at once close it once)."""
    return CompetitionPage.objects.select_for_update().get(pk=competition.pk)


def _store(competition, current):
    for name in CompetitionPage.JUDGING_FIELDS:
        setattr(competition, name, getattr(current, name))


@transaction.atomic
def close_judging(competition, user=None):
    """Close judging: the jury's points become public and scores can no longer change."""
    current = _locked(competition)
    if current.closed:
        raise ValidationError(_("Judging of this competition is already closed."))
    current.closed = True
    current.closed_at = timezone.now()
    current.closed_by = user if getattr(user, "is_authenticated", False) else None
    current.save(update_fields=list(CompetitionPage.JUDGING_FIELDS), clean=False)
    log(instance=current, action=CLOSE, user=user, data={"closed_at": current.closed_at.isoformat()})
    _store(competition, current)
    return current


@transaction.atomic
def reopen_judging(competition, user=None, reason=""):
    """Reopen judging, for a reason the audit log keeps: the public boards leave the jury's
    points out again and reviewers may change their scores."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why judging reopens: the reason is kept in the history.")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("Keep the reason under %(n)d characters.") % {"n": MAX_REASON}})
    if "\x00" in reason:
        raise ValidationError({"reason": _("Null characters are not allowed.")})
    current = _locked(competition)
    if not current.closed:
        raise ValidationError(_("Judging of this competition is open already."))
    closed_at = current.closed_at
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
