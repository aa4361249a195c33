"""One group's or one agency's part of the scoreboard (`scoreboard.json?group=CODE`,
`?agency=CODE`, docs/opendata.md): the same figures as the whole file, a clear error for a code
that is not on the board, kept by the page cache like the whole file and renewed with it."""

import csv
import io
from datetime import date

import pytest

from competition.models import Agency, CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db

BASE = "/comp/scoreboard"


@pytest.fixture
def clustered(db):
    """Agencies A1, A2 under parent P, B1 under Q, C without a parent."""
    competition = make_competition(slug="comp")
    targets = [make_target(competition, code="T1"), make_target(competition, code="T2", max_points=20)]
    parents = {code: AgencyFactory(code=code, name=f"Cluster {code}") for code in ("P", "Q")}
    for code, parent, value in (("A1", "P", 80), ("A2", "P", 30), ("B1", "Q", 55), ("C", None, 10)):
        make_commitment(competition, AgencyFactory(code=code, parent=parents.get(parent)), targets)
        line = CommitmentLine.objects.get(commitment__agency__code=code, target__code="T1")
        make_submission(line, value, date(2025, 6, 30))
    return competition


def test_a_group_is_its_agencies_and_its_group_figures(clustered, client):
    whole = client.get(f"{BASE}.json?as_of=2025-07-01").json()

    response = client.get(f"{BASE}.json?as_of=2025-07-01&group=P")

    assert response.status_code == 200
    data = response.json()
    assert [agency["code"] for agency in data["agencies"]] == ["A1", "A2"]
    # The same figures as in the whole file: ranks among every agency, the group's own means.
    assert data["agencies"] == [agency for agency in whole["agencies"] if agency["parent_code"] == "P"]
    assert data["groups"] == [group for group in whole["groups"] if group["code"] == "P"]
    assert (data["competition"], data["targets"]) == (whole["competition"], whole["targets"])


def test_an_agency_is_its_figures_and_its_group(clustered, client):
    whole = client.get(f"{BASE}.json").json()

    data = client.get(f"{BASE}.json?agency=B1").json()

    assert data["agencies"] == [agency for agency in whole["agencies"] if agency["code"] == "B1"]
    assert [group["code"] for group in data["groups"]] == ["Q"]
    assert client.get(f"{BASE}.json?agency=C").json()["groups"] == []  # no parent, no group


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("group=NOPE", "No group with the code 'NOPE' takes part in this scoreboard."),
        ("group=A1", "No group with the code 'A1' takes part in this scoreboard."),  # an agency, not a group
        ("agency=NOPE", "No agency with the code 'NOPE' takes part in this scoreboard."),
        ("agency=P", "No agency with the code 'P' takes part in this scoreboard."),  # a parent only
    ],
)
def test_a_code_not_on_the_board_is_a_json_404(clustered, client, query, message):
    response = client.get(f"{BASE}.json?{query}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": message}


@pytest.mark.parametrize("query", ["group=P&agency=A1", "group=P&group=Q", "agency=A1&agency=A2"])
def test_more_than_one_code_is_a_json_400(clustered, client, query):
    response = client.get(f"{BASE}.json?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": "Ask for one group or one agency at a time."}


def test_the_csv_and_xlsx_are_sliced_too(clustered, client):
    response = client.get(f"{BASE}.csv?as_of=2025-07-01&group=P")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["agency_code"] for row in rows} == {"A1", "A2"}
    assert len(rows) == 4  # two agencies, two targets each
    assert 'filename="comp-scoreboard-P-2025-07-01.csv"' in response["Content-Disposition"]
    assert client.get(f"{BASE}.xlsx?agency=A1").status_code == 200
    assert client.get(f"{BASE}.xlsx?agency=ZZ").status_code == 404


def test_the_file_has_no_space_after_its_separators(clustered, client):
    content = client.get(f"{BASE}.json").content.decode()

    assert ", " not in content.replace("Cluster P", "").replace("Cluster Q", "")
    assert '": ' not in content and '"code":"A1"' in content


@pytest.fixture
def cached(settings):
    from competition import middleware

    settings.COMPETITION_RESPONSE_CACHE = True
    settings.COMPETITION_REBUILD_BOARDS = ""
    middleware.forget_in_process()
    yield settings
    middleware.forget_in_process()


def test_a_slice_is_kept_and_renewed_like_the_whole_file(
    cached, clustered, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    url = f"{BASE}.json?as_of=2025-07-01&group=P"
    client.get(url)  # teaches the cache the URL's competition
    assert client.get(url)["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get(url)["X-Cache"] == "hit"
    # Another slice, or another spelling of one, is another copy (or none).
    assert client.get(f"{BASE}.json?as_of=2025-07-01&group=Q")["X-Cache"] == "miss"
    assert client.get(f"{BASE}.json?as_of=2025-07-01&group=P&group=P").status_code == 400

    line = CommitmentLine.objects.get(commitment__agency__code="A2", target__code="T1")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 95, date(2025, 7, 1))

    response = client.get(url)
    assert response["X-Cache"] == "miss"
    assert [agency["code"] for agency in response.json()["agencies"]] == ["A2", "A1"]
    assert client.get(url)["X-Cache"] == "hit"


def test_an_unknown_code_is_never_kept(cached, clustered, client):
    url = f"{BASE}.json?group=NOPE"
    for _attempt in range(3):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get("X-Cache") != "hit"
    assert Agency.objects.filter(code="NOPE").count() == 0
