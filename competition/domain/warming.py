"""Recomputing boards when their data changes, so that readers never wait for them: after a
commit, the boards the public pages show (today's, and the month ends of the progress chart)
are computed again while readers are served the previous ones."""

import logging
import threading

from django.db import close_old_connections, connections

from .. import conf
from ..models import CompetitionPage
from .presentation import month_ends
from .scoreboard import get_board, resolve_as_of

logger = logging.getLogger(__name__)


def public_board_days(competition):
    """The dates of the boards a competition page shows by default, most read first: today
    (clamped into the period), then the month ends of the progress chart, latest first."""
    today = resolve_as_of(competition)
    days = [today]
    days += [day for day in reversed(month_ends(competition.start_date, today)) if day != today]
    return days


def rebuild(competition_id):
    """Compute the public boards of a live competition again (each under the cache lock, so
    that no other process computes the same board meanwhile). Returns the dates computed."""
    competition = CompetitionPage.objects.live().filter(pk=competition_id).first()
    if competition is None:
        return []
    days = public_board_days(competition)
    for day in days:
        get_board(competition, day, fresh=True)
    return days


_pending = set()
_pending_lock = threading.Lock()
_worker = None


def _drain():
    """The background worker: rebuild pending competitions until none is left. Changes made
    meanwhile (say, a hundred saves in one admin action) are coalesced into one more rebuild."""
    global _worker
    close_old_connections()
    try:
        while True:
            with _pending_lock:
                if not _pending:
                    _worker = None
                    return
                ids = sorted(_pending)
                _pending.clear()
            for competition_id in ids:
                try:
                    rebuild(competition_id)
                except Exception:
                    # A failed rebuild only costs speed: the next reader computes the board.
                    logger.exception("Rebuilding the boards of competition %s failed", competition_id)
    finally:
        with _pending_lock:
            if _worker is threading.current_thread():
                _worker = None
        connections.close_all()


def rebuild_later(competition_ids):
    """Recompute the boards of these competitions as COMPETITION_REBUILD_BOARDS says: in a
    background thread of this process, at once, or not at all. Returns the background thread,
    if one was started."""
    global _worker
    ids = set(competition_ids)
    mode = conf.get("REBUILD_BOARDS")
    if not ids or not mode:
        return None
    if mode == "inline":
        for competition_id in sorted(ids):
            rebuild(competition_id)
        return None
    with _pending_lock:
        _pending.update(ids)
        if _worker is not None:
            return None
        # Not a daemon: a command that made the change finishes the rebuild before it exits,
        # rather than leaving a lock behind that makes readers serve stale boards until it expires.
        _worker = threading.Thread(target=_drain, name="competition-board-rebuild")
        _worker.start()
        return _worker
