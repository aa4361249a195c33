"""`make serve` runs gunicorn with config/gunicorn.py and the production settings: that set-up
starts and serves the public pages of a competition from the test database."""

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from competition.models import CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

# The demo site's settings, serving or benchmark: run by `make test`, skipped under the package's settings.
pytestmark = pytest.mark.demo

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp_path):
    """The test database as a URL another process can open (the SQLite one is in memory: copy it)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "served.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    return "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**settings)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (a loopback URL we built)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served_competition(transactional_db, django_db_serialized_rollback):
    # Serialized rollback: Wagtail's root page and default site (made by migrations) come back
    # even after another transactional test has emptied the database.
    competition = make_competition(slug="served", title="Served competition")
    target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="A"), [target])
    make_submission(CommitmentLine.objects.get(), 60, date(2025, 6, 30))
    return competition


def test_gunicorn_serves_the_competition_with_production_settings(served_competition, tmp_path, redis_url):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(tmp_path),
        "CACHE_URL": redis_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(GUNICORN), "--config", "config/gunicorn.py"], cwd=ROOT, env=env, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Starting gunicorn (loading Django and Wagtail) takes seconds, more on a busy machine.
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _headers, _body = fetch(f"{base}/served/scoreboard.json")
                break
            except (OSError, urllib.error.URLError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log.read_text(errors="replace")[-3000:])
                time.sleep(0.2)

        page_status, page_headers, page = fetch(f"{base}/served/")
        health = fetch(f"{base}/health/")
        data = [fetch(f"{base}/served/scoreboard.json?as_of=2025-07-01") for _ in range(6)]
    finally:
        server.terminate()
        server.wait(timeout=15)

    assert status == 200
    assert health[0] == 200
    assert json.loads(health[2]) == {
        "database": "ok",
        "cache": "ok",
        # The production settings keep tasks in the database for the workers.
        "tasks": {"backend": "database", "waiting": 0, "running": 0, "failed_last_day": 0, "oldest_waiting_seconds": 0},
    }
    assert page_status == 200
    assert b"Served competition" in page
    assert page_headers["X-Frame-Options"] == "DENY"
    assert all(code == 200 and json.loads(body)["agencies"][0]["code"] == "A" for code, _headers, body in data)
    # Each worker learns the URL on its first request, stores it on its second: then it serves hits.
    assert "hit" in [headers.get("X-Cache") for _code, headers, _body in data]


def test_health_check_reports_database_and_cache(db, client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "tasks": {"backend": "immediate"}}
    assert "no-cache" in response["Cache-Control"]


def test_health_check_fails_when_the_cache_forgets(db, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "failing", "tasks": {"backend": "immediate"}}
