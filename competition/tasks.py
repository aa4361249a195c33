"""The app's background work, as tasks of Django's task framework (the `django_tasks` backport
that Wagtail 8 uses for its own): after a change, recomputing a competition's boards and purging
its public URLs from a CDN; decision and reminder e-mails; large imports from the admin.

Which backend runs them is the site's choice (settings.TASKS): the immediate backend runs each
task as it is enqueued, in the same process (development, tests); the database backend of
`django-tasks-db` keeps them for the `db_worker` command (production, docs/deployment.md). Every
task is enqueued after the transaction that made its change commits, and takes plain ids, never
model instances: a worker reads the committed rows itself."""

import logging

from django.db import transaction
from django_tasks import task

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_, *args, **kwargs):
    """Enqueue `task_` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_.enqueue(*args, **kwargs))


@task()
def refresh_competition(competition_id, rebuild=True):
    """After a change to a competition's data (its cache version is already bumped): compute its
    public boards again, then purge its public URLs from the CDN, if one is configured; in this
    order, so that the CDN, asking again, gets pages made from the new boards."""
    from .domain import frontend, warming

    warming.started(competition_id)
    days = []
    if rebuild:
        try:
            days = warming.rebuild(competition_id)
        except Exception:
            # A failed rebuild only costs speed (the next reader computes the board); the purge
            # must happen all the same.
            logger.exception("Rebuilding the boards of competition %s failed", competition_id)
    purged = frontend.purge_competition(competition_id)
    return {"boards": [day.isoformat() for day in days], "purged": purged}


@task()
def send_decision_email(submission_id):
    """E-mail the agency's editors the decision on their submission."""
    from .domain.evidence import notify_decision
    from .models import Submission

    submission = (
        Submission.objects.select_related("line__target", "line__commitment__competition")
        .filter(pk=submission_id)
        .first()
    )
    return notify_decision(submission) if submission is not None else 0


@task()
def send_reminder(user_id, day, within_days):
    """Send one editor's reminder of `day` (ISO date), unless it was sent already. Returns
    "sent", "already sent" or "nothing due"."""
    from datetime import date

    from .domain.reminders import send_reminder_to

    return send_reminder_to(user_id, date.fromisoformat(day), within_days)


@task()
def run_import_job(job_id, token, kind, competition, user_id, file_name):
    """Import a file confirmed in the admin (competition.domain.import_jobs), noting its progress
    for the job's page."""
    from .domain.import_jobs import run

    return run(job_id, token, kind, competition, user_id, file_name)
