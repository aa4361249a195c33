"""The database backend of django-tasks-db with its worker, for real: a committed change enqueues
the refresh of its competition in the database, and `manage.py db_worker`, another process with
the production settings, computes the boards into the shared Redis, where the web process finds
them. (tests/test_tasks.py runs the same tasks with the immediate backend.)"""

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from datetime import date

import pytest
from django_tasks import TaskResultStatus

from competition.domain import scoreboard, versions, warming
from competition.models import CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target
from tests.test_serve import ROOT, database_url

# The demo site's settings (the worker runs its manage.py): skipped under the package's settings.
pytestmark = pytest.mark.demo


def db_task_result():
    """django-tasks-db's model (the demo's production backend, not the package's dependency:
    imported only when the test runs)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult


@pytest.fixture
def competition(transactional_db, django_db_serialized_rollback, settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": redis_url}}
    settings.COMPETITION_VERSION_WATCH = False
    versions.stop_watching()
    competition = make_competition(slug="worked", title="Worked competition")
    target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="A"), [target])
    make_commitment(competition, AgencyFactory(code="B"), [target])
    # From now on, tasks wait in the database for a worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.COMPETITION_REBUILD_BOARDS = "task"
    return competition


def kept_board(competition):
    day = scoreboard.resolve_as_of(competition)
    version, _floor, entry = scoreboard.cache_state(competition.pk, scoreboard.board_key(competition, day))
    return entry[1] if entry is not None and entry[0] == version else None


def run_worker(url, redis_url):
    """`manage.py db_worker --batch`: run every task waiting, then exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": url,
        "CACHE_URL": redis_url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def task_rows(url):
    """(task path, status, worker ids) of every task in the worker's database."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as db:
            rows = db.execute(f"SELECT task_path, status, worker_ids FROM {db_task_result()._meta.db_table}").fetchall()  # noqa: S608
        return [(path, status, json.loads(workers) != []) for path, status, workers in rows]
    return [(row.task_path, row.status, bool(row.worker_ids)) for row in db_task_result().objects.all()]


def test_a_rebuild_enqueued_by_a_change_is_done_by_the_worker_process(competition, tmp_path, redis_url):
    make_submission(CommitmentLine.objects.get(commitment__agency__code="A"), 75, date(2025, 6, 30))

    waiting = list(db_task_result().objects.values_list("task_path", "args_kwargs", "status"))
    assert waiting == [
        (
            "competition.tasks.refresh_competition",
            {"args": [competition.pk], "kwargs": {"rebuild": True}},
            TaskResultStatus.READY,
        )
    ]
    assert kept_board(competition) is None  # nothing computed in this process

    url = database_url(tmp_path)  # PostgreSQL's test database, or a copy of SQLite's
    worker = run_worker(url, redis_url)

    assert worker.returncode == 0, worker.stderr[-3000:]
    assert task_rows(url) == [("competition.tasks.refresh_competition", TaskResultStatus.SUCCESSFUL, True)]
    board = kept_board(competition)
    assert board is not None and [agency.code for agency in board.agencies][0] == "A"
    assert all(
        scoreboard.cache_state(competition.pk, scoreboard.board_key(competition, day))[2] is not None
        for day in warming.public_board_days(competition)
    )
