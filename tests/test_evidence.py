"""Evidence in the admin: editors report for their agencies only, managers decide, every state
change is audited, files are checked, nothing submitted is ever deleted."""

from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from wagtail.documents import get_document_model

from competition.domain import evidence
from competition.domain.roles import EDITORS, MANAGERS, ensure_roles
from competition.enums import SubmissionStatus
from competition.models import AgencyMembership, CommitmentLine, CompetitionLogEntry, Submission
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def world():
    groups = ensure_roles()
    competition = make_competition(slug="loop")
    other_competition = make_competition(slug="elsewhere")
    target = make_target(competition, code="T1", baseline=0, target=100, max_points=10)
    other_target = make_target(other_competition, code="X1")
    agency_a, agency_b = AgencyFactory(code="A"), AgencyFactory(code="B")
    make_commitment(competition, agency_a, [target])
    make_commitment(competition, agency_b, [target])
    make_commitment(other_competition, agency_a, [other_target])
    users = {}
    for name, agency in (("editor_a", agency_a), ("editor_b", agency_b)):
        users[name] = UserFactory(username=name)
        users[name].groups.add(groups[EDITORS])
        AgencyMembership.objects.create(user=users[name], agency=agency)
    users["manager"] = UserFactory(username="manager")
    users["manager"].groups.add(groups[MANAGERS])
    users["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    line_a = CommitmentLine.objects.get(commitment__agency=agency_a, target=target)
    line_b = CommitmentLine.objects.get(commitment__agency=agency_b, target=target)
    return {"competition": competition, "line_a": line_a, "line_b": line_b, **users}


def test_each_change_of_status_records_who_and_when_a_revision_and_an_audit_entry(world):
    """domain.transitions.record_transition, which registrations share: a decision keeps its note,
    handing in again clears it."""
    editor, manager = world["editor_a"], world["manager"]
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)

    evidence.submit(submission, editor)
    evidence.decide(submission, manager, "return", "Attach the scan.")
    submission.refresh_from_db()
    returned = (submission.status, submission.decided_by, submission.decision_note)
    decided_at = submission.decided_at
    evidence.submit(submission, editor)
    submission.refresh_from_db()

    assert returned == (SubmissionStatus.RETURNED, manager, "Attach the scan.") and decided_at is not None
    assert (submission.status, submission.submitted_by, submission.decision_note) == (
        SubmissionStatus.SUBMITTED,
        editor,
        "",
    )
    entries = CompetitionLogEntry.objects.filter(object_id=str(submission.pk), action__startswith="competition.")
    assert [(e.action, e.user_id, e.data, e.revision_id is not None) for e in entries.order_by("timestamp", "pk")] == [
        ("competition.submit", editor.pk, {"from": "draft", "to": "submitted", "note": ""}, True),
        ("competition.return", manager.pk, {"from": "submitted", "to": "returned", "note": "Attach the scan."}, True),
        ("competition.submit", editor.pk, {"from": "returned", "to": "submitted", "note": ""}, True),
    ]


