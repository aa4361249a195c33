"""Hypothesis over the forms that take outside input: the submission form, the jury's score form
and the imports (values and scores, through run_import and through the admin's import screen).
Whatever comes in: no server error, and nothing invalid saved. Each example runs in a savepoint
that is rolled back, so examples never see each other's rows; the examples are derandomised,
so every run tries the same ones."""

import csv
import io
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from competition.domain import evidence
from competition.imports import ImportFileError, load_dataset, run_import
from competition.models import JuryScore, Submission, SubmissionLink
from tests.helpers import table_counts
from tests.security import build_world, submission_data

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world():
    world = build_world(slug="fuzz")
    # Submitted on B's line (the reviewer may score it); accepted on A's line (for score imports).
    submitted = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 6, 30), value=40)
    evidence.submit(submitted, world["editor_b"])
    accepted = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=60)
    evidence.submit(accepted, world["editor_a"])
    evidence.decide(accepted, world["manager"], "accept")
    world.update(submitted=submitted, accepted=accepted)
    return world


class Rollback(Exception):
    """Raised at the end of an example to roll its savepoint back."""


def rolled_back(check):
    """Run `check()` in a savepoint and undo whatever it wrote."""
    try:
        with transaction.atomic():
            check()
            raise Rollback
    except Rollback:
        pass


def odd(*good):
    """Mostly plausible cells, sometimes anything at all."""
    return st.one_of(st.sampled_from(good), st.text(max_size=30))


NUMBERS = st.one_of(
    odd("0", "50", "100", "100.0001", "-0", "-1", "1e3", "1E-5", "NaN", "Infinity", "1,5", "٣", "１０", " 7 "),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
)
DATES = st.one_of(
    odd("2025-06-30", "2025-01-01", "2024-12-31", "2026-01-01", "2025-02-30", "30/06/2025", "2025-6-3"),
    st.dates().map(date.isoformat),
)


def assert_valid_rows():
    """What the database must always hold, whatever was posted or imported."""
    for submission in Submission.objects.select_related("line__target", "line__commitment__competition"):
        submission.full_clean()
        assert Decimal(0) <= submission.value <= Decimal(100)  # T1 is a percentage
    for link in SubmissionLink.objects.all():
        link.full_clean()
        assert link.url.startswith(("http://", "https://", "ftp://", "ftps://"))
    for score in JuryScore.objects.select_related("submission__line__target"):
        score.full_clean()
        assert Decimal(0) <= score.points <= score.submission.line.target.max_points


@FUZZ
@given(
    value=NUMBERS,
    reported_on=DATES,
    narrative=st.text(max_size=200),
    links=st.lists(
        st.tuples(
            odd("https://example.org/a", "javascript:alert(1)", "http://", "ftp://x.org/f", "//evil.example"),
            st.text(max_size=300),
        ),
        max_size=2,
    ),
)
def test_submission_form_never_fails_and_saves_only_valid_rows(client, world, value, reported_on, narrative, links):
    client.force_login(world["editor_a"])

    def check():
        before = Submission.objects.count()
        data = submission_data(world["line_a"], value=value, day=reported_on, narrative=narrative, links=links)
        response = client.post(reverse("wagtailsnippets_competition_submission:add"), data)
        assert response.status_code in (200, 302)
        assert Submission.objects.count() == before + (response.status_code == 302)
        assert_valid_rows()

    rolled_back(check)


@FUZZ
@given(points=NUMBERS, comment=st.text(max_size=300), following=st.booleans())
@example(points="5", comment="a\x00b", following=False)  # PostgreSQL cannot store NUL
@example(points="10.00001", comment="", following=True)
def test_score_form_never_fails_and_saves_only_valid_points(client, world, points, comment, following):
    client.force_login(world["reviewer"])
    data = {"points": points, "comment": comment, **({"next": "1"} if following else {})}

    def check():
        response = client.post(reverse("competition_review", args=[world["submitted"].pk]), data)
        assert response.status_code in (200, 302)
        saved = JuryScore.objects.filter(submission=world["submitted"]).exists()
        assert saved == (response.status_code == 302)
        assert_valid_rows()

    rolled_back(check)


VALUE_ROWS = st.lists(
    st.tuples(odd("A", "B", "Z"), odd("T1", "T9"), DATES, NUMBERS, st.text(max_size=40)), min_size=1, max_size=3
)
SCORE_ROWS = st.lists(
    st.tuples(odd("A", "B"), odd("T1"), DATES, odd("reviewer", "editor_a", "nobody"), NUMBERS, st.text(max_size=40)),
    min_size=1,
    max_size=3,
)
HEADERS = {
    "values": ["agency", "target", "reported_on", "value", "note"],
    "scores": ["agency", "target", "reported_on", "juror", "points", "comment"],
}


def csv_bytes(headers, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def check_import(kind, content):
    counts = table_counts()
    try:
        dataset = load_dataset(content, "csv")
    except ImportFileError:
        return
    report = run_import(kind, dataset, competition="fuzz")
    if not report.ok:
        assert table_counts() == counts, report.errors
        assert all(line.startswith("row ") or "column" in line for line in report.errors)
    assert_valid_rows()


@FUZZ
@given(rows=VALUE_ROWS)
@example(rows=[("A", "T1", "2025-06-30", "50", "x\x00y")])
def test_values_import_never_fails_and_saves_only_valid_rows(world, rows):
    rolled_back(lambda: check_import("values", csv_bytes(HEADERS["values"], rows)))


@FUZZ
@given(rows=SCORE_ROWS)
@example(rows=[("A", "T1", "2025-06-30", "reviewer", "5", "x\x00y")])
def test_scores_import_never_fails_and_saves_only_valid_rows(world, rows):
    rolled_back(lambda: check_import("scores", csv_bytes(HEADERS["scores"], rows)))


@FUZZ
@given(
    kind=st.sampled_from(["values", "scores"]),
    content=st.one_of(
        st.builds(csv_bytes, st.sampled_from(list(HEADERS.values())), VALUE_ROWS),
        st.builds(csv_bytes, st.sampled_from(list(HEADERS.values())), SCORE_ROWS),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda text: text.encode("utf-8")),
    ),
    file_format=st.sampled_from(["csv", "xlsx", "json"]),
)
def test_admin_import_screen_never_fails_and_writes_nothing_on_preview(client, world, kind, content, file_format):
    client.force_login(world["manager"])
    pending = Path(django_settings.MEDIA_ROOT) / "competition-imports"

    def check():
        counts = table_counts()
        upload = SimpleUploadedFile(f"fuzz.{file_format}", content)
        response = client.post(
            reverse("competition_import"), {"kind": kind, "competition": "fuzz", "import_file": upload}
        )
        assert response.status_code == 200
        assert table_counts() == counts  # a preview never writes
        assert_valid_rows()

    try:
        rolled_back(check)
    finally:
        shutil.rmtree(pending, ignore_errors=True)
