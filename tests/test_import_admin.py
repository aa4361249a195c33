"""The import and export screens of the admin: upload, preview, confirm; refusals shown against
their rows with nothing written; exports and templates; managers only, scoped."""

import io
from datetime import date

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from wagtail.models import GroupPagePermission

from competition.domain.roles import EDITORS, MANAGERS, ensure_roles
from competition.models import Adjustment, Agency, ImportRecord
from competition.resources import RESOURCES
from tests.factories import UserFactory, make_competition
from tests.helpers import table_counts
from tests.test_imports import REFUSALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(worked):
    user = UserFactory(username="boss")
    user.groups.add(ensure_roles()[MANAGERS])
    return user


def upload(client, kind, text, name=None, **extra):
    data = {"kind": kind, "import_file": SimpleUploadedFile(name or f"{kind}.csv", text.encode()), **extra}
    return client.post(reverse("competition_import"), data)


def test_preview_then_confirm(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    before = Adjustment.objects.count()

    preview = upload(client, "adjustments", "agency,points,reason\nA,1,Open data\nB,-1,Late\n", competition="worked")
    content = preview.content.decode()
    token = preview.context["token"]

    assert "will create 2, update 0 and leave 0 unchanged" in content
    assert Adjustment.objects.count() == before  # the preview wrote nothing
    # The import is a task enqueued once the request commits (tests/test_import_jobs.py).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("competition_import_confirm"),
            {"token": token, "kind": "adjustments", "competition": "worked", "file_name": "adjustments.csv"},
        )
    assert response.status_code == 302
    assert Adjustment.objects.count() == before + 2
    record = ImportRecord.objects.get(user=manager)
    assert (record.user, record.kind, record.file_name, record.created) == (
        manager,
        "adjustments",
        "adjustments.csv",
        2,
    )
    # The same token cannot import twice.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("competition_import_confirm"), {"token": token, "kind": "adjustments"})
    assert Adjustment.objects.count() == before + 2


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("values", "competition,agency,target,reported_on,value\nworked,A,T1,2025-07-31,120\n", "row 1, column value"),
        ("values", "competition,agency,target,reported_on,value\nworked,ZZ,T1,2025-07-31,50\n", "row 1, column agency"),
        (
            "scores",
            "competition,agency,target,reported_on,juror,points\nworked,A,T2,2025-06-30,j1,99\n",
            "row 1, column points",
        ),
        ("agencies", "code,name\nX,One\nX,Two\n", "row 2, column code"),
    ],
)
def test_refusals_shown_against_rows_and_nothing_written(client, manager, kind, text, expected):
    client.force_login(manager)
    before = table_counts()

    content = upload(client, kind, text).content.decode()

    assert expected in content and "nothing will be imported" in content
    assert "Confirm the import" not in content
    assert table_counts() == before


def test_unreadable_file_is_refused_with_a_message(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("competition_import"), {"kind": "agencies", "import_file": SimpleUploadedFile("a.xlsx", b"not excel")}
    )

    assert "not a readable XLSX" in response.content.decode()


def test_manager_of_another_competition_cannot_import_into_this_one(client, worked):
    other = make_competition(slug="theirs")
    group = ensure_roles()[MANAGERS].__class__.objects.create(name="Other managers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group, page=other, permission=Permission.objects.get(codename="publish_page")
    )
    user = UserFactory(username="other-boss")
    user.groups.add(group)
    client.force_login(user)

    content = upload(client, "adjustments", "competition,agency,points,reason\nworked,A,5,Sneaky\n").content.decode()
    export = client.get(reverse("competition_export", args=("adjustments", "csv"))).content.decode()

    assert "you do not manage competition" in content
    assert not Adjustment.objects.filter(reason="Sneaky").exists()
    assert "Initiative bonus" not in export


def test_editors_cannot_open_the_screens(client, worked):
    user = UserFactory(username="ed")
    user.groups.add(ensure_roles()[EDITORS])
    client.force_login(user)

    for url in (
        reverse("competition_import"),
        reverse("competition_export", args=("values", "csv")),
        reverse("competition_template", args=("values", "csv")),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403) and response.get("Location", "/admin/") == "/admin/"


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_templates_have_the_header_and_an_example(client, manager, kind):
    client.force_login(manager)

    response = client.get(reverse("competition_template", args=(kind, "xlsx")))

    dataset = tablib.Dataset().load(response.content, format="xlsx")
    assert dataset.headers == RESOURCES[kind].columns()
    assert len(dataset) == 1


def test_export_downloads_and_reimports_through_the_screen(client, manager):
    client.force_login(manager)
    exported = client.get(reverse("competition_export", args=("values", "csv")), {"competition": "worked"})

    preview = upload(client, "values", exported.content.decode())

    assert exported["Content-Disposition"].startswith("attachment")
    assert "will create 0, update 0 and leave 5 unchanged" in preview.content.decode()


def test_command_progress_bar_only_on_a_terminal(worked_dir, tmp_path, db):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rows = "code,name\n" + "".join(f"P{i:04d},Agency {i}\n" for i in range(250))
    path = tmp_path / "agencies.csv"
    path.write_text(rows, encoding="utf-8")
    terminal, plain = Terminal(), io.StringIO()

    call_command("competition_import", "agencies", str(path), "--dry-run", stdout=io.StringIO(), stderr=terminal)
    call_command("competition_import", "agencies", str(path), "--dry-run", stdout=io.StringIO(), stderr=plain)

    assert "100% (250/250)" in terminal.getvalue()
    assert plain.getvalue() == ""
    assert not Agency.objects.exists()


