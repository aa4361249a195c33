"""The fast path of a real `values` import (ValueResource.import_fast) against the reference,
django-import-export's row-by-row path (run_import(fast=False)): on every file, the same report
(errors word for word, counts) and the same rows written (submissions, audit log entries,
revisions, the import record). Each path runs in a savepoint that is rolled back, so both start
from the same database."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wagtail.models import Revision

from competition.imports import load_dataset, run_import
from competition.models import CompetitionLogEntry, ImportRecord, Submission
from competition.resources import ValueResource
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = "competition,agency,target,reported_on,value,note\n"


class Rollback(Exception):
    pass


def outcome(text, *, fast, user=None, competition=None, allowed=None):
    """Import `text` as a values CSV on one path; return what it reported and wrote, then undo it."""
    result = {}
    try:
        with transaction.atomic():
            report = run_import(
                "values",
                load_dataset(text.encode(), "csv"),
                competition=competition,
                user=user,
                allowed_competitions=allowed,
                file_name="values.csv",
                fast=fast,
            )
            result["report"] = (report.errors, report.created, report.updated, report.unchanged)
            result["submissions"] = sorted(
                (*row[:-2], row[-2] is not None, row[-1] is not None)
                for row in Submission.objects.values_list(
                    "line_id",
                    "reported_on",
                    "value",
                    "narrative",
                    "status",
                    "created_by_id",
                    "submitted_by_id",
                    "decided_by_id",
                    "decision_note",
                    "submitted_at",
                    "decided_at",
                )
            )
            # Keys differ between the runs (PostgreSQL does not roll sequences back): compare
            # the entries by what they say, and check that each names a submission.
            logs = CompetitionLogEntry.objects.filter(content_type__model="submission")
            result["logs"] = sorted(
                (*row[:-1], json.dumps(row[-1], sort_keys=True))
                for row in logs.values_list("label", "action", "user_id", "content_changed", "deleted", "data")
            )
            ids = {str(pk) for pk in Submission.objects.values_list("pk", flat=True)}
            result["logs_name_submissions"] = set(logs.values_list("object_id", flat=True)) <= ids
            result["revisions"] = sorted(
                (revision.content["value"], revision.content["narrative"])
                for revision in Revision.objects.filter(base_content_type__model="submission")
            )
            result["records"] = list(
                ImportRecord.objects.order_by("-pk").values_list(
                    "kind", "competition", "created", "updated", "unchanged"
                )
            )
            raise Rollback
    except Rollback:
        pass
    return result


def assert_same(text, **kwargs):
    slow = outcome(text, fast=False, **kwargs)
    fast = outcome(text, fast=True, **kwargs)
    assert fast == slow
    return fast


CASES = {
    "creates": "worked,B,T3,2025-06-30,91,from the survey\nworked,A,T1,2025-09-30,90,\n",
    "unchanged and updated": (
        "worked,A,T1,2025-06-30,85.000,\nworked,A,T2,2025-06-30,6,\nworked,B,T1,2025-06-30,70,note\n"
    ),
    "mixed": "worked,A,T1,2025-06-30,85,\nworked,B,T3,2025-07-31,88.5,\nworked,A,T3,2025-06-30,97,\n",
    "formula-like note": "worked,B,T3,2025-06-30,91,'=SUM(A1)\n",
    "unknown agency": "worked,Z,T1,2025-06-30,85,\n",
    "unknown target": "worked,A,T9,2025-06-30,85,\n",
    "unknown competition": "nowhere,A,T1,2025-06-30,85,\n",
    "outside the period": "worked,A,T1,2026-01-01,85,\n",
    "percentage over 100": "worked,A,T1,2025-06-30,101,\n",
    "negative days": "worked,A,T2,2025-06-30,-1,\n",
    "not a number": "worked,A,T1,2025-06-30,lots,\n",
    "five decimals": "worked,A,T1,2025-06-30,85.00001,\n",
    "bad date": "worked,A,T1,30/06/2025,85,\n",
    "empty value": "worked,A,T1,2025-06-30,,\n",
    "duplicate key": "worked,B,T3,2025-06-30,91,\nworked,B,T3,2025-06-30,92,\n",
    "valid then invalid": "worked,B,T3,2025-06-30,91,\nworked,A,T1,2025-06-30,185,\n",
    "NUL in the note": "worked,B,T3,2025-06-30,91,a\x00b\n",
}


@pytest.mark.parametrize("rows", CASES.values(), ids=CASES.keys())
def test_fast_path_matches_import_export(worked, rows):
    user = UserFactory(is_superuser=True)

    result = assert_same(HEADER + rows, user=user)

    # Assert: both paths did something (the comparison is not between two empty results).
    errors, created, updated, unchanged = result["report"]
    assert errors or created + updated + unchanged


def test_fast_path_writes_what_the_file_says(worked):
    user = UserFactory(is_superuser=True)

    result = outcome(HEADER + CASES["mixed"], fast=True, user=user)

    assert result["report"] == ([], 1, 1, 1)
    new = [row for row in result["submissions"] if row[1] == date(2025, 7, 31)]
    assert new == [
        (new[0][0], date(2025, 7, 31), Decimal("88.5"), "", "accepted", user.pk, user.pk, user.pk, "") + (True, True)
    ]
    logs = {log[:3] for log in result["logs"]}
    assert ("B · T3 · 2025-07-31 · 88.5", "wagtail.create", user.pk) in logs
    assert ("A · T3 · 2025-06-30 · 97", "wagtail.edit", user.pk) in logs
    assert result["revisions"] == [("97", "")]
    assert result["logs_name_submissions"]
    assert result["records"][0] == ("values", "", 1, 1, 1)


def test_header_problems_and_the_competition_option(worked):
    assert_same("agency,target,reported_on,value\nB,T3,2025-06-30,91\n", competition="worked")
    result = assert_same("agency,target,reported_on\nB,T3,2025-06-30\n", competition="worked")
    assert result["report"][0][0] == "missing column(s): value"
    assert_same("competition,agency,target,reported_on,value,colour\nworked,B,T3,2025-06-30,91,red\n")


def test_a_competition_the_user_does_not_manage(worked):
    result = assert_same(HEADER + CASES["creates"], allowed={-1})

    assert result["report"][0][0].startswith("row 1, column competition: you do not manage")
    assert result["submissions"] == outcome(HEADER, fast=False)["submissions"]


AGENCIES = st.sampled_from(["A", "B", "Z", "", " A "])
TARGETS = st.sampled_from(["T1", "T2", "T3", "T9", ""])
DATES = st.sampled_from(["2025-06-30", "2025-07-31", "2024-12-31", "2025-12-31", "2025-13-01", ""])
VALUES = st.one_of(st.sampled_from(["0", "1", "7", "85", "100", "100.5", "-3", "x", "", "1e2"]), st.text(max_size=6))
NOTES = st.one_of(st.just(""), st.text(max_size=8))
ROWS = st.lists(st.tuples(AGENCIES, TARGETS, DATES, VALUES, NOTES), min_size=1, max_size=6)


@given(rows=ROWS)
@example(rows=[("B", "T3", "2025-06-30", "91", ""), ("A", "T1", "2025-06-30", "85", "")])
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_file_gets_the_same_outcome_on_both_paths(worked, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["competition", "agency", "target", "reported_on", "value", "note"])
    writer.writerows(("worked", *row) for row in rows)

    assert_same(out.getvalue())


def test_fast_path_is_taken_for_real_imports_only(worked, monkeypatch):
    calls = []
    original = ValueResource.import_fast

    def spy(self, *args, **kwargs):
        calls.append(True)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ValueResource, "import_fast", spy)
    dataset = load_dataset((HEADER + CASES["creates"]).encode(), "csv")

    run_import("values", dataset, dry_run=True)
    assert calls == []
    report = run_import("values", load_dataset((HEADER + CASES["creates"]).encode(), "csv"))
    assert calls == [True] and (report.created, report.errors) == (2, [])


def test_a_database_error_on_the_fast_path_is_reported_not_raised(worked, monkeypatch):
    def fail(self, rows, now):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(ValueResource, "_insert_accepted", fail)
    before = Submission.objects.count()

    report = run_import("values", load_dataset((HEADER + CASES["creates"]).encode(), "csv"), file_name="v.csv")

    # The fast path gave up, and import-export's path reported the failure without a traceback.
    assert report.errors and "No space left on device" in report.errors[0]
    assert Submission.objects.count() == before and not ImportRecord.objects.filter(file_name="v.csv").exists()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "row by row"])
def test_an_import_reads_the_accepted_values_of_its_own_dates_only(worked, monkeypatch, fast):
    """Rows meet accepted values of their own dates: a file of one date reads those, not the
    competition's whole history (at HCMC size, 37,000 values for a file of 3,680)."""
    read = []
    original = ValueResource._accepted_values

    def spy(self, competition_id):
        values = original(self, competition_id)
        read.append({day for _line, day in values})
        return values

    earlier = run_import("values", load_dataset((HEADER + "worked,A,T1,2025-05-31,80,\n").encode(), "csv"))
    assert earlier.created == 1  # the competition has accepted values of another date now
    monkeypatch.setattr(ValueResource, "_accepted_values", spy)

    report = run_import("values", load_dataset((HEADER + CASES["unchanged and updated"]).encode(), "csv"), fast=fast)

    assert (report.errors, report.unchanged, report.updated) == ([], 1, 2)
    assert read and set().union(*read) == {date(2025, 6, 30)}
