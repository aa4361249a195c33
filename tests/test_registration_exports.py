"""Imports and exports around registration (docs/imports.md): the `pledge` column of the
`commitments` kind (its refusals, nothing changed on a bad row, the manager's scope) and the
managers' `registrations` export, from the admin's Import and export screen and from
`competition_export`, in CSV, XLSX and JSON, formula-safe, limited to the competitions a
manager manages."""

import io
import json

import pytest
import tablib
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from wagtail.models import GroupPagePermission

from competition.domain import registration as registrations
from competition.imports import load_dataset, run_import
from competition.models import CommitmentPage
from tests import test_registration
from tests.factories import UserFactory
from tests.helpers import call_import, table_counts
from tests.test_registration import submitted

reg = test_registration.reg  # the fixture: a competition taking registrations (tests/test_registration.py)

pytestmark = pytest.mark.django_db

HEADER = "competition,agency,target,baseline,target_value,pledge\n"


def registered(world):
    """A returned with a reason (own T2 target, a formula-like pledge), B approved, none from
    the other competition's agency."""
    a = submitted(world, "A", T2=("1500", "We digitise the 2019 archive too."))
    a.pledge = '=HYPERLINK("http://example.org","click")'
    a.save(update_fields=["pledge"])
    registrations.decide(a, world["manager"], "return", "Add the 2024 baseline.")
    b = submitted(world, "B")
    registrations.decide(b, world["manager"], "approve")
    return a, b


def other_manager(world):
    """A manager of the other competition only."""
    group = Group.objects.create(name="Managers of the other competition")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group, page=world["other"], permission=Permission.objects.get(codename="publish_page")
    )
    user = UserFactory(username="other-boss")
    user.groups.add(group)
    return user


def test_registrations_export_from_the_command_holds_every_agencys_state_lines_and_pledges(reg, tmp_path):
    registered(reg)
    path = tmp_path / "registrations.csv"
    out = io.StringIO()

    call_command("competition_export", "registrations", str(path), "--competition", "reg", stdout=out)

    rows = tablib.Dataset().load(path.read_text(encoding="utf-8"), format="csv").dict
    assert out.getvalue().strip() == f"registrations: {len(rows)} rows written to {path}"
    a_rows = {row["target"]: row for row in rows if row["agency"] == "A"}
    assert set(a_rows) == {"T1", "T2"}
    assert a_rows["T2"]["status"] == "returned" and a_rows["T2"]["reason"] == "Add the 2024 baseline."
    assert a_rows["T2"]["target_value"] == "1500"
    assert a_rows["T2"]["justification"] == "We digitise the 2019 archive too."
    assert a_rows["T1"]["required"] == "yes" and a_rows["T2"]["required"] == "no"
    assert a_rows["T2"]["submitted_at"] and a_rows["T2"]["decided_at"] and a_rows["T2"]["decided_by"] == "manager"
    # Formula-safe: the pledge that starts with "=" is text, with an apostrophe in CSV.
    assert a_rows["T1"]["pledge"] == '\'=HYPERLINK("http://example.org","click")'
    b = [row for row in rows if row["agency"] == "B"]
    assert [(row["status"], row["pledge"], row["target"]) for row in b] == [("approved", "Pledge of B", "T1")]
    assert {row["competition"] for row in rows} == {"reg"}


@pytest.mark.parametrize("file_format", ["xlsx", "json"])
def test_registrations_export_in_xlsx_and_json(reg, tmp_path, file_format):
    registered(reg)
    path = tmp_path / f"registrations.{file_format}"

    call_command("competition_export", "registrations", str(path), stdout=io.StringIO())

    if file_format == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path).active
        headers = [cell.value for cell in sheet[1]]
        pledges = [row[headers.index("pledge")] for row in sheet.iter_rows(min_row=2)]
        formula = next(cell for cell in pledges if str(cell.value).startswith("=HYPERLINK"))
        assert formula.data_type == "s"  # text, not a formula
        assert headers == list(registrations.EXPORT_HEADERS)
    else:
        rows = json.loads(path.read_text(encoding="utf-8"))
        # Every competition taking registrations, each agency expected to register in it.
        assert {(row["competition"], row["agency"], row["status"]) for row in rows} == {
            ("reg", "A", "returned"),
            ("reg", "B", "approved"),
            ("reg-other", "C", "not_started"),
        }


