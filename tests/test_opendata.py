"""scoreboard.json, .csv and .xlsx as docs/opendata.md describes them."""

import csv
import io
from datetime import date, datetime

import pytest
import tablib

from competition.enums import SubmissionStatus
from competition.models import CommitmentLine
from tests.factories import (
    AgencyFactory,
    UserFactory,
    make_commitment,
    make_competition,
    make_submission,
    make_target,
)

pytestmark = pytest.mark.django_db


def test_worked_example_json_to_the_figure(worked_closed, client):
    response = client.get("/worked/scoreboard.json?as_of=2025-07-02")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["competition"] == {
        "slug": "worked",
        "title": "Worked example",
        "start": "2025-01-01",
        "end": "2025-12-31",
        "as_of": "2025-07-02",
        "at_risk_margin": 0.1,
        "jury_aggregation": "mean",
        "closed": True,
    }
    a, b = data["agencies"]
    assert (a["code"], a["rank"], a["group_rank"], a["tier"], a["provisional"]) == ("A", 1, None, "Good", True)
    assert (a["score_percent"], a["progress_percent"], a["total_points"], a["max_points"], a["adjustments"]) == (
        86,
        84.5,
        86,
        100,
        2,
    )
    assert (b["code"], b["rank"], b["tier"], b["score_percent"], b["progress_percent"]) == (
        "B",
        2,
        "Below target",
        17,
        19,
    )
    t1 = a["targets"][0]
    assert t1 == {
        "code": "T1",
        "value": 85,
        "reported_on": "2025-06-30",
        "baseline": 40,
        "target": 100,
        "progress": 0.75,
        "expected": 0.6703,
        "status": "on_track",
        "computed_points": 22.5,
        "jury_points": 23,
        "awarded_points": 23,
        "max_points": 30,
        "self_points": None,  # the agency proposed none
    }
    b3 = b["targets"][2]
    assert (b3["value"], b3["reported_on"], b3["jury_points"], b3["status"]) == (None, None, None, "no_data")
    assert [t["code"] for t in data["targets"]] == ["T1", "T2", "T3"]
    assert data["targets"][2]["status_counts"] == {
        "no_data": 1,
        "achieved": 1,
        "missed": 0,
        "on_track": 0,
        "at_risk": 0,
        "off_track": 0,
    }
    assert (data["targets"][2]["committed"], data["targets"][2]["reporting"]) == (2, 1)
    assert data["groups"] == []


@pytest.mark.parametrize("as_of", ["2024-06-01", "2026-06-01"])
def test_as_of_outside_the_period_is_clamped(worked, client, as_of):
    data = client.get(f"/worked/scoreboard.json?as_of={as_of}").json()

    assert data["competition"]["as_of"] == ("2025-01-01" if as_of < "2025" else "2025-12-31")


@pytest.mark.parametrize("as_of", ["2025-13-01", "yesterday", "2025-7-2x"])
def test_invalid_as_of_gives_400_json(worked, client, as_of):
    response = client.get(f"/worked/scoreboard.json?as_of={as_of}")

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["error"]


def test_csv_has_one_row_per_agency_and_target(worked, client):
    response = client.get("/worked/scoreboard.csv?as_of=2025-07-02")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 6
    assert rows[0]["agency_code"] == "A" and rows[0]["target_code"] == "T1" and rows[0]["status"] == "on_track"
    assert rows[5]["value"] == "" and rows[5]["status"] == "no_data"


def test_xlsx_opens_with_the_same_rows(worked, client):
    response = client.get("/worked/scoreboard.xlsx?as_of=2025-07-02")

    dataset = tablib.Dataset().load(response.content, format="xlsx")
    assert len(dataset) == 6
    assert dataset.headers[:2] == ["agency_code", "agency_name"]
    # Dates are dates a spreadsheet sorts and filters as such, not text; no data is an empty cell.
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    column = [cell.value for cell in sheet["N"]]
    assert column[0] == "reported_on"
    assert column[1] == datetime(2025, 6, 30) and sheet["N2"].is_date
    assert column[6] is None


def test_unpublished_competition_is_not_served(db, client):
    make_competition(slug="draft-comp", publish=False)

    assert client.get("/draft-comp/scoreboard.json").status_code == 404


def test_unknown_page_is_404(db, client):
    assert client.get("/nothing-here/scoreboard.json").status_code == 404


def test_only_accepted_submissions_count(db, client):
    competition = make_competition(slug="states")
    target = make_target(competition)
    agency = AgencyFactory(code="S1")
    make_commitment(competition, agency, [target])
    line = CommitmentLine.objects.get()
    make_submission(line, 40, date(2025, 3, 31))
    for status in (
        SubmissionStatus.DRAFT,
        SubmissionStatus.SUBMITTED,
        SubmissionStatus.RETURNED,
        SubmissionStatus.REJECTED,
    ):
        make_submission(line, 99, date(2025, 4, 30), status=status)

    line_data = client.get("/states/scoreboard.json?as_of=2025-12-31").json()["agencies"][0]["targets"][0]

    assert (line_data["value"], line_data["reported_on"]) == (40, "2025-03-31")


