"""competition_import as docs/imports.md describes it: formats, one transaction, row errors, idempotence."""

import json

import pytest
import tablib
from wagtail.models import Page, PageLogEntry, Revision

from competition.enums import SubmissionStatus
from competition.models import (
    Adjustment,
    Agency,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    Juror,
    JuryScore,
    Submission,
    TargetPage,
)
from tests.conftest import IMPORT_ORDER
from tests.helpers import call_import, table_counts

pytestmark = pytest.mark.django_db


def test_worked_example_imports_pages_in_the_tree(worked):
    # Arrange: the fixture imported every file. Act: read the tree.
    home = Page.objects.get(depth=2)
    children = {page.slug: page.specific for page in worked.get_children()}

    # Assert: a published competition under the site root, its targets and commitments below.
    assert worked.get_parent().pk == home.pk
    assert worked.url_path == home.url_path + "worked/"
    assert worked.live and worked.first_published_at is not None
    assert sorted(children) == ["agency-a", "agency-b", "target-t1", "target-t2", "target-t3"]
    assert all(page.live and page.latest_revision_id for page in children.values())
    assert {type(page).__name__ for page in children.values()} == {"TargetPage", "CommitmentPage"}
    assert CommitmentLine.objects.filter(commitment__competition=worked).count() == 6
    assert Submission.objects.filter(status=SubmissionStatus.ACCEPTED).count() == 5
    assert JuryScore.objects.count() == 7
    assert PageLogEntry.objects.filter(action="wagtail.publish", page=worked).exists()


def test_worked_example_milestones_and_tiers(worked):
    t1 = TargetPage.objects.get(competition=worked, code="T1")

    assert [(m.date.isoformat(), int(m.value)) for m in t1.milestones.all()] == [("2025-06-30", 80)]
    assert worked.tiers.count() == 0  # blank tiers: the defaults apply
    assert worked.get_tiers()[0] == ("Excellent", 90)


def test_reimport_changes_nothing(worked, worked_dir):
    before = table_counts()
    revisions = Revision.objects.count()

    outputs = [call_import(kind, worked_dir / f"{kind}.csv") for kind in IMPORT_ORDER]

    assert all(code == 0 for code, _output in outputs)
    assert all(" 0 created, 0 updated" in output for _code, output in outputs), outputs
    assert table_counts() == before
    assert Revision.objects.count() == revisions


def test_update_is_counted_and_published(worked, import_file):
    code, output = import_file(
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points,deadline,milestones\n"
        "worked,T1,Documents processed digitally,percent,higher,40,100,35,,2025-06-30:80\n",
    )

    assert code == 0, output
    assert "0 created, 1 updated, 0 unchanged" in output
    assert TargetPage.objects.get(competition=worked, code="T1").max_points == 35


def test_competition_option_fills_the_column(worked, import_file):
    code, output = import_file(
        "adjustments", "agency,points,reason\nA,1.5,Open data award\n", "--competition", "worked"
    )

    assert code == 0, output
    assert Adjustment.objects.get(reason="Open data award").points == 1.5


def test_agencies_parent_may_come_later_in_the_file(db, import_file):
    code, output = import_file("agencies", "code,name,parent_code\nW1,Ward 1,CITY\nCITY,The city,\n")

    assert code == 0, output
    assert Agency.objects.get(code="W1").parent.code == "CITY"


def test_agencies_parent_loop_is_refused(db, import_file):
    code, output = import_file("agencies", "code,name,parent_code\nX1,One,X2\nX2,Two,X1\n")

    assert code == 1
    assert "column parent_code" in output and "loop" in output
    assert not Agency.objects.exists()


@pytest.mark.parametrize("file_format", ["json", "xlsx"])
def test_json_and_xlsx_files_import(db, tmp_path, file_format):
    rows = [{"code": "A1", "name": "Agency one", "level": "ward"}, {"code": "A2", "name": "Agency two"}]
    path = tmp_path / f"agencies.{file_format}"
    if file_format == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    else:
        dataset = tablib.Dataset(headers=["code", "name", "level"])
        for row in rows:
            dataset.append([row["code"], row["name"], row.get("level", "")])
        path.write_bytes(dataset.export("xlsx"))

    code, output = call_import("agencies", path)

    assert code == 0, output
    assert list(Agency.objects.values_list("code", "level")) == [("A1", "ward"), ("A2", "")]