def test_registrations_export_from_the_admin_only_of_the_managers_competitions(client, reg):
    registered(reg)
    url = reverse("competition_export", args=("registrations", "csv"))
    client.force_login(reg["manager"])
    mine = client.get(url, {"competition": "reg"}).content.decode()
    assert "reg,A,Agency A,returned" in mine

    client.force_login(other_manager(reg))
    for query in ({"competition": "reg"}, {}):
        text = client.get(url, query).content.decode()
        assert "Agency A" not in text and "Pledge of B" not in text
        assert text.splitlines()[0] == ",".join(registrations.EXPORT_HEADERS)
    assert (
        client.get(reverse("competition_registration_export", args=[reg["competition"].pk, "csv"])).status_code == 404
    )


def test_the_import_screen_offers_the_registrations_export(client, reg):
    client.force_login(reg["manager"])

    content = client.get(reverse("competition_import")).content.decode()

    assert reverse("competition_export", args=("registrations", "xlsx")) in content
    assert "Export only: registrations change on their own screens" in content


def test_registrations_cannot_be_imported(reg, tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_text(",".join(registrations.EXPORT_HEADERS) + "\n", encoding="utf-8")

    with pytest.raises(CommandError, match="invalid choice: 'registrations'"):
        call_command("competition_import", "registrations", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_commitments_pledge_through_the_command_and_again_unchanged(reg, tmp_path):
    path = tmp_path / "commitments.csv"
    path.write_text(
        HEADER + 'reg,C,T1,,,"First paragraph.\n\nSecond, with a line\nbreak."\nreg,C,T2,,,\n', encoding="utf-8"
    )

    code, output = call_import("commitments", path)

    assert code == 0, output
    assert "commitments: 2 created, 0 updated, 0 unchanged" in output
    page = CommitmentPage.objects.get(competition=reg["competition"], agency__code="C")
    assert page.live and page.pledge == "<p>First paragraph.</p>\n\n<p>Second, with a line<br>break.</p>"
    assert call_import("commitments", path)[1].strip() == "commitments: 0 created, 0 updated, 2 unchanged"
    exported = tmp_path / "again.csv"
    call_command("competition_export", "commitments", str(exported), "--competition", "reg", stdout=io.StringIO())
    assert call_import("commitments", exported)[1].strip() == "commitments: 0 created, 0 updated, 2 unchanged"


@pytest.mark.parametrize(
    ("rows", "where", "words"),
    [
        (
            "reg,A,T1,,,One text\nreg,A,T2,,,Another text\n",
            "row 2, column pledge",
            "differ from those of the same agency in row 1",
        ),
        ("reg,A,T1,,,Hidden\u202etext\n", "row 1, column pledge", "invisible characters"),
        ("reg,A,T1,,," + "x" * 5001 + "\n", "row 1, column pledge", "too long: at most 5000 characters"),
        ("reg-other,C,X1,,,Not yours\n", "row 1, column competition", "you do not manage competition 'reg-other'"),
    ],
)
def test_bad_pledge_rows_are_refused_and_nothing_changes(reg, rows, where, words):
    page = CommitmentPage.objects.get(competition=reg["other"], agency__code="C")
    before = (table_counts(), page.pledge, page.revisions.count())

    report = run_import(
        "commitments",
        load_dataset((HEADER + rows).encode(), "csv"),
        # As the screens import for a manager of `reg` only (the command has no such limit).
        allowed_competitions={reg["competition"].pk},
    )

    assert any(line.startswith(where) and words in line for line in report.errors), report.errors
    page.refresh_from_db()
    assert (table_counts(), page.pledge, page.revisions.count()) == before


def test_a_manager_of_another_competition_cannot_import_pledges_into_it(client, reg):
    client.force_login(other_manager(reg))
    before = table_counts()

    response = client.post(
        reverse("competition_import"),
        {"kind": "commitments", "import_file": SimpleUploadedFile("c.csv", (HEADER + "reg,A,T1,,,Sneaky\n").encode())},
    )

    assert "row 1, column competition: you do not manage competition &#x27;reg&#x27;" in response.content.decode()
    assert "Confirm the import" not in response.content.decode()
    assert table_counts() == before and not CommitmentPage.objects.filter(competition=reg["competition"]).exists()


def test_the_export_command_refuses_an_unknown_competition_and_file_type(reg, tmp_path):
    with pytest.raises(CommandError, match="unknown competition 'nope'"):
        call_command("competition_export", "registrations", str(tmp_path / "r.csv"), "--competition", "nope")
    with pytest.raises(CommandError, match="unsupported file type"):
        call_command("competition_export", "values", str(tmp_path / "v.txt"))
    assert list(tmp_path.iterdir()) == []