def test_unpublished_commitment_and_target_are_left_out(db, client):
    competition = make_competition(slug="partial")
    live_target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="LIVE"), [live_target])
    make_commitment(competition, AgencyFactory(code="DRAFT"), [live_target], publish=False)
    draft_target = make_target(competition, code="T2")
    draft_target.unpublish()

    data = client.get("/partial/scoreboard.json").json()

    assert [agency["code"] for agency in data["agencies"]] == ["LIVE"]
    assert [target["code"] for target in data["targets"]] == ["T1"]


def test_board_is_recomputed_after_a_change(worked, client, django_capture_on_commit_callbacks):
    before = client.get("/worked/scoreboard.json?as_of=2025-07-02").json()["agencies"][1]["score_percent"]
    line = CommitmentLine.objects.get(commitment__agency__code="B", target__code="T3")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 95, date(2025, 7, 1))

    after = client.get("/worked/scoreboard.json?as_of=2025-07-02").json()

    assert before == 16  # judging open: computed points (docs/scoring.md, the worked example)
    assert after["agencies"][1]["code"] == "B"
    assert after["agencies"][1]["score_percent"] == 66  # + 50 computed points for T3


def _populate(competition, targets, n_agencies, start, parents=(None,)):
    """Live commitment pages without revisions (fast), each line with one accepted value and a
    score; the agencies' parents taken in turn from `parents`."""
    from competition.models import CommitmentPage, Juror, JuryScore, Submission

    juror = Juror.objects.create(competition=competition, user=UserFactory(username=f"juror{start}"))
    for i in range(start, start + n_agencies):
        agency = AgencyFactory(code=f"Q{i:04d}", parent=parents[i % len(parents)])
        page = CommitmentPage(title=agency.name, slug=f"agency-q{i}", agency=agency, competition=competition)
        page.lines = [CommitmentLine(target=target) for target in targets]
        competition.add_child(instance=page)
    lines = CommitmentLine.objects.filter(commitment__competition=competition, submissions__isnull=True)
    submissions = Submission.objects.bulk_create(
        Submission(line=line, value=50 + line.pk % 40, reported_on=date(2025, 6, 30), status=SubmissionStatus.ACCEPTED)
        for line in lines
    )
    JuryScore.objects.bulk_create(JuryScore(submission=s, juror=juror, points=5) for s in submissions)


def test_scoreboard_query_count_does_not_grow(db, client, django_assert_num_queries):
    from django.core.cache import cache

    competition = make_competition(slug="sized", closed=True)  # the jury's points count
    targets = [make_target(competition, code=f"T{i}") for i in range(1, 4)]
    _populate(competition, targets, 3, 0)
    cache.clear()
    # 9, and one for the agencies' own points (public once judging is closed).
    with django_assert_num_queries(10):
        small = client.get("/sized/scoreboard.json?as_of=2025-07-02").json()
    _populate(competition, targets, 27, 3)  # ten times as many agencies, lines and scores
    cache.clear()

    with django_assert_num_queries(10):
        data = client.get("/sized/scoreboard.json?as_of=2025-07-02").json()

    assert (len(small["agencies"]), len(data["agencies"])) == (3, 30)
    assert all(agency["provisional"] is False for agency in data["agencies"])


@pytest.mark.parametrize(
    "query",
    [
        "?as_of=2025-07-02",
        # Clusters at two levels, the ranking filtered to one of them and searched.
        "?as_of=2025-07-02&cluster=WARDS",
        "?as_of=2025-07-02&cluster=CITY&q=agency+q00&sort=-progress_percent",
    ],
)
def test_competition_page_query_count_does_not_grow(
    db, client, django_assert_num_queries, django_assert_max_num_queries, query
):
    from django.core.cache import cache

    city = AgencyFactory(code="CITY", name="City")
    clusters = (AgencyFactory(code="WARDS", parent=city), AgencyFactory(code="DEPTS", parent=city))
    competition = make_competition(slug="sized-page")
    targets = [make_target(competition, code=f"T{i}") for i in range(1, 4)]
    _populate(competition, targets, 3, 0, clusters)
    cache.clear()
    with django_assert_max_num_queries(1000) as small:
        assert client.get(f"/sized-page/{query}").status_code == 200
    _populate(competition, targets, 27, 3, clusters)  # ten times as many agencies
    cache.clear()

    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(f"/sized-page/{query}")

    assert response.status_code == 200
    assert len(response.context["ranking_table"].rows) > 3  # the filtered ranking grew too


def test_cached_board_is_served_without_computing(worked, client, django_assert_max_num_queries):
    client.get("/worked/scoreboard.json?as_of=2025-07-02")

    with django_assert_max_num_queries(3):
        client.get("/worked/scoreboard.json?as_of=2025-07-02")


def test_an_import_invalidates_the_board(worked, client, tmp_path, django_capture_on_commit_callbacks):
    from tests.helpers import call_import

    before = client.get("/worked/scoreboard.json?as_of=2025-07-02").json()["agencies"][1]["score_percent"]
    path = tmp_path / "values.csv"
    path.write_text("competition,agency,target,reported_on,value\nworked,B,T3,2025-07-01,95\n", encoding="utf-8")

    with django_capture_on_commit_callbacks(execute=True):
        assert call_import("values", path)[0] == 0

    after = client.get("/worked/scoreboard.json?as_of=2025-07-02").json()["agencies"][1]["score_percent"]
    assert (before, after) == (16, 66)