def test_a_deeply_nested_json_file_is_a_file_error(db, tmp_path):
    path = tmp_path / "agencies.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)  # 200 KB

    code, output = call_import("agencies", path)

    assert code == 1
    assert output == f"{path}: the JSON file is nested too deeply; it must hold a list of objects."
    assert not Agency.objects.exists()


def test_dry_run_writes_nothing(db, import_file):
    code, output = import_file("agencies", "code,name\nD1,Dry\n", "--dry-run")

    assert code == 0
    assert "1 created" in output and "dry run" in output
    assert not Agency.objects.exists()


def test_jurors_creates_users_without_usable_password(worked):
    juror = Juror.objects.select_related("user").get(competition=worked, user__username="j1")

    assert not juror.user.has_usable_password()
    assert juror.agency is None


VALUE_HEADER = "competition,agency,target,reported_on,value,note\n"
SCORE_HEADER = "competition,agency,target,reported_on,juror,points,comment\n"

REFUSALS = [
    # (kind, file text, expected "row N, column C" and words of the message)
    ("values", VALUE_HEADER + "worked,ZZ,T1,2025-06-30,50,\n", "row 1, column agency", "unknown agency"),
    ("values", VALUE_HEADER + "nope,A,T1,2025-06-30,50,\n", "row 1, column competition", "unknown competition"),
    ("values", VALUE_HEADER + "worked,A,T9,2025-06-30,50,\n", "row 1, column target", "unknown target"),
    ("values", VALUE_HEADER + "worked,A,T1,2025-06-30,abc,\n", "row 1, column value", "not a number"),
    ("values", VALUE_HEADER + 'worked,A,T1,2025-06-30,"85,5",\n', "row 1, column value", "not a number"),
    ("values", VALUE_HEADER + "worked,A,T1,2025-06-30,100.5,\n", "row 1, column value", "between 0 and 100"),
    ("values", VALUE_HEADER + "worked,A,T1,2025-06-30,-1,\n", "row 1, column value", "between 0 and 100"),
    ("values", VALUE_HEADER + "worked,A,T2,2025-06-30,-2,\n", "row 1, column value", "days cannot be negative"),
    ("values", VALUE_HEADER + "worked,A,T1,2026-01-01,50,\n", "row 1, column reported_on", "outside"),
    ("values", VALUE_HEADER + "worked,A,T1,2024-12-31,50,\n", "row 1, column reported_on", "outside"),
    ("values", VALUE_HEADER + "worked,A,T1,30/06/2025,50,\n", "row 1, column reported_on", "YYYY-MM-DD"),
    (
        "values",
        VALUE_HEADER + "worked,A,T1,2025-07-31,50,\nworked,A,T1,2025-07-31,51,\n",
        "row 2, column reported_on",
        "duplicate key",
    ),
    ("scores", SCORE_HEADER + "worked,A,T2,2025-06-30,j1,21,\n", "row 1, column points", "between 0 and 20"),
    ("scores", SCORE_HEADER + "worked,A,T2,2025-06-30,j1,-1,\n", "row 1, column points", "between 0 and 20"),
    ("scores", SCORE_HEADER + "worked,A,T2,2025-06-30,nobody,5,\n", "row 1, column juror", "unknown user"),
    ("scores", SCORE_HEADER + "worked,B,T3,2025-06-30,j1,5,\n", "row 1, column reported_on", "no accepted value"),
    ("scores", SCORE_HEADER + "worked,A,T1,2025-06-30,j1,20,\nworked,A,T1,2025-06-30,j1,21,\n", "row 2", "duplicate"),
    ("adjustments", "competition,agency,points,reason\nworked,A,0,Nothing\n", "row 1, column points", "0 points"),
    ("adjustments", "competition,agency,points,reason\nworked,A,x,Bad\n", "row 1, column points", "not a number"),
    ("adjustments", "competition,agency,points,reason,on\nworked,A,1,Late,2026-01-05\n", "row 1, column on", "outside"),
    (
        "adjustments",
        "competition,agency,points,reason,on\nworked,A,1,Late,30/06/2025\n",
        "row 1, column on",
        "YYYY-MM-DD",
    ),
    (
        "competitions",
        "slug,title,start,end,closed\nworked,Worked example,2025-01-01,2025-12-31,maybe\n",
        "row 1, column closed",
        "not yes or no",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,percent,higher,0,120,10\n",
        "row 1, column target",
        "between 0 and 100",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,boolean,higher,0,2,10\n",
        "row 1, column target",
        "0 or 1",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,number,higher,-5,10,10\n",
        "row 1, column baseline",
        "count cannot be negative",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,litres,higher,0,10,10\n",
        "row 1, column unit",
        "not one of",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,number,sideways,0,10,10\n",
        "row 1, column direction",
        "not one of",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T9,Bad,number,higher,0,10,0\n",
        "row 1, column max_points",
        "more than 0",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points,deadline\n"
        "worked,T9,Bad,number,higher,0,10,5,2026-02-01\n",
        "row 1, column deadline",
        "outside",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points,milestones\n"
        "worked,T9,Bad,number,higher,0,10,5,2024-06-30:3\n",
        "row 1, column milestones",
        "outside",
    ),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points,milestones\n"
        "worked,T9,Bad,number,higher,0,10,5,soon:3\n",
        "row 1, column milestones",
        "YYYY-MM-DD",
    ),
    ("commitments", "competition,agency,target\nworked,A,T7\n", "row 1, column target", "unknown target"),
    ("commitments", "competition,agency,target,baseline\nworked,A,T1,101\n", "row 1, column baseline", "0 and 100"),
    ("jurors", "competition,username,agency\nworked,j9,NOPE\n", "row 1, column agency", "unknown agency"),
    ("jurors", "competition,username,email\nworked,j9,not-an-email\n", "row 1, column email", "valid e-mail"),
    ("agencies", "code,name\n,No code\n", "row 1, column code", "required"),
    ("agencies", "code,name\nbad code!,Bad\n", "row 1, column code", "letters, digits"),
    ("agencies", "code,name\nN1,One\nN1,Again\n", "row 2, column code", "duplicate key"),
    ("agencies", "code,name,parent_code\nN1,One,MISSING\n", "row 1, column parent_code", "unknown agency"),
    (
        "competitions",
        "slug,title,start,end\nbad-period,Bad,2025-12-31,2025-01-01\n",
        "row 1, column end",
        "end on or after",
    ),
    (
        "competitions",
        "slug,title,start,end,tiers\nbad-tiers,Bad,2025-01-01,2025-12-31,Good=75\n",
        "row 1, column tiers",
        "label:minimum",
    ),
    (
        "competitions",
        "slug,title,start,end,at_risk_margin\nbad-margin,Bad,2025-01-01,2025-12-31,1.5\n",
        "row 1, column at_risk_margin",
        "between 0 and 1",
    ),
    (
        "competitions",
        "slug,title,start,end,jury_aggregation\nbad-agg,Bad,2025-01-01,2025-12-31,max\n",
        "row 1, column jury_aggregation",
        "not one of",
    ),
]