def denied(response):
    """Refused: 403 or 404, or Wagtail's redirect of a PermissionDenied to the dashboard or login."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and (response["Location"] == "/admin/" or "/login/" in response["Location"])


def read_only(response, submission):
    """Not editable: refused, or (for those who may see it) sent to its read-only Inspect page."""
    return denied(response) or (response.status_code == 302 and response["Location"] == url("inspect", submission.pk))


def url(name, *args):
    return reverse(f"wagtailsnippets_competition_submission:{name}", args=args)


def add_data(line, value="55", day="2025-06-30", **extra):
    data = {
        "line": line.pk,
        "reported_on": day,
        "value": value,
        "narrative": "Counted from the document system.",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_editor_drafts_with_a_file_into_the_agency_collection(client, world):
    client.force_login(world["editor_a"])

    response = client.post(
        url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile("scan.pdf", PDF, "application/pdf"))
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    submission = Submission.objects.get()
    assert (submission.status, submission.created_by) == (SubmissionStatus.DRAFT, world["editor_a"])
    document = submission.attachments.get().document
    assert document.collection.name.startswith("A ") and document.collection.get_parent().name == "Evidence"
    assert submission.revisions.count() == 1


def test_editor_cannot_choose_another_agencys_line(client, world):
    client.force_login(world["editor_a"])

    response = client.post(url("add"), add_data(world["line_b"]))

    assert response.status_code == 200
    assert not Submission.objects.exists()


def test_the_full_loop_moves_the_public_board(client, world, django_capture_on_commit_callbacks):
    # Editor drafts and submits.
    client.force_login(world["editor_a"])
    client.post(url("add"), add_data(world["line_a"], value="40"))
    submission = Submission.objects.get()
    client.post(url("submit", submission.pk))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED and submission.submitted_by == world["editor_a"]
    assert read_only(client.get(url("edit", submission.pk)), submission)

    # Manager returns it without a reason: refused; with a reason: returned, e-mailed.
    client.force_login(world["manager"])
    client.post(url("decide", submission.pk), {"decision": "return", "note": ""})
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("decide", submission.pk), {"decision": "return", "note": "Attach the scan."})
    submission.refresh_from_db()
    assert (submission.status, submission.decision_note) == (SubmissionStatus.RETURNED, "Attach the scan.")
    assert len(mail.outbox) == 1 and "Attach the scan." in mail.outbox[0].body
    assert mail.outbox[0].to == ["editor_a@example.org"]

    # Editor reads the reason, fixes and resubmits.
    client.force_login(world["editor_a"])
    assert "Attach the scan." in client.get(url("inspect", submission.pk)).content.decode()
    response = client.post(
        url("edit", submission.pk),
        add_data(world["line_a"], value="60", new_attachments=SimpleUploadedFile("proof.png", PNG, "image/png")),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post(url("submit", submission.pk))

    # Manager accepts: the public board shows the value.
    client.force_login(world["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("decide", submission.pk), {"decision": "accept"})
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.ACCEPTED and submission.value == 60
    client.logout()
    board = client.get("/loop/scoreboard.json?as_of=2025-07-01").json()
    line = next(a for a in board["agencies"] if a["code"] == "A")["targets"][0]
    assert (line["value"], line["status"]) == (60, "on_track")

    actions = list(
        CompetitionLogEntry.objects.filter(object_id=str(submission.pk))
        .order_by("timestamp")
        .values_list("action", flat=True)
    )
    assert [a for a in actions if a.startswith("competition.")] == [
        "competition.submit",
        "competition.return",
        "competition.submit",
        "competition.accept",
    ]
    assert submission.revisions.count() >= 5


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_decided_submissions_are_read_only_for_everyone(client, world, decision):
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=5)
    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], decision, "Not evidence" if decision == "reject" else "")

    for user in ("editor_a", "manager", "superuser"):
        client.force_login(world[user])
        assert read_only(client.get(url("edit", submission.pk)), submission)
        assert denied(client.post(url("edit", submission.pk), add_data(world["line_a"], value="99")))
    submission.refresh_from_db()
    assert submission.value == 5


def test_editor_cannot_decide_and_manager_cannot_submit(world):
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=5)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        evidence.submit(submission, world["manager"])
    evidence.submit(submission, world["editor_a"])
    with pytest.raises(PermissionDenied):
        evidence.decide(submission, world["editor_a"], "accept")


def test_submitted_evidence_can_never_be_deleted(client, world):
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=5)
    evidence.submit(submission, world["editor_a"])
    client.force_login(world["editor_a"])

    assert denied(client.post(url("delete", submission.pk)))
    with pytest.raises(ProtectedError), transaction.atomic():
        submission.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Submission.objects.filter(pk=submission.pk).delete()
    assert Submission.objects.filter(pk=submission.pk).exists()


def test_a_draft_never_submitted_may_be_deleted_by_its_editor(client, world):
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=5)
    client.force_login(world["editor_a"])

    response = client.post(url("delete", submission.pk))

    assert response.status_code == 302
    assert not Submission.objects.exists()


def test_listing_shows_only_own_agency_to_editors(client, world):
    mine = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=5, narrative="mine")
    Submission.objects.create(line=world["line_b"], reported_on=date(2025, 6, 30), value=6, narrative="theirs")
    client.force_login(world["editor_a"])

    content = client.get(url("list")).content.decode()
    export = b"".join(client.get(url("list"), {"export": "csv"}).streaming_content).decode()

    assert url("edit", mine.pk) in content
    assert url("edit", Submission.objects.get(narrative="theirs").pk) not in content
    assert "theirs" not in export and "mine" in export


BAD_FILES = [
    ("tool.exe", b"MZ\x90\x00", "not accepted"),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not accepted"),
    ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
    ("photo.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "does not match"),
    ("report.pdf", b"just text pretending", "does not match"),
    ("table.csv", b"<script>alert(1)</script>", "CSV"),
    ("sheet.xlsx", b"not a zip", "does not match"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_refused_files_leave_nothing_behind(client, world, name, content, message):
    client.force_login(world["editor_a"])
    documents = get_document_model().objects.count()

    response = client.post(url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile(name, content)))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Submission.objects.exists()
    assert get_document_model().objects.count() == documents


def test_files_over_the_size_limit_are_refused(client, world, settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1000
    client.force_login(world["editor_a"])
    content = PDF + b"x" * (1001 - len(PDF))

    response = client.post(
        url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile("big.pdf", content))
    )

    assert response.status_code == 200
    assert "the limit is" in response.content.decode()
    assert not get_document_model().objects.exists()


def test_file_of_exactly_the_limit_is_accepted(client, world, settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1000
    client.force_login(world["editor_a"])
    content = PDF + b"x" * (1000 - len(PDF))

    response = client.post(url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile("ok.pdf", content)))

    assert response.status_code == 302


def fetch(client, path):
    """GET a download, read it whole and close it (serve views stream files)."""
    response = client.get(path)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    # Closing fires request_finished, which would close the test's database connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return response


def test_evidence_downloads_only_for_those_allowed(client, world):
    client.force_login(world["editor_a"])
    client.post(url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile("scan.pdf", PDF)))
    submission = Submission.objects.get()
    document = submission.attachments.get().document
    download = reverse("wagtaildocs_serve", args=(document.pk, document.filename))

    response = fetch(client, download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    client.force_login(world["editor_b"])
    assert fetch(client, download).status_code == 403
    client.logout()
    assert fetch(client, download).status_code == 403

    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], "accept")
    assert fetch(client, download).status_code == 200


def test_editor_removes_a_file_from_a_draft_and_the_history_keeps_it(client, world):
    client.force_login(world["editor_a"])
    client.post(
        url("add"),
        add_data(
            world["line_a"],
            new_attachments=[
                SimpleUploadedFile("wrong.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("right.pdf", PDF + b"%", "application/pdf"),
            ],
        ),
    )
    submission = Submission.objects.get()
    wrong = submission.attachments.get(document__title="wrong.pdf")
    form = client.get(url("edit", submission.pk)).content.decode()
    assert "Remove evidence files" in form and "wrong.pdf" in form

    response = client.post(url("edit", submission.pk), add_data(world["line_a"], remove_attachments=[wrong.pk]))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [a.document.title for a in submission.attachments.all()] == ["right.pdf"]
    assert get_document_model().objects.filter(title="wrong.pdf").exists()  # kept for the history
    first, latest = submission.revisions.order_by("pk")
    assert len(first.content["attachments"]) == 2 and len(latest.content["attachments"]) == 1


def test_editor_cannot_remove_another_submissions_file(client, world):
    client.force_login(world["editor_b"])
    client.post(url("add"), add_data(world["line_b"], new_attachments=SimpleUploadedFile("b.pdf", PDF)))
    theirs = Submission.objects.get().attachments.get()
    client.force_login(world["editor_a"])
    client.post(url("add"), add_data(world["line_a"], new_attachments=SimpleUploadedFile("a.pdf", PDF)))
    mine = Submission.objects.get(line=world["line_a"])

    response = client.post(url("edit", mine.pk), add_data(world["line_a"], remove_attachments=[theirs.pk]))

    assert response.status_code == 200  # the choice is not one of this submission's files
    assert theirs.submission.attachments.count() == 1 and mine.attachments.count() == 1


def test_reverting_to_a_revision_with_files_shows_and_saves_them(client, world):
    client.force_login(world["editor_a"])
    client.post(
        url("add"),
        add_data(
            world["line_a"],
            value="40",
            new_attachments=[SimpleUploadedFile("old.pdf", PDF), SimpleUploadedFile("kept.pdf", PDF + b"%")],
        ),
    )
    submission = Submission.objects.get()
    first = submission.revisions.order_by("pk").first()
    old = submission.attachments.get(document__title="old.pdf")
    client.post(url("edit", submission.pk), add_data(world["line_a"], value="50", remove_attachments=[old.pk]))
    assert [a.document.title for a in submission.attachments.all()] == ["kept.pdf"]
    revert = reverse("wagtailsnippets_competition_submission:revisions_revert", args=[submission.pk, first.pk])

    form = client.get(revert)

    assert form.status_code == 200
    content = form.content.decode()
    assert "old.pdf" in content and "kept.pdf" in content and 'value="40' in content
    submission.refresh_from_db()
    response = client.post(
        revert, add_data(world["line_a"], value="40", loaded_revision_id=submission.latest_revision_id)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    submission.refresh_from_db()
    assert submission.value == 40
    assert sorted(a.document.title for a in submission.attachments.all()) == ["kept.pdf", "old.pdf"]


def test_reverting_leaves_out_files_deleted_from_the_library_since(client, world):
    client.force_login(world["editor_a"])
    client.post(
        url("add"),
        add_data(
            world["line_a"], new_attachments=[SimpleUploadedFile("gone.pdf", PDF), SimpleUploadedFile("kept.pdf", PDF)]
        ),
    )
    submission = Submission.objects.get()
    first = submission.revisions.order_by("pk").first()
    gone = submission.attachments.get(document__title="gone.pdf")
    client.post(url("edit", submission.pk), add_data(world["line_a"], remove_attachments=[gone.pk]))
    get_document_model().objects.filter(title="gone.pdf").delete()
    submission.refresh_from_db()
    revert = reverse("wagtailsnippets_competition_submission:revisions_revert", args=[submission.pk, first.pk])

    compare = reverse(
        "wagtailsnippets_competition_submission:revisions_compare", args=[submission.pk, first.pk, "latest"]
    )
    assert client.get(compare).status_code == 200
    assert "gone.pdf" not in client.get(revert).content.decode()
    response = client.post(revert, add_data(world["line_a"], loaded_revision_id=submission.latest_revision_id))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [a.document.title for a in submission.attachments.all()] == ["kept.pdf"]


def test_admin_screens_name_the_line_and_write_values_and_times_as_people_read_them(client, world):
    """ "Agency A · T1 Target T1", not "A · T1"; 76.9, not 76.9000; every time in the site's time
    zone (Asia/Ho_Chi_Minh, GMT+7), the same on the listing and on Inspect."""
    from datetime import UTC, datetime

    from bs4 import BeautifulSoup

    from tests.factories import make_submission

    submission = make_submission(world["line_a"], "76.9", status=SubmissionStatus.SUBMITTED)
    Submission.objects.filter(pk=submission.pk).update(updated_at=datetime(2025, 7, 1, 15, 32, tzinfo=UTC))
    client.force_login(world["manager"])

    listing = BeautifulSoup(client.get(url("list")).content, "html.parser")
    inspect = BeautifulSoup(client.get(url("inspect", submission.pk)).content, "html.parser")

    row = [cell.get_text(" ", strip=True) for cell in listing.select("table.listing tbody tr")[0].select("td")]
    assert any(text.startswith("Agency A · T1 ") for text in row), row
    assert "76.9" in row and "76.9000" not in " ".join(row)
    assert any("10:32 p.m." in text for text in row), row
    shown = inspect.select_one("main").get_text(" ", strip=True)
    # Named by the agency's and the target's names, the date and value as the reader writes them.
    assert inspect.h1.get_text(" ", strip=True).endswith("Agency A · T1 Target T1 · 06/30/2025 · 76.9")
    assert "Agency A · T1 " in shown and "76.9" in shown and "76.9000" not in shown
    assert "10:32 p.m." in shown and "3:32 p.m." not in shown


def test_inspect_writes_the_latest_revision_in_the_sites_time_zone(client, world):
    from datetime import UTC, datetime

    from bs4 import BeautifulSoup

    from tests.factories import make_submission

    submission = make_submission(world["line_a"], "40", status=SubmissionStatus.DRAFT)
    revision = submission.save_revision(user=world["editor_a"])
    type(revision).objects.filter(pk=revision.pk).update(
        created_at=datetime(2026, 11, 27, 15, 32, 39, 424156, tzinfo=UTC)
    )
    client.force_login(world["manager"])

    shown = BeautifulSoup(client.get(url("inspect", submission.pk)).content, "html.parser").get_text(" ", strip=True)

    assert "Nov. 27, 2026, 10:32 p.m. · editor_a" in shown
    assert "+00:00" not in shown and "15:32:39" not in shown


def test_submission_forms_are_saved_only_when_the_editor_says_so(client, world):
    """No autosave on the add and edit forms: an autosave on the add form creates the submission,
    and a Save racing it could create a second."""
    from tests.factories import make_submission

    draft = make_submission(world["line_a"], "40", status=SubmissionStatus.DRAFT)
    client.force_login(world["editor_a"])

    for response in (client.get(url("add")), client.get(url("edit", draft.pk))):
        assert response.status_code == 200
        assert response.context["autosave_enabled"] is False
        assert "w-unsaved w-autosave" not in response.content.decode()  # the controller is not attached


@pytest.mark.django_db
def test_recently_accepted_lists_the_newest_first_when_decided_together(world):
    """The demo's decisions share one time (taken together), and "Recently accepted" listed July
    before November: submissions decided together come newest report first."""
    from django.utils import timezone

    from competition.dashboard import EditorPanel

    at = timezone.now()
    for month in (7, 9, 8):
        Submission.objects.create(
            line=world["line_a"],
            reported_on=date(2025, month, 28),
            value=month,
            status=SubmissionStatus.ACCEPTED,
            decided_at=at,
        )

    accepted = EditorPanel(world["editor_a"]).get_context_data({})["accepted"]

    assert [submission.reported_on.month for submission in accepted] == [9, 8, 7]
