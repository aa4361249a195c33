"""Imports confirmed in the admin, run as tasks (competition.tasks.run_import_job): a large file
takes minutes, longer than a request may, and its progress (rows done of all rows) and then its
result are shown on the job's page while a task worker imports it.

The work itself depends on nothing but the task's arguments and the uploaded file (kept in
default storage, shared by every machine, until the task ends); the job's state, which the page
shows, is kept in the app's shared cache for a day. Were the cache emptied meanwhile, the page
says so, and the import itself is unaffected: it is one transaction, recorded in the list of
recent imports when it succeeds."""

import logging
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from .. import permissions
from .scoreboard import board_cache

logger = logging.getLogger(__name__)

PENDING = "competition-imports"
KEEP_SECONDS = 60 * 60 * 24
# How often, at most, a running import writes its progress to the cache.
PROGRESS_SECONDS = 0.5
# Errors kept for the page (the preview showed them all, row by row, before the confirmation).
MAX_ERRORS = 50

WAITING, RUNNING, DONE, FAILED = "waiting", "running", "done", "failed"


def _key(job_id):
    return f"competition:import-job:{job_id}"


def get(job_id):
    """The job's state (a dict), or None if it is unknown or forgotten."""
    return board_cache().get(_key(job_id))


def _save(job_id, state):
    board_cache().set(_key(job_id), state, timeout=KEEP_SECONDS)


def claim(token):
    """Whether this confirmation is the first for the pending file `token` (a file imports once,
    however many times its form is sent)."""
    return board_cache().add(f"competition:import-claim:{token}", 1, timeout=KEEP_SECONDS)


def start(*, token, kind, competition, user, file_name):
    """Enqueue the import of the pending file `token` once the request's transaction commits;
    return the job's id."""
    from ..tasks import enqueue_on_commit, run_import_job

    job_id = uuid.uuid4().hex
    _save(
        job_id,
        {
            "user_id": user.pk,
            "kind": kind,
            "competition": competition or "",
            "file_name": file_name,
            "state": WAITING,
            "done": 0,
            "total": None,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "errors": [],
        },
    )
    enqueue_on_commit(run_import_job, job_id, token, kind, competition or "", user.pk, file_name)
    return job_id


def run(job_id, token, kind, competition, user_id, file_name):
    """Import the pending file (the task's work): one transaction, as the command and the former
    screen did, with the competitions the user manages now. Returns the result (also kept in the
    job's state): {"state", "created", "updated", "unchanged", "errors"}."""
    from ..import_views import allowed_competitions
    from ..imports import ImportFileError, load_dataset, run_import

    state = get(job_id) or {"user_id": user_id, "kind": kind, "competition": competition, "file_name": file_name}
    path = f"{PENDING}/{token}"

    def finish(outcome, errors=(), report=None):
        state.update(
            state=outcome,
            errors=list(errors)[:MAX_ERRORS],
            error_count=len(errors),
            created=report.created if report else 0,
            updated=report.updated if report else 0,
            unchanged=report.unchanged if report else 0,
        )
        _save(job_id, state)
        return {key: state[key] for key in ("state", "created", "updated", "unchanged", "errors")}

    try:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None or not (user.is_superuser or permissions.is_manager(user)):
            return finish(FAILED, [_("The user who confirmed this import may no longer import.")])
        if not default_storage.exists(path):
            return finish(FAILED, [_("The file of this import is no longer kept; upload it again.")])
        with default_storage.open(path, "rb") as handle:
            content = handle.read()
        try:
            dataset = load_dataset(content, token.rsplit(".", 1)[1])
        except ImportFileError as error:
            return finish(FAILED, [str(error)])
        state.update(state=RUNNING, done=0, total=len(dataset))
        _save(job_id, state)
        last = [time.monotonic()]

        def progress(done, total):
            now = time.monotonic()
            if done >= total or now - last[0] >= PROGRESS_SECONDS:
                last[0] = now
                state.update(done=min(done, total), total=total)
                _save(job_id, state)

        report = run_import(
            kind,
            dataset,
            competition=competition or None,
            user=user,
            allowed_competitions=allowed_competitions(user),
            progress=progress,
            file_name=file_name,
        )
        if not report.ok:
            # The data changed since the preview: nothing was written.
            return finish(FAILED, report.errors)
        state["done"] = state["total"]
        return finish(DONE, report=report)
    except Exception:
        logger.exception("The import job %s failed", job_id)
        finish(FAILED, [_("The import failed unexpectedly: nothing was imported. Try again, or tell the site's team.")])
        raise
    finally:
        default_storage.delete(path)
