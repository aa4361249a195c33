"""Exports are symmetric with imports: exporting any kind and importing the file back changes
nothing, in every format."""

import pytest

from competition.imports import load_dataset, run_import
from competition.resources import RESOURCES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", list(RESOURCES))
@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_export_then_import_changes_nothing(worked, kind, file_format):
    resource = RESOURCES[kind](competition="worked" if kind != "agencies" else None)
    exported = resource.export()
    content = exported.export(file_format)
    content = content.encode() if isinstance(content, str) else content

    report = run_import(kind, load_dataset(content, file_format))

    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 0)
    assert report.unchanged == len(exported) > 0


@pytest.mark.parametrize("kind", ["competitions", "scores", "adjustments"])
def test_export_then_import_changes_nothing_once_judging_is_closed(worked_closed, kind):
    resource = RESOURCES[kind](competition="worked")
    exported = resource.export()
    if kind == "competitions":
        assert exported.dict[0]["closed"] == "yes"
    if kind == "adjustments":
        assert {row["on"] for row in exported.dict} == {"2025-06-30"}

    report = run_import(kind, load_dataset(exported.export("csv").encode(), "csv"))

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(exported))


PLEDGES = {
    # Two paragraphs, a line break, text a spreadsheet would take for a formula, Vietnamese.
    "A": "Build the shared database of voters' recommendations.\n\n- a model digital office\n=by 30 June",
    "B": "Xây dựng văn phòng số kiểu mẫu.",
}


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_commitments_with_pledges_export_then_import_changes_nothing(worked, file_format):
    """The `pledge` column: set by an import, exported as the admin and `competition_export` write
    it (formula-safe), imported back with nothing changed."""
    from competition.exports import export
    from competition.models import CommitmentPage
    from competition.spreadsheets import export_dataset

    exported = export("commitments", competition="worked")
    for row in range(len(exported)):
        agency = exported["agency"][row]
        cells = list(exported[row])
        cells[exported.headers.index("pledge")] = PLEDGES.get(agency, "")
        exported[row] = cells
    first = run_import("commitments", load_dataset(export_dataset(exported, "csv").encode(), "csv"))
    assert first.ok, first.errors
    assert first.updated == len(PLEDGES)  # one row per agency changes its page, the others follow
    page = CommitmentPage.objects.get(competition=worked, agency__code="A")
    assert page.pledge.startswith("<p>Build the shared database") and "<br>=by 30 June</p>" in page.pledge
    revisions = page.revisions.count()

    again = export("commitments", competition="worked")
    assert {row["agency"]: row["pledge"] for row in again.dict if row["agency"] in PLEDGES} == PLEDGES
    content = export_dataset(again, file_format)
    content = content.encode() if isinstance(content, str) else content
    if file_format == "csv":
        assert "\"'- a model digital office" not in content.decode()  # inside a cell: not neutralised
    report = run_import("commitments", load_dataset(content, file_format))

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(again))
    assert page.revisions.count() == revisions


def test_commitments_without_the_pledge_column_leave_pledges_as_they_are(worked):
    from competition.models import CommitmentPage

    page = CommitmentPage.objects.get(competition=worked, agency__code="A")
    page.pledge = "<p><b>Bold</b> pledge</p>"
    page.save_revision().publish()
    text = "competition,agency,target,baseline,target_value\nworked,A,T1,,\n"

    report = run_import("commitments", load_dataset(text.encode(), "csv"))

    assert report.ok and report.unchanged == 1
    page.refresh_from_db()
    assert page.pledge == "<p><b>Bold</b> pledge</p>"
    # Same text in the column: the page keeps its formatting too.
    text = "competition,agency,target,baseline,target_value,pledge\nworked,A,T1,,,Bold pledge\n"
    report = run_import("commitments", load_dataset(text.encode(), "csv"))
    assert report.ok and report.unchanged == 1
    page.refresh_from_db()
    assert page.pledge == "<p><b>Bold</b> pledge</p>"
