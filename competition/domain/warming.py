"""Recomputing boards when their data changes, so that readers never wait for them: after a
commit, the boards the public pages show (today's), the parts of their scoreboard.json and the
history of the competition page's progress chart are computed again, in a task of the task
framework (competition.tasks), while readers are served the previous ones."""

import logging

from .. import conf
from ..models import CompetitionPage
from . import slices
from .history import kept_month_figures, refresh
from .presentation import month_ends
from .scoreboard import board_cache, board_version, get_board, resolve_as_of

logger = logging.getLogger(__name__)


def public_board_days(competition):
    """The dates of the boards a competition page shows by default: today, clamped into the
    period. (The month ends of its progress chart need no board: `domain.history`.)"""
    return [resolve_as_of(competition)]


def rebuild(competition_id):
    """Bring the summary of the history of its progress chart up to date (`history.refresh`:
    the agencies marked out of date since the last refresh), compute the public boards of a live
    competition again (each under the cache lock, so that no other process computes the same
    board meanwhile), and the history of its progress chart. Returns the dates of the boards
    computed."""
    competition = CompetitionPage.objects.live().filter(pk=competition_id).first()
    if competition is None:
        return []
    refresh(competition.pk)
    days = public_board_days(competition)
    for day in days:
        version = board_version(competition.pk)  # read before the board, as get_board does
        board = get_board(competition, day, fresh=True)
        # The parts of its scoreboard.json, for the slices (`?group=`, `?agency=`).
        slices.keep(competition, day, slices.Parts(competition, board), version)
    today = days[0]
    kept_month_figures(competition, month_ends(competition.start_date, today)[:-1])
    return days


# While a refresh of a competition waits in the queue, further changes need no other one: the
# waiting task reads the data as it is when it runs. A task removes its mark when it starts (a
# change made while it runs queues the next one); the mark expires should the task never run.
QUEUED_SECONDS = 600


def _queued_key(competition_id):
    return f"competition:refresh-queued:{competition_id}"


def started(competition_id):
    """A refresh of the competition starts: changes from now on queue another one."""
    try:
        board_cache().delete(_queued_key(competition_id))
    except Exception:  # noqa: BLE001 (whatever the cache backend raises)
        logger.warning("The cache is unavailable: refreshes of competition %s are not coalesced", competition_id)


def _first_in_queue(competition_id):
    try:
        return board_cache().add(_queued_key(competition_id), 1, timeout=QUEUED_SECONDS)
    except Exception:  # noqa: BLE001
        return True


def mode():
    """COMPETITION_REBUILD_BOARDS: "task" (a task of the task framework, the default; "thread",
    its former name, means the same), "inline" (at once, in the process that made the change) or
    "" (not at all: the next reader computes the boards)."""
    value = conf.get("REBUILD_BOARDS") or ""
    return "task" if value == "thread" else value


def rebuild_later(competition_ids):
    """After a committed change to these competitions (their cache versions already bumped):
    recompute their public boards as COMPETITION_REBUILD_BOARDS says, and purge their public URLs
    from the CDN if one is configured (competition.tasks.refresh_competition). At most one
    refresh per competition waits in the queue at a time. Returns the ids of the competitions
    whose refresh was enqueued."""
    from ..tasks import refresh_competition
    from . import frontend

    how = mode()
    purge = frontend.configured()
    enqueued = []
    for competition_id in sorted(set(competition_ids)):
        if how == "inline":
            rebuild(competition_id)
        in_task = how == "task"
        if not (in_task or purge) or not _first_in_queue(competition_id):
            continue
        try:
            refresh_competition.enqueue(competition_id, rebuild=in_task)
        except Exception:
            # The change is committed and its boards invalidated: a queue that cannot be reached
            # only costs speed (readers compute the boards), so the request goes on.
            logger.exception("The refresh of competition %s could not be enqueued", competition_id)
            started(competition_id)
            continue
        enqueued.append(competition_id)
    return enqueued