@pytest.mark.parametrize(("kind", "text", "where", "words"), REFUSALS)
def test_every_refusal_of_the_contract_through_the_admin(client, manager, kind, text, where, words):
    client.force_login(manager)
    before = table_counts()

    response = upload(client, kind, text)

    errors = response.context["report"].errors
    assert any(line.startswith(where) and words in line for line in errors), errors
    assert "Confirm the import" not in response.content.decode()
    assert table_counts() == before


def test_the_import_screen_is_titled_by_its_name(client, manager):
    from bs4 import BeautifulSoup

    client.force_login(manager)

    page = BeautifulSoup(client.get(reverse("competition_import")).content, "html.parser")

    assert page.title.get_text(strip=True).startswith("Import")
    crumbs = [item.get_text(" ", strip=True) for item in page.select("nav ol li")]
    assert crumbs and crumbs[-1] == "Import", crumbs


def preview_table(response):
    """The preview's table as {row number: {column: cell text}} (with its state as "Change")."""
    from bs4 import BeautifulSoup

    table = BeautifulSoup(response.content, "html.parser").select_one("table.import-preview")
    headers = [cell.get_text(" ", strip=True) for cell in table.select("thead th")]
    rows = {}
    for tr in table.select("tbody tr"):
        cells = [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
        rows[int(cells[0])] = dict(zip(headers[1:], cells[1:], strict=True))
    return rows


GOOD_VALUES = "competition,agency,target,reported_on,value,note\nworked,A,T1,2025-07-31,50.5,From the system\n"


def test_preview_shows_every_column_of_a_valid_row(client, manager):
    """Regression: the preview left `reported_on` and `value` blank (django-import-export's Diff
    read the fields' attributes, and these columns have none)."""
    client.force_login(manager)

    rows = preview_table(upload(client, "values", GOOD_VALUES))

    assert rows[1] == {
        "Change": "new",
        "competition": "worked",
        "agency": "A",
        "target": "T1",
        "reported_on": "July 31, 2025",
        "value": "50.5",
        "note": "From the system",
    }


def test_preview_formats_dates_and_numbers_in_the_readers_language(client, manager):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(manager)
    profile.preferred_language = "vi"
    profile.save()
    client.force_login(manager)

    rows = preview_table(upload(client, "values", GOOD_VALUES))

    # Django's own Vietnamese date format (it changed between 5.2 releases: "Ngày 31 tháng 7 …").
    with translation.override("vi"):
        expected_day = date_format(date(2025, 7, 31))
    assert (rows[1]["reported_on"], rows[1]["value"]) == (expected_day, "50,5")


def test_preview_shows_a_changed_value_before_and_after(client, manager):
    client.force_login(manager)
    exported = client.get(reverse("competition_export", args=("values", "csv")), {"competition": "worked"})
    first = tablib.Dataset().load(exported.content.decode(), format="csv").dict[0]
    text = (
        "competition,agency,target,reported_on,value,note\n"
        f"worked,{first['agency']},{first['target']},{first['reported_on']},1.25,{first['note']}\n"
    )

    rows = preview_table(upload(client, "values", text))

    assert rows[1]["Change"] == "update"
    assert rows[1]["value"] == f"was {first['value']} → becomes 1.25"


def test_preview_of_a_bad_row_names_its_row_column_and_message_and_offers_no_confirmation(client, manager):
    """Regression: a refused row showed only "error", without its values or what was wrong."""
    client.force_login(manager)
    before = table_counts()

    response = upload(client, "values", GOOD_VALUES + "worked,A,T1,2025-08-31,150,Too much\n")

    rows = preview_table(response)
    content = response.content.decode()
    assert rows[1]["value"] == "50.5"
    assert rows[2]["Change"] == "refused"
    assert rows[2]["reported_on"] == "2025-08-31"
    assert rows[2]["value"] == "150 A percentage must lie between 0 and 100."
    assert "row 2, column value: A percentage must lie between 0 and 100." in content
    assert "Confirm the import" not in content and 'name="token"' not in content
    assert "cannot be imported while any row is refused" in content
    assert table_counts() == before


def test_the_import_screen_names_each_kind_in_the_managers_language(client, manager):
    """The kinds read "agencies", "values", "scores"... in English in the Vietnamese admin: each is
    now named in words, its file name (docs/imports.md) beside it."""
    from bs4 import BeautifulSoup

    client.force_login(manager)

    for language, values, registrations in (
        ("en", "Reported values (values)", "Registrations registrations"),
        ("vi", "Giá trị đã báo cáo (values)", "Đăng ký thi đua registrations"),
    ):
        page = BeautifulSoup(
            client.get(reverse("competition_import"), HTTP_ACCEPT_LANGUAGE=language).content, "html.parser"
        )
        options = {option["value"]: option.get_text(strip=True) for option in page.select("select[name=kind] option")}
        rows = [row.get_text(" ", strip=True) for row in page.select("#export-heading ~ table tbody th")]
        assert options["values"] == values, options
        assert registrations in rows, rows
