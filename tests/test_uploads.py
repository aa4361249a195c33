"""Evidence uploads, evidence downloads and the admin's import upload: every refused file gets a
clear message and leaves nothing behind (no file under MEDIA_ROOT, no document, no row);
downloads are attachments that a browser never sniffs or runs."""

import io
import os
import re
import runpy
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.http import Http404
from django.urls import URLPattern, reverse
from wagtail.documents import get_document_model

from competition.domain import evidence
from competition.domain.attachments import check_upload
from competition.models import Submission
from tests.helpers import table_counts
from tests.security import PDF, PNG, build_world, stored_files, submission_data

pytestmark = pytest.mark.django_db

Document = get_document_model()
LIMIT = 1000


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def small_limit(settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = LIMIT


def add_url():
    return reverse("wagtailsnippets_competition_submission:add")


def post_file(client, world, name, content):
    """Post a new submission with one file, the file name written into the request as it is
    (the test client would strip folders from it before sending)."""
    boundary = "----competition-test-boundary"
    parts = []
    for key, value in submission_data(world["line_a"]).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    header = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="new_attachments"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    parts.append(header.encode("utf-8") + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return client.generic("POST", add_url(), b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}")


def fetch(client, path):
    """GET a download, read it whole and close it (downloads stream their files)."""
    response = client.get(path)
    if hasattr(response, "streaming_content"):
        response.body = b"".join(response.streaming_content)
    # Closing fires request_finished, which would close the test's database connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return response


def assert_nothing_stored(before, documents=0):
    assert stored_files() == before
    assert Document.objects.count() == documents
    assert not Submission.objects.exists()


# Size.


def test_upload_of_exactly_the_limit_is_accepted(client, world, small_limit):
    client.force_login(world["editor_a"])
    before = stored_files()

    response = post_file(client, world, "exact.pdf", PDF + b"x" * (LIMIT - len(PDF)))

    assert response.status_code == 302
    document = Submission.objects.get().attachments.get().document
    assert document.file_size == LIMIT
    assert stored_files() - before == {document.file.name}


def test_upload_one_byte_over_the_limit_is_refused(client, world, small_limit):
    client.force_login(world["editor_a"])
    before = stored_files()

    response = post_file(client, world, "over.pdf", PDF + b"x" * (LIMIT + 1 - len(PDF)))

    assert response.status_code == 200
    assert "over.pdf is 1001\xa0bytes; the limit is 1000\xa0bytes." in response.content.decode()
    assert_nothing_stored(before)


# Type and content.


def zip_bytes(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
XML_SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'
BAD_CONTENT = [
    ("page.html", HTML, "files of this type are not accepted"),
    ("page.htm", HTML, "files of this type are not accepted"),
    ("drawing.svg", SVG, "files of this type are not accepted"),
    ("drawing.png", SVG, "its content does not match its extension"),
    ("drawing.pdf", XML_SVG, "its content does not match its extension"),
    ("drawing.jpg", SVG, "its content does not match its extension"),
    ("photo.png", PNG + b"<html><script>alert(1)</script>", "its content does not match its extension"),
    ("photo.png", PNG + b"<svg onload=alert(1)>", "its content does not match its extension"),
    ("scan.pdf", PDF + b"<html><body onload=alert(1)>", "its content does not match its extension"),
    ("scan.pdf", PDF + b"<!-- --><script>alert(1)</script>", "its content does not match its extension"),
    ("scan.pdf", b"plain text pretending to be a PDF", "its content does not match its extension"),
    ("photo.jpg", PNG, "its content does not match its extension"),
    ("table.csv", b"code,value\n<img src=x onerror=alert(1)>,1\n", "does not look like a CSV text file"),
    ("table.csv", b"<html><body>a,b</body></html>", "does not look like a CSV text file"),
    ("table.csv", PDF, "does not look like a CSV text file"),
    ("table.csv", b"a,b\n1,\x00\n", "does not look like a CSV text file"),
    ("sheet.xlsx", b"not a zip archive", "its content does not match its extension"),
    ("letter.doc", PDF, "its content does not match its extension"),
    ("tool.exe", b"MZ\x90\x00", "files of this type are not accepted"),
    ("script.js", b"alert(1)", "files of this type are not accepted"),
    ("noextension", PDF, "files of this type are not accepted"),
]


def test_files_whose_type_or_content_is_wrong_are_refused(client, world, subtests):
    client.force_login(world["editor_a"])
    before = stored_files()
    for name, content, message in BAD_CONTENT:
        with subtests.test(name=name, content=content[:40]):
            response = post_file(client, world, name, content)

            assert response.status_code == 200
            assert message in response.content.decode()
            assert_nothing_stored(before)


def test_a_refused_file_among_good_ones_refuses_them_all(client, world):
    client.force_login(world["editor_a"])
    before = stored_files()
    files = [SimpleUploadedFile("good.pdf", PDF), SimpleUploadedFile("bad.png", SVG)]

    response = client.post(add_url(), submission_data(world["line_a"], new_attachments=files))

    assert response.status_code == 200
    assert "bad.png: its content does not match its extension" in response.content.decode()
    assert_nothing_stored(before)


GOOD_FILES = [
    ("scan.PDF", PDF),
    ("photo.png", PNG),
    ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
    ("t.csv", b"a,b\n1,2"),
    ("slides.pptx", zip_bytes({"[Content_Types].xml": b"<Types/>"})),
]


def test_good_files_are_accepted(client, world, subtests):
    client.force_login(world["editor_a"])
    for name, content in GOOD_FILES:
        with subtests.test(name=name), transaction.atomic():
            response = post_file(client, world, name, content)

            assert response.status_code == 302
            assert Submission.objects.get().attachments.get().document.title == name
            transaction.set_rollback(True)


# Names. Django's upload parser already reduces a name to its last part and drops characters
# that cannot be printed; the storage then keeps letters, digits, "-", "_" and "." only. The
# product's choice is therefore to sanitise such names, never to store them as sent.

SANITISED = [
    ("../../escape.pdf", "escape.pdf"),
    ("/etc/cron.d/escape.pdf", "escape.pdf"),
    ("..\\..\\escape.pdf", "escape.pdf"),
    ("C:\\Windows\\escape.pdf", "escape.pdf"),
    ("..&#x2F;..&#x2F;escape.pdf", "escape.pdf"),
    ("line\tbreak.pdf", "linebreak.pdf"),
    ("null\x00byte.pdf", "nullbyte.pdf"),
    ("right\u202eto-left.pdf", "rightto-left.pdf"),
    ("Báo cáo tháng 6.pdf", "Báo cáo tháng 6.pdf"),
    ("报告.pdf", "报告.pdf"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
]


def test_file_names_are_sanitised_and_stored_inside_the_documents_folder(client, world, subtests):
    client.force_login(world["editor_a"])
    media_root = Path(settings.MEDIA_ROOT).resolve()
    for sent, title in SANITISED:
        with subtests.test(sent=sent), transaction.atomic():
            before = stored_files()

            response = post_file(client, world, sent, PDF)

            assert response.status_code == 302
            document = Submission.objects.get().attachments.get().document
            assert document.title == title
            stored = document.file.name
            assert stored_files() - before == {stored}
            assert stored.startswith("documents/") and stored.count("/") == 1
            assert len(stored) <= 100 and stored.endswith(".pdf")
            assert all(char.isalnum() or char in "-_." for char in stored.removeprefix("documents/"))
            assert Path(document.file.path).resolve().is_relative_to(media_root / "documents")
            transaction.set_rollback(True)


@pytest.mark.parametrize(
    "name",
    [
        "../../x.pdf",
        "..\\x.pdf",
        "C:\\x.pdf",
        "/etc/x.pdf",
        "x.pdf\r\nContent-Type: text/html",
        "a\nb.pdf",
        "a\x00.pdf",
        "a\x7f.pdf",
        "evil\u202efdp.png",
        "zero\u200bwidth.pdf",
        "..",
        " . ",
        "",
    ],
)
def test_names_with_folders_or_control_characters_are_refused_by_the_check_itself(name):
    # For callers that pass an upload straight to check_upload (not through Django's parser).
    upload = SimpleUploadedFile("placeholder.pdf", PDF)
    upload._name = name  # the name property would strip folders

    with pytest.raises(ValidationError) as error:
        check_upload(upload)

    assert "file name" in error.value.messages[0]


def test_a_name_the_parser_cannot_keep_stores_nothing(client, world):
    client.force_login(world["editor_a"])
    before = stored_files()

    response = post_file(client, world, "..", PDF)

    # The part is dropped by Django's parser: the submission is saved without any file.
    assert response.status_code == 302
    assert stored_files() == before and not Document.objects.exists()


# Downloads.


def evidence_download(client, world, name="scan.pdf", content=PDF):
    client.force_login(world["editor_a"])
    assert post_file(client, world, name, content).status_code == 302
    submission = Submission.objects.get()
    document = submission.attachments.get().document
    return submission, document, reverse("wagtaildocs_serve", args=(document.pk, document.filename))


def assert_download_headers(response, filename):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    # The storage may have added a suffix to a name already taken (scan_ruhZnyE.pdf).
    stem, extension = filename.rsplit(".", 1)
    assert re.search(rf'filename="{re.escape(stem)}(_[A-Za-z0-9]+)?\.{extension}"', response["Content-Disposition"])
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "private" in response["Cache-Control"]


def test_evidence_downloads_are_sandboxed_attachments(client, world):
    submission, document, path = evidence_download(client, world)

    response = fetch(client, path)

    assert_download_headers(response, "scan.pdf")
    assert response.body == PDF
    assert response["Content-Type"] == "application/pdf"


def test_public_evidence_downloads_carry_the_same_headers(client, world):
    submission, document, path = evidence_download(client, world, name="table.csv", content=b"a,b\n1,2\n")
    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], "accept")
    client.logout()

    response = fetch(client, path)

    assert_download_headers(response, "table.csv")
    assert response.body == b"a,b\n1,2\n"


def test_unicode_file_names_download_with_an_encoded_name(client, world):
    _submission, document, path = evidence_download(client, world, name="Báo cáo.pdf")

    response = fetch(client, path)

    assert response.status_code == 200
    assert "filename*=UTF-8''B%C3%A1o_c%C3%A1o.pdf" in response["Content-Disposition"]


def test_refused_downloads_send_no_file(client, world):
    _submission, _document, path = evidence_download(client, world)
    client.force_login(world["editor_b"])

    response = fetch(client, path)

    assert response.status_code == 403
    assert b"%PDF" not in response.content


def downloads_by_role(client, world, path):
    """The status of the download for each role (and anonymous readers)."""
    statuses = {}
    for name in ("editor_a", "editor_b", "manager", "manager_elsewhere", "reviewer", "superuser", None):
        if name is None:
            client.logout()
        else:
            client.force_login(world[name])
        statuses[name or "anonymous"] = fetch(client, path).status_code
    return statuses


ONLY_THE_AGENCY_AND_ITS_MANAGERS = {
    "editor_a": 200,
    "editor_b": 403,
    "manager": 200,
    "manager_elsewhere": 403,
    "reviewer": 403,
    "superuser": 200,
    "anonymous": 403,
}


@pytest.fixture
def manager_elsewhere(world):
    """A manager of another competition only (the publish permission on its page alone)."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    from tests.factories import UserFactory, make_competition

    elsewhere = make_competition(slug="elsewhere")
    group = Group.objects.create(name="Elsewhere managers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group, page=elsewhere, permission=Permission.objects.get(codename="publish_page")
    )
    user = UserFactory(username="manager_elsewhere")
    user.groups.add(group)
    world["manager_elsewhere"] = user
    return user


@pytest.mark.parametrize("how", ["file taken off the draft", "draft deleted"])
def test_a_file_that_leaves_a_draft_stays_restricted(client, world, manager_elsewhere, how):
    submission, document, path = evidence_download(client, world)
    edit = reverse("wagtailsnippets_competition_submission:edit", args=[submission.pk])
    delete = reverse("wagtailsnippets_competition_submission:delete", args=[submission.pk])
    attachment = submission.attachments.get()

    if how == "file taken off the draft":
        response = client.post(edit, submission_data(world["line_a"], remove_attachments=[attachment.pk]))
    else:
        response = client.post(delete)

    assert response.status_code == 302
    assert not attachment.__class__.objects.filter(document=document).exists()
    assert Document.objects.filter(pk=document.pk).exists()  # kept, as the editor was told
    assert downloads_by_role(client, world, path) == ONLY_THE_AGENCY_AND_ITS_MANAGERS
    client.force_login(world["editor_a"])
    assert_download_headers(fetch(client, path), "scan.pdf")


def test_a_file_taken_off_is_public_again_only_through_an_accepted_submission(client, world):
    submission, document, path = evidence_download(client, world)
    attachment = submission.attachments.get()
    edit = reverse("wagtailsnippets_competition_submission:edit", args=[submission.pk])
    client.post(edit, submission_data(world["line_a"], remove_attachments=[attachment.pk]))
    client.logout()
    assert fetch(client, path).status_code == 403
    # The same document accepted on another submission of the agency is public (as evidence).
    other = Submission.objects.create(line=world["line_a"], reported_on=submission.reported_on, value=1)
    attachment.__class__.objects.create(submission=other, document=document)
    evidence.submit(other, world["editor_a"])
    evidence.decide(other, world["manager"], "accept")

    response = fetch(client, path)

    assert_download_headers(response, "scan.pdf")


def test_a_download_costs_the_same_queries_however_much_evidence_there_is(client, world, django_assert_max_num_queries):
    from competition.domain.attachments import attach

    submission, document, path = evidence_download(client, world)
    client.force_login(world["manager"])
    with django_assert_max_num_queries(40) as few:
        assert fetch(client, path).status_code == 200
    for number in range(10):
        other = Submission.objects.create(line=world["line_b"], reported_on=submission.reported_on, value=number)
        attach(other, SimpleUploadedFile(f"other-{number}.pdf", PDF), world["editor_b"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert fetch(client, path).status_code == 200


def test_files_in_the_evidence_collections_of_unknown_origin_are_for_superusers_only(client, world):
    from competition.domain.attachments import agency_collection

    document = Document.objects.create(
        title="Orphan", file=SimpleUploadedFile("orphan.pdf", PDF), collection=agency_collection(world["agency_a"])
    )
    path = reverse("wagtaildocs_serve", args=(document.pk, document.filename))

    for name in ("editor_a", "manager", "reviewer"):
        client.force_login(world[name])
        assert fetch(client, path).status_code == 403
    client.logout()
    assert fetch(client, path).status_code == 403
    client.force_login(world["superuser"])
    assert_download_headers(fetch(client, path), "orphan.pdf")


def test_existing_evidence_is_remembered_by_the_migration(world):
    from django.apps import apps as global_apps

    from competition.domain.attachments import attach
    from competition.models import EvidenceFile

    submission = Submission.objects.create(line=world["line_b"], reported_on="2025-06-30", value=1)
    kept = attach(submission, SimpleUploadedFile("kept.pdf", PDF), world["editor_b"])
    submission.save_revision(user=world["editor_b"])
    removed = attach(submission, SimpleUploadedFile("removed.pdf", PDF), world["editor_b"])
    submission.save_revision(user=world["editor_b"])
    removed.delete()
    EvidenceFile.objects.all().delete()  # as before the migration
    migration = __import__("competition.migrations.0004_evidence_files", fromlist=["remember_existing_evidence"])

    migration.remember_existing_evidence(global_apps, None)

    origins = set(EvidenceFile.objects.values_list("document_id", "agency_id", "competition_id"))
    owner = (world["agency_b"].pk, world["competition"].pk)
    assert origins == {(kept.document_id, *owner), (removed.document_id, *owner)}


def test_the_admin_api_lists_only_documents_and_images_the_user_may_choose(client, world):
    from django.core.files.images import ImageFile
    from PIL import Image as PillowImage
    from wagtail.images import get_image_model

    _submission, evidence_file, _path = evidence_download(client, world, name="secret-scan.pdf")
    library = Document.objects.create(title="Public rules", file=SimpleUploadedFile("rules.pdf", PDF))
    png = io.BytesIO()
    PillowImage.new("RGB", (2, 2)).save(png, "PNG")
    image = get_image_model().objects.create(title="Ward photo", file=ImageFile(png, name="ward.png"))
    documents, images = "/admin/api/main/documents/", "/admin/api/main/images/"
    paths = [
        documents,
        f"{documents}?search=secret",
        f"{documents}{evidence_file.pk}/",
        f"{documents}{library.pk}/",
        f"{images}?fields=-thumbnail",  # (making renditions is not what this test is about)
        f"{images}{image.pk}/?fields=-thumbnail",
    ]

    for name in ("editor_a", "editor_b", "manager", "reviewer"):
        client.force_login(world[name])
        responses = [client.get(path) for path in paths]
        assert [response.status_code for response in responses] == [200, 200, 404, 404, 200, 404], name
        assert responses[0].json()["meta"]["total_count"] == 0 and responses[1].json()["items"] == []
        assert responses[4].json()["meta"]["total_count"] == 0
        assert not any(
            b"secret-scan" in response.content or b"Ward photo" in response.content for response in responses
        )
    client.force_login(world["superuser"])
    listed = {item["title"] for item in client.get(documents).json()["items"]}
    assert listed == {"secret-scan.pdf", "Public rules"}
    assert [item["title"] for item in client.get(f"{images}?fields=-thumbnail").json()["items"]] == ["Ward photo"]
    assert client.get(f"{documents}{evidence_file.pk}/").status_code == 200


def test_other_documents_keep_wagtails_protective_headers(client, world):
    document = Document.objects.create(title="Rules", file=SimpleUploadedFile("rules.pdf", PDF))
    client.force_login(world["superuser"])

    response = fetch(client, reverse("wagtaildocs_serve", args=(document.pk, document.filename)))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_public_pages_carry_the_site_wide_security_headers(client, world):
    response = client.get(world["competition"].url)

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.demo
@pytest.mark.parametrize(
    "path",
    ["documents/scan.pdf", "competition-imports/0123.csv", "images/../documents/scan.pdf", "x/../documents/scan.pdf"],
)
def test_debug_media_serving_never_exposes_documents(rf, settings, path):
    settings.DEBUG = True
    root = Path(settings.MEDIA_ROOT)
    for name in ("documents/scan.pdf", "competition-imports/0123.csv", "images/photo.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(PNG)
    patterns = runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "urls.py"))["urlpatterns"]
    media = settings.MEDIA_URL.lstrip("/")

    def get(media_path):
        simple = [p for p in patterns if isinstance(p, URLPattern)]  # the media route is one
        match = next(m for m in (p.resolve(media + media_path) for p in simple) if m is not None)
        try:
            response = match.func(rf.get("/" + media + media_path), **match.kwargs)
        except Http404:
            return 404
        response.close()
        return response.status_code

    try:
        assert get("images/photo.png") == 200
        assert get(path) == 404
    finally:
        for name in ("documents/scan.pdf", "competition-imports/0123.csv", "images/photo.png"):
            (root / name).unlink()


# The admin's import upload.


def import_post(client, name, content, kind="values"):
    return client.post(
        reverse("competition_import"),
        {"kind": kind, "competition": "safe", "import_file": SimpleUploadedFile(name, content)},
    )


GOOD_VALUES = b"agency,target,reported_on,value\nA,T1,2025-06-30,50\n"
BAD_IMPORTS = [
    ("values.exe", b"MZ\x90\x00", "Use a .csv, .xlsx or .json file."),
    ("values.txt", GOOD_VALUES, "Use a .csv, .xlsx or .json file."),
    ("values", GOOD_VALUES, "Use a .csv, .xlsx or .json file."),
    ("values.csv", bytes(range(256)) * 4, "the file is not UTF-8 text"),
    ("values.csv", b"", "The submitted file is empty."),
    ("values.csv", b"\xef\xbb\xbf  \n", "the file is empty"),
    ("values.csv", b"agency,target\x00,reported_on\nA,T1\x00,2025", "unknown column(s): target\x00"),
    ("values.xlsx", bytes(range(256)) * 4, "the file is not a readable XLSX workbook."),
    ("values.xlsx", zip_bytes({"hello.txt": b"not a workbook"}), "the file is not a readable XLSX workbook."),
    ("values.json", bytes(range(256)) * 4, "the file is not valid UTF-8 JSON."),
    ("values.json", b'{"agency": "A"}', "the JSON file must hold a list of objects."),
    ("values.json", b"[1, 2]", "the JSON file must hold a list of objects."),
    # 200 KB of nesting: Python's parser gives up with a RecursionError.
    ("values.json", b"[" * 100_000 + b"]" * 100_000, "the JSON file is nested too deeply"),
    ("values.json", b'[{"agency": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]", "the JSON file is nested too deeply"),
    ("values.csv", b"<html><script>alert(1)</script></html>", "unknown column(s)"),
]


def test_import_of_a_bad_file_gives_a_message_and_changes_nothing(client, world, subtests):
    client.force_login(world["manager"])
    counts, before = table_counts(), stored_files()
    for name, content, message in BAD_IMPORTS:
        with subtests.test(name=name, content=content[:40]):
            response = import_post(client, name, content)

            assert response.status_code == 200
            assert message in response.content.decode()
            assert "Confirm the import" not in response.content.decode()
            assert table_counts() == counts and stored_files() == before


def test_import_of_a_file_over_the_limit_is_refused_before_it_is_read(client, world, settings):
    settings.COMPETITION_MAX_IMPORT_SIZE = len(GOOD_VALUES) - 1
    client.force_login(world["manager"])
    counts, before = table_counts(), stored_files()

    response = import_post(client, "values.csv", GOOD_VALUES)

    assert response.status_code == 200
    assert f"the limit is {len(GOOD_VALUES) - 1}\xa0bytes" in response.content.decode()
    assert table_counts() == counts and stored_files() == before


def test_import_of_a_file_at_the_limit_is_previewed(client, world, settings):
    settings.COMPETITION_MAX_IMPORT_SIZE = len(GOOD_VALUES)
    client.force_login(world["manager"])

    before = pending_files()

    response = import_post(client, "values.csv", GOOD_VALUES)

    assert "Confirm the import" in response.content.decode()
    for name in pending_files() - before:
        (Path(settings.MEDIA_ROOT) / name).unlink()


def test_import_of_a_workbook_that_unpacks_too_large_is_refused(client, world, monkeypatch):
    from competition import imports

    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED", 10_000)
    bomb = zip_bytes({"xl/worksheets/sheet1.xml": b"0" * 20_000})
    client.force_login(world["manager"])
    counts = table_counts()

    response = import_post(client, "values.xlsx", bomb)

    assert "too large once unpacked" in response.content.decode()
    assert table_counts() == counts


FORGED_TOKENS = [
    "..",
    ".",
    "../documents/x.pdf",
    "x.exe",
    "0" * 32 + ".exe",
    "0" * 32 + ".csv/",
    "0" * 31 + "g.csv",
    "",
]


def test_confirming_an_import_with_a_forged_token_is_refused(client, world, subtests):
    client.force_login(world["manager"])
    counts, before = table_counts(), stored_files()
    for token in FORGED_TOKENS:
        with subtests.test(token=token):
            response = client.post(reverse("competition_import_confirm"), {"token": token, "kind": "values"})

            assert response.status_code == 404
            assert table_counts() == counts and stored_files() == before


def pending_files():
    from competition.import_views import PENDING

    return {name for name in stored_files() if name.startswith(PENDING + "/")}


def test_pending_files_of_unconfirmed_previews_are_removed_after_a_day(client, world):
    client.force_login(world["manager"])
    before = pending_files()
    import_post(client, "values.csv", GOOD_VALUES)
    (stale,) = pending_files() - before
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(Path(settings.MEDIA_ROOT) / stale, (two_days_ago, two_days_ago))

    import_post(client, "values.csv", GOOD_VALUES)

    after = pending_files()
    assert stale not in after and len(after - before) == 1
    for name in after - before:
        (Path(settings.MEDIA_ROOT) / name).unlink()
