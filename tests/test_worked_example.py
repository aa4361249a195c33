"""The worked example of docs/scoring.md end to end, as an outside user runs it: every file of
tests/data/worked imported with `competition_import`, then `scoreboard.json` read over HTTP while
judging is open (no jury points in public), and again after `competitions-closed.csv` closed it."""

import csv
import io

import pytest
import tablib

pytestmark = pytest.mark.django_db

AS_OF = "2025-07-02"
# (status, progress, expected progress, awarded points) of each line; the agencies' figures.
OPEN = {
    "A": {
        "rank": 1,
        "tier": "Good",
        "score_percent": 86.5,
        "progress_percent": 84.5,
        "total_points": 86.5,
        "adjustments": 2,
        "provisional": True,
        "targets": {
            "T1": ("on_track", 0.75, 0.6703, 22.5),
            "T2": ("on_track", 0.6, 0.5, 12),
            "T3": ("achieved", 1, 0.5, 50),
        },
    },
    "B": {
        "rank": 2,
        "tier": "Below target",
        "score_percent": 16,
        "progress_percent": 19,
        "total_points": 16,
        "adjustments": -3,
        "provisional": True,
        "targets": {
            "T1": ("off_track", 0.5, 0.6703, 15),
            "T2": ("off_track", 0.2, 0.5, 4),
            "T3": ("no_data", 0, 0.5, 0),
        },
    },
}
CLOSED = {
    "A": dict(
        OPEN["A"],
        score_percent=86,
        total_points=86,
        targets={
            "T1": ("on_track", 0.75, 0.6703, 23),
            "T2": ("on_track", 0.6, 0.5, 12),
            "T3": ("achieved", 1, 0.5, 49),
        },
    ),
    "B": dict(
        OPEN["B"],
        score_percent=17,
        total_points=17,
        targets={
            "T1": ("off_track", 0.5, 0.6703, 16),
            "T2": ("off_track", 0.2, 0.5, 4),
            "T3": ("no_data", 0, 0.5, 0),
        },
    ),
}
JURY = {("A", "T1"): 23, ("A", "T3"): 49, ("B", "T1"): 16}


def check(data, expected, jury):
    agencies = {agency["code"]: agency for agency in data["agencies"]}
    assert list(agencies) == ["A", "B"]
    for code, want in expected.items():
        got = agencies[code]
        for key in ("rank", "tier", "provisional", "score_percent", "progress_percent", "total_points", "adjustments"):
            assert got[key] == want[key], (code, key)
        assert got["group_rank"] is None  # no parent, no cluster
        for line in got["targets"]:
            status, progress, expected_progress, awarded = want["targets"][line["code"]]
            assert (line["status"], line["progress"], line["expected"], line["awarded_points"]) == (
                status,
                progress,
                expected_progress,
                awarded,
            ), (code, line["code"])
            assert line["jury_points"] == (jury.get((code, line["code"])) if jury else None)


def test_worked_example_while_judging_is_open(worked, client):
    data = client.get(f"/worked/scoreboard.json?as_of={AS_OF}").json()

    assert data["competition"]["closed"] is False
    check(data, OPEN, jury=None)


def test_worked_example_once_judging_is_closed(worked, client, worked_dir, django_capture_on_commit_callbacks):
    from tests.helpers import call_import

    opened = client.get(f"/worked/scoreboard.json?as_of={AS_OF}").json()  # kept in the cache
    with django_capture_on_commit_callbacks(execute=True):
        code, output = call_import("competitions", worked_dir / "competitions-closed.csv")
    assert code == 0, output
    assert "1 updated" in output

    data = client.get(f"/worked/scoreboard.json?as_of={AS_OF}").json()

    check(opened, OPEN, jury=None)
    assert data["competition"]["closed"] is True
    check(data, CLOSED, jury=JURY)


def test_worked_example_closing_twice_changes_nothing(worked_closed, worked_dir):
    from tests.helpers import call_import

    code, output = call_import("competitions", worked_dir / "competitions-closed.csv")

    assert code == 0 and "1 unchanged" in output


def test_worked_example_as_csv_and_xlsx(worked_closed, client):
    rows = list(csv.DictReader(io.StringIO(client.get(f"/worked/scoreboard.csv?as_of={AS_OF}").content.decode())))
    workbook = tablib.Dataset().load(client.get(f"/worked/scoreboard.xlsx?as_of={AS_OF}").content, format="xlsx")

    assert [(row["agency_code"], row["target_code"], row["awarded_points"]) for row in rows] == [
        ("A", "T1", "23"),
        ("A", "T2", "12"),
        ("A", "T3", "49"),
        ("B", "T1", "16"),
        ("B", "T2", "4"),
        ("B", "T3", "0"),
    ]
    assert {
        (row["adjustments"], row["judging_closed"], row["group_rank"]) for row in rows if row["agency_code"] == "A"
    } == {("2", "yes", "")}
    # An agency's rows add up to its total: awarded points plus adjustments.
    for code, total in (("A", 86), ("B", 17)):
        mine = [row for row in rows if row["agency_code"] == code]
        assert sum(float(row["awarded_points"]) for row in mine) + float(mine[0]["adjustments"]) == total
    assert workbook.headers == list(rows[0].keys())
    assert len(workbook) == 6


def test_worked_example_adjustments_count_from_their_date(worked, client):
    # Dated 30 June: not yet on the board of 29 June (no report either), counted from 30 June.
    before = {a["code"]: a for a in client.get("/worked/scoreboard.json?as_of=2025-06-29").json()["agencies"]}
    on = {a["code"]: a for a in client.get("/worked/scoreboard.json?as_of=2025-06-30").json()["agencies"]}

    assert (before["A"]["adjustments"], before["B"]["adjustments"]) == (0, 0)
    assert (before["A"]["total_points"], before["B"]["total_points"]) == (0, 0)
    assert (on["A"]["adjustments"], on["B"]["adjustments"]) == (2, -3)
