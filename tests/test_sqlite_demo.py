"""The demo runs on SQLite (`make demo`: runserver, one thread per request): simultaneous clicks
must all succeed. With SQLite's default deferred transactions, a transaction that has read and
then writes while another connection writes fails at once with "database is locked" (no wait
can help it); the settings start every transaction IMMEDIATE (it takes the write lock first and
waits for it) and give each connection a busy timeout, with the WAL journal so that readers do
not wait for writers (config/settings/base.py)."""

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from competition.domain import evidence
from competition.models import Submission
from tests.security import build_world

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the demo's SQLite database"),
    pytest.mark.demo,  # the demo site's settings and server
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_test_database(path):
    """The in-memory test database as a file another process opens."""
    target = sqlite3.connect(path)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()


@pytest.fixture
def demo_server(tmp_path):
    """Start the demo's server (runserver, threaded, demo settings) on a file copy of the test
    database; yield (base URL, database path)."""
    servers = []

    def start():
        database = tmp_path / "demo.sqlite3"
        copy_test_database(database)
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": settings.SECRET_KEY,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "DEBUG": "0",
        }
        log = (tmp_path / "server.log").open("wb")
        server = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((server, log))
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the demo server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
        return f"http://127.0.0.1:{port}", database

    yield start
    for server, log in servers:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def post(url, cookies, data):
    body = "&".join(f"{name}={value}" for name, value in data.items()).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (a loopback URL we built)
    request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()))
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def at_once(calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=30)
        results[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_demo_takes_simultaneous_decisions_without_errors(demo_server, tmp_path):
    world = build_world()
    submissions = []
    for month in range(1, 11):
        submission = Submission.objects.create(
            line=world["line_a" if month % 2 else "line_b"], reported_on=date(2025, month, 28), value=month
        )
        evidence.submit(submission, world["editor_a" if month % 2 else "editor_b"])
        submissions.append(submission.pk)
    client = Client()
    client.force_login(world["manager"])
    token = secrets.token_hex(16)  # a CSRF secret: 32 characters
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": token}
    base, database = demo_server()

    def decide(pk, decision):
        url = base + reverse("wagtailsnippets_competition_submission:decide", args=[pk])
        return lambda: post(url, cookies, {"csrfmiddlewaretoken": token, "decision": decision, "note": "Checked"})

    accepted = at_once([decide(pk, "accept") for pk in submissions[:5]])
    rejected = at_once([decide(pk, "reject") for pk in submissions[5:]])

    assert accepted == [302] * 5, (tmp_path / "server.log").read_text()[-3000:]
    assert rejected == [302] * 5, (tmp_path / "server.log").read_text()[-3000:]
    with sqlite3.connect(database) as stored:
        statuses = dict(stored.execute("SELECT id, status FROM competition_submission"))
    assert [statuses[pk] for pk in submissions] == ["accepted"] * 5 + ["rejected"] * 5


def test_the_sqlite_settings(settings):
    options = settings.DATABASES["default"]["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"]