@pytest.mark.parametrize(("kind", "text", "where", "words"), REFUSALS)
def test_invalid_rows_are_refused_and_nothing_is_written(worked, import_file, kind, text, where, words):
    # Arrange: a valid first row where the refusal is on row 2, so a partial write would show.
    before = table_counts()

    code, output = import_file(kind, text)

    assert code == 1
    assert any(line.startswith(where) and words in line for line in output.splitlines()), output
    assert "Traceback" not in output
    assert table_counts() == before


def test_conflict_of_interest_refused_on_import(worked, import_file):
    code, output = import_file("jurors", "competition,username,agency\nworked,conflicted,A\n")
    assert code == 0, output

    code, output = import_file("scores", SCORE_HEADER + "worked,A,T2,2025-06-30,conflicted,5,\n")

    assert code == 1
    assert "row 1, column juror" in output and "conflict of interest" in output
    assert not JuryScore.objects.filter(juror__user__username="conflicted").exists()


def test_affiliating_a_juror_who_scored_the_agency_is_refused(worked, import_file):
    code, output = import_file("jurors", "competition,username,agency\nworked,j1,A\n")

    assert code == 1
    assert "conflict of interest" in output
    assert Juror.objects.get(user__username="j1").agency is None


def test_not_a_reviewer_refused(worked, import_file):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create(username="outsider")

    code, output = import_file("scores", SCORE_HEADER + "worked,A,T2,2025-06-30,outsider,5,\n")

    assert code == 1
    assert "not a reviewer" in output


