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
