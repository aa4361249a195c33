"""The backup and restore drill: scripts/backup.sh then scripts/restore.sh into an empty
PostgreSQL database and an empty media folder give the same scoreboard, the same rows and the
same files, byte for byte. The scripts refuse to overwrite data or restore a damaged backup."""

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from competition.domain.attachments import attach
from competition.models import CommitmentLine, Submission
from tests.helpers import table_counts

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
AS_OF = "2025-09-30"

on_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the drill uses pg_dump and pg_restore"
)


def database_url(name):
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"


def run_script(script, *args, **env):
    return subprocess.run(
        [str(ROOT / "scripts" / script), *map(str, args)],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def checksums(folder):
    folder = Path(folder)
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def in_restored_database(url, code):
    """Run Python code in a fresh process against the restored database; its last output line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def restored_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url(name)
    connection.close()  # a fresh connection for the drop, outside any transaction
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@on_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_and_restore_give_identical_boards_rows_and_files(
    worked_committed, client, settings, tmp_path, restored_database
):
    line = CommitmentLine.objects.filter(commitment__competition=worked_committed).order_by("pk").first()
    submission = Submission.objects.create(line=line, reported_on=date(2025, 9, 1), value=50)
    for number in range(3):
        attach(submission, SimpleUploadedFile(f"evidence-{number}.pdf", PDF + bytes([number])), None)
    board = client.get(f"{worked_committed.url}scoreboard.json?as_of={AS_OF}").json()
    counts = table_counts()
    backup, media = tmp_path / "backup", tmp_path / "media"

    made = run_script(
        "backup.sh",
        backup,
        DATABASE_URL=database_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    assert made.returncode == 0, made.stderr
    assert set(backup_modes(backup).values()) == {0o700, 0o600}
    restored = run_script("restore.sh", backup, DATABASE_URL=restored_database, MEDIA_ROOT=str(media))
    assert restored.returncode == 0, restored.stderr

    assert board["agencies"] and checksums(settings.MEDIA_ROOT)
    assert checksums(media) == checksums(settings.MEDIA_ROOT)
    restored_board = in_restored_database(
        restored_database,
        "from django.test import Client; "
        f"print(Client().get('{worked_committed.url}scoreboard.json?as_of={AS_OF}').content.decode())",
    )
    assert json.loads(restored_board) == board
    restored_counts = in_restored_database(
        restored_database, "import json; from tests.helpers import table_counts; print(json.dumps(table_counts()))"
    )
    assert json.loads(restored_counts) == counts

    # Never over existing data: the database and the folder are now full.
    again = run_script("restore.sh", backup, DATABASE_URL=restored_database, MEDIA_ROOT=str(tmp_path / "other"))
    assert again.returncode == 1 and "not empty" in again.stderr
    # Never from a damaged backup.
    with open(backup / "media.tar.gz", "ab") as archive:
        archive.write(b"\0")
    damaged = run_script("restore.sh", backup, DATABASE_URL=restored_database, MEDIA_ROOT=str(tmp_path / "new"))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr
    assert not (tmp_path / "new").exists()


def test_the_backup_is_readable_by_its_owner_only(tmp_path):
    """The dump holds password hashes and sessions, the archive every evidence file: whatever
    the caller's umask, the folder is 0700 and each file 0600. (pg_dump is stood in for by a
    script writing a file, so this runs without PostgreSQL; the drill above checks the same.)"""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text('#!/bin/sh\nwhile [ "$1" != "--file" ]; do shift; done\necho dump >"$2"\n')
    (fake / "pg_dump").chmod(0o755)
    media = tmp_path / "media"
    (media / "documents").mkdir(parents=True)
    (media / "documents" / "evidence.pdf").write_bytes(PDF)
    backup = tmp_path / "backup"

    made = subprocess.run(
        [str(ROOT / "scripts" / "backup.sh"), str(backup)],
        env=os.environ
        | {"PATH": f"{fake}:{os.environ['PATH']}", "DATABASE_URL": "postgres://x/y", "MEDIA_ROOT": str(media)},
        capture_output=True,
        text=True,
        timeout=60,
        umask=0o022,
    )

    assert made.returncode == 0, made.stderr
    assert backup_modes(backup) == {
        ".": 0o700,
        "database.dump": 0o600,
        "media.tar.gz": 0o600,
        "media.sha256": 0o600,
        "SHA256SUMS": 0o600,
    }


def backup_modes(folder):
    folder = Path(folder)
    return {str(path.relative_to(folder)): path.stat().st_mode & 0o777 for path in [folder, *folder.iterdir()]}