def test_commitment_to_a_target_of_another_competition(worked, import_file):
    assert import_file("competitions", "slug,title,start,end\nother,Other,2025-01-01,2025-12-31\n")[0] == 0
    assert (
        import_file(
            "targets",
            "competition,code,title,unit,direction,baseline,target,max_points\nother,X1,X,number,higher,0,5,10\n",
        )[0]
        == 0
    )

    code, output = import_file("commitments", "competition,agency,target\nworked,A,X1\n")

    assert code == 1
    assert "row 1, column target: target 'X1' belongs to another competition" in output
    assert not CommitmentPage.objects.filter(competition__slug="other").exists()


def test_a_bad_row_among_good_ones_writes_nothing(worked, import_file):
    before = Submission.objects.count()

    code, output = import_file("values", VALUE_HEADER + "worked,A,T1,2025-07-31,90,\nworked,A,T1,2025-08-31,900,\n")

    assert code == 1
    assert "row 2, column value" in output
    assert "row 1" not in output
    assert Submission.objects.count() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"", "empty"),
        (b"code,nom\nX,Y\n", "missing column(s): name"),
        (b"code,name,colour\nX,Y,red\n", "unknown column(s): colour"),
    ],
)
def test_unreadable_files_are_refused(db, tmp_path, content, message):
    path = tmp_path / "agencies.csv"
    path.write_bytes(content)

    code, output = call_import("agencies", path)

    assert code == 1
    assert message in output
    assert not Agency.objects.exists()


def test_unsupported_extension(db, tmp_path):
    path = tmp_path / "agencies.txt"
    path.write_text("code,name\n", encoding="utf-8")

    code, output = call_import("agencies", path)

    assert code == 1
    assert "unsupported file type" in output


def test_period_change_that_strands_values_is_refused(worked, import_file):
    code, output = import_file("competitions", "slug,title,start,end\nworked,Worked example,2025-07-01,2025-12-31\n")

    assert code == 1
    assert "outside" in output
    assert CompetitionPage.objects.get(slug="worked").start_date.isoformat() == "2025-01-01"


def test_scores_and_values_on_equal_dates_use_the_latest_acceptance(worked):
    # Two accepted submissions on one date: the import updates the one the board would use.
    line = CommitmentLine.objects.get(commitment__agency__code="A", target__code="T2")
    older = Submission.objects.get(line=line)
    newer = Submission.objects.create(
        line=line, reported_on=older.reported_on, value=8, status=SubmissionStatus.ACCEPTED, decided_at=older.decided_at
    )

    code, output = call_import_text(worked, VALUE_HEADER + "worked,A,T2,2025-06-30,6,\n")

    assert code == 0, output
    newer.refresh_from_db()
    older.refresh_from_db()
    assert (newer.value, older.value) == (6, 7)


def call_import_text(worked, text, kind="values"):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        return call_import(kind, path)


def test_closed_column_closes_and_reopens_judging_with_an_audit_entry(worked, import_file):
    from wagtail.models import PageLogEntry

    header = "slug,title,start,end,closed\n"
    closed = import_file("competitions", header + "worked,Worked example,2025-01-01,2025-12-31,yes\n")
    worked.refresh_from_db()
    was_closed = worked.closed
    blank = import_file("competitions", header + "worked,Worked example,2025-01-01,2025-12-31,\n", name="blank.csv")
    worked.refresh_from_db()
    still_closed = worked.closed
    reopened = import_file("competitions", header + "worked,Worked example,2025-01-01,2025-12-31,no\n", name="no.csv")
    worked.refresh_from_db()

    assert closed[0] == blank[0] == reopened[0] == 0
    assert "1 updated" in closed[1] and "1 unchanged" in blank[1] and "1 updated" in reopened[1]
    assert (was_closed, still_closed, worked.closed) == (True, True, False)
    actions = list(
        PageLogEntry.objects.filter(page=worked, action__startswith="competition.judging")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["competition.judging_close", "competition.judging_reopen"]
    # Judging is the competition's state, not its content: no new revision for it.
    assert worked.revisions.count() == 1


def test_adjustment_dates_are_imported_and_change_the_board_from_that_day(worked, import_file, client):
    code, output = import_file(
        "adjustments", "competition,agency,points,reason,on\nworked,B,5,Helped another agency,2025-07-02\n"
    )

    before = client.get("/worked/scoreboard.json?as_of=2025-07-01").json()["agencies"]
    on = client.get("/worked/scoreboard.json?as_of=2025-07-02").json()["agencies"]

    assert code == 0, output
    assert {a["code"]: a["adjustments"] for a in before} == {"A": 2, "B": -3}
    assert {a["code"]: a["adjustments"] for a in on} == {"A": 2, "B": 2}
