"""Awards as open data (`<competition URL>awards.json` and `awards.csv`, docs/opendata.md): the
commendation decision and the awards it granted; nothing before a decision; safe to open in a
spreadsheet; kept for anonymous readers and renewed when a decision is recorded."""

import csv
import io

import pytest

from competition.domain import commendations, judging
from competition.models import Agency, CommendationDecision
from tests.factories import make_competition
from tests.test_report import decided, record_decision  # noqa: F401  (the contest, closed and decided)
from tests.test_results import PDF, boss, contest  # noqa: F401

pytestmark = pytest.mark.django_db

HEADER = (
    "decision_number,decision_date,issued_by,signed_by,document_url,award,agency_code,agency_name,rank,group_rank,tier"
)


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_before_a_decision_there_is_no_decision_and_no_award(contest, boss, client):  # noqa: F811
    open_json = client.get("/contest/awards.json").json()
    judging.close_judging(contest, boss)  # published, proposed, not decided yet
    closed_json = client.get("/contest/awards.json").json()
    closed_csv = csv_rows(client.get("/contest/awards.csv"))

    assert open_json == {
        "competition": {"slug": "contest", "title": "Contest 2025", "closed": False},
        "decision": None,
        "awards": [],
    }
    assert closed_json["decision"] is None and closed_json["awards"] == []
    assert closed_csv == [HEADER.split(",")]


def test_the_decision_and_its_awards(decided, client):  # noqa: F811
    response = client.get("/contest/awards.json")
    data = response.json()

    document = CommendationDecision.objects.get().document
    assert response["Access-Control-Allow-Origin"] == "*"
    assert data["competition"] == {"slug": "contest", "title": "Contest 2025", "closed": True}
    assert data["decision"] == {
        "number": "125/QĐ-UBND",
        "issued_on": "2026-01-15",
        "issued_by": "City People's Committee",
        "signed_by": "Nguyễn Văn A",
        "document_url": f"http://testserver{document.url}",
    }
    # In the rules' order, then by rank: E3, taken off before the decision, is not in it; W2,
    # added by the manager, is.
    assert data["awards"] == [
        {
            "award": "Cờ thi đua",
            "agency_code": "E1",
            "agency_name": "Agency E1",
            "rank": 1,
            "group_rank": 1,
            "tier": "Excellent",
        },
        {
            "award": "Bằng khen",
            "agency_code": "W1",
            "agency_name": "Agency W1",
            "rank": 4,
            "group_rank": 1,
            "tier": "Fair",
        },
        {
            "award": "Giấy khen",
            "agency_code": "E2",
            "agency_name": "Agency E2",
            "rank": 2,
            "group_rank": 2,
            "tier": "Good",
        },
        {
            "award": "Giấy khen",
            "agency_code": "W2",
            "agency_name": "Agency W2",
            "rank": 5,
            "group_rank": 2,
            "tier": "Fair",
        },
    ]
    assert downloaded(client, document.url) == PDF  # the signed decision is public


def downloaded(client, url):
    """The body of a served file, the response closed without closing the test's connection
    (closing fires request_finished), as tests/test_permission_matrix.py does."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return body


def test_the_csv_has_one_row_per_award_with_the_decision(decided, client):  # noqa: F811
    response = client.get("/contest/awards.csv")
    rows = csv_rows(response)

    assert response["Content-Disposition"] == 'attachment; filename="contest-awards.csv"'
    assert rows[0] == HEADER.split(",")
    document_url = f"http://testserver{CommendationDecision.objects.get().document.url}"
    decision = ["125/QĐ-UBND", "2026-01-15", "City People's Committee", "Nguyễn Văn A", document_url]
    assert rows[1:] == [
        [*decision, "Cờ thi đua", "E1", "Agency E1", "1", "1", "Excellent"],
        [*decision, "Bằng khen", "W1", "Agency W1", "4", "1", "Fair"],
        [*decision, "Giấy khen", "E2", "Agency E2", "2", "2", "Good"],
        [*decision, "Giấy khen", "W2", "Agency W2", "5", "2", "Fair"],
    ]


def test_the_csv_never_starts_a_formula(contest, boss, client):  # noqa: F811
    judging.close_judging(contest, boss)
    commendations.add(contest, boss, "W3", '=HYPERLINK("http://x")', "A test of the export")
    record_decision(contest, boss, number="+1/QĐ", issued_by="@Committee", signed_by="-Chair")
    Agency.objects.filter(code="W3").update(name="=cmd|' /C calc'!A0")

    rows = csv_rows(client.get("/contest/awards.csv"))
    w3 = next(row for row in rows if row[6] == "W3")

    assert w3[:4] == ["'+1/QĐ", "2026-01-15", "'@Committee", "'-Chair"]
    assert w3[5] == '\'=HYPERLINK("http://x")' and w3[7] == "'=cmd|' /C calc'!A0"
    assert w3[8] == "6"  # numbers stay numbers
    assert client.get("/contest/awards.json").json()["decision"]["number"] == "+1/QĐ"  # JSON as entered


@pytest.mark.parametrize("url", ["/nowhere/awards.json", "/nowhere/awards.csv", "/draft/awards.json"])
def test_unknown_and_unpublished_competitions_have_no_awards(contest, client, url):  # noqa: F811
    make_competition(slug="draft", title="Draft", publish=False)

    assert client.get(url).status_code == 404


def test_awards_are_read_only(decided, client):  # noqa: F811
    assert client.post("/contest/awards.json").status_code == 405
