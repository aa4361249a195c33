"""Input that looks right but is not: invisible characters in names and other text, numbers in
digits other than 0-9, dates in another form than YYYY-MM-DD, numbers a column cannot hold (more
decimal places, a huge exponent), text a database cannot store (a lone surrogate), a CSV row with
more cells than its header, zip bombs and oversized uploads (stopped at the limit, refused with
their real size). Refused with a message, in the imports and in the admin's forms, with nothing
written."""

import io
import json
import re
import sys
import unicodedata
import zipfile
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.template.defaultfilters import filesizeformat
from django.test import RequestFactory
from django.urls import reverse

from competition.domain import evidence
from competition.domain.attachments import check_upload
from competition.imports import load_dataset, run_import
from competition.models import Agency, CompetitionTier, Submission, TargetPage
from competition.upload_handlers import OversizedUpload, SizeLimitUploadHandler
from competition.validators import MAX_REASON, clean_reason, invisible_characters, parse_milestones, parse_tiers
from tests.helpers import table_counts
from tests.security import PDF, build_world, stored_files
from tests.test_uploads import post_file

pytestmark = pytest.mark.django_db

RLO, ZWSP = "\u202e", "\u200b"


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"Sài Gòn{RLO}draW", ["U+202E"]),
        (f"Sài Gòn W{ZWSP}ard", ["U+200B"]),
        ("\u2066x\u2069\ufeff\u2060", ["U+2066", "U+2069", "U+FEFF", "U+2060"]),
        ("line\u0007bell", ["U+0007"]),
        ("Sài Gòn Ward", []),
        ("a\u200db", []),  # a joiner, which some scripts and emoji need
    ],
)
def test_invisible_characters(text, found):
    assert invisible_characters(text) == found


def test_every_code_point_is_judged_by_its_category():
    """The shortcut for printable text (no look-up per character) refuses exactly what the rule
    says, for every code point: the format characters but the joiners, and the controls."""
    wrong = []
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        category = unicodedata.category(char)
        refused = (category == "Cf" and char not in "\u200c\u200d") or category == "Cc"
        if invisible_characters(f"a{char}b") != ([f"U+{point:04X}"] if refused else []):
            wrong.append(f"U+{point:04X}")
    assert wrong == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  Late score\n", "Late score"),
        ("Two lines:\n\tthe second indented", "Two lines:\n\tthe second indented"),
        ("x" * MAX_REASON, "x" * MAX_REASON),
    ],
)
def test_a_reason_is_kept_stripped(given, kept):
    assert clean_reason(given, "Say why.") == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "Say why."),
        ("", "Say why."),
        (" \n\t ", "Say why."),
        ("x" * (MAX_REASON + 1), "Keep the reason under 1000 characters."),
        (f"Late{RLO} score", "The text holds invisible characters that can disguise it (U+202E); remove them."),
    ],
)
def test_a_reason_missing_too_long_or_disguised_is_refused_under_its_field(given, message):
    """One rule for every action that asks for a reason: only the message for a missing reason is
    the caller's."""
    with pytest.raises(ValidationError) as refused:
        clean_reason(given, "Say why.")
    assert refused.value.message_dict == {"reason": [message]}


def import_preview(client, kind, text):
    return client.post(
        reverse("competition_import"),
        {"kind": kind, "competition": "safe", "import_file": SimpleUploadedFile(f"{kind}.csv", text.encode())},
    )


IMPORT_REFUSALS = [
    ("agencies", f"code,name\nA,Agency{RLO}A\n", "row 1, column name", "invisible characters"),
    ("agencies", f"code,name\nZ,Sài Gòn W{ZWSP}ard\n", "row 1, column name", "U+200B"),
    ("adjustments", f"agency,points,reason\nA,2,Bonus{RLO}\n", "row 1, column reason", "invisible"),
    ("values", "agency,target,reported_on,value\nA,T1,2025-06-30,８５\n", "row 1, column value", "digits 0 to 9"),
    ("values", "agency,target,reported_on,value\nA,T1,2025-06-30,٨٥\n", "row 1, column value", "digits 0 to 9"),
    ("values", "agency,target,reported_on,value\nA,T1,20250630,85\n", "row 1, column reported_on", "YYYY-MM-DD"),
    ("values", "agency,target,reported_on,value\nA,T1,2025-W26-1,85\n", "row 1, column reported_on", "YYYY-MM-DD"),
    (
        "targets",
        "code,title,unit,direction,baseline,target,max_points,deadline\nT9,Nine,percent,higher,0,100,５,\n",
        "row 1, column max_points",
        "digits 0 to 9",
    ),
    (
        "targets",
        "code,title,unit,direction,baseline,target,max_points,deadline\nT9,Nine,percent,higher,0,100,5,20251031\n",
        "row 1, column deadline",
        "YYYY-MM-DD",
    ),
]


def test_imports_refuse_invisible_characters_other_digits_and_other_date_forms(client, world):
    client.force_login(world["manager"])
    before = table_counts()

    for kind, text, where, words in IMPORT_REFUSALS:
        errors = import_preview(client, kind, text).context["report"].errors
        assert any(line.startswith(where) and words in line for line in errors), (kind, text, errors)

    assert table_counts() == before


@pytest.mark.parametrize(
    ("kind", "text", "column"),
    [
        ("values", "agency,target,reported_on,value\nA,T1,2025-06-30,1e1000000\n", "value"),
        ("adjustments", "agency,points,reason\nA,1e1000000,Bonus\n", "points"),
        (
            "targets",
            "code,title,unit,direction,baseline,target,max_points,deadline\nT9,Nine,number,higher,0,1e1000000,5,\n",
            "target",
        ),
        (
            "targets",
            "code,title,unit,direction,baseline,target,max_points,deadline,milestones\n"
            "T9,Nine,number,higher,0,100,5,,2025-06-30:1e1000000\n",
            "milestones",
        ),
    ],
)
def test_an_import_says_which_cell_holds_a_number_too_large(client, world, kind, text, column):
    """1e1000000 in a cell: the row and column with the import's own message (as for
    99999999999999999999), never "row 1, column -: [<class 'decimal.Overflow'>]"."""
    client.force_login(world["manager"])
    before = table_counts()

    errors = import_preview(client, kind, text).context["report"].errors

    assert any(error.startswith(f"row 1, column {column}:") and "too large" in error for error in errors), errors
    assert not any("decimal." in error for error in errors), errors
    assert table_counts() == before


@pytest.mark.parametrize(
    ("tiers", "words"),
    [("Excellent:90;Good:75.126", "more than 2 decimal places"), ("Good:123456789", "too large")],
)
def test_a_competitions_import_refuses_a_tier_minimum_the_tier_cannot_hold(client, world, tiers, words):
    """A tier's minimum holds 7 digits with 2 decimal places: 75.126 is not rounded to 75.13
    without a word, and 123456789 neither overflows the column (PostgreSQL) nor is stored as it is
    and breaks every later read of the tiers (SQLite)."""
    client.force_login(world["manager"])
    header = "slug,title,start,end,at_risk_margin,jury_aggregation,tiers"
    text = f"{header}\nsafe,Safe,2025-01-01,2025-12-31,0.1,mean,{tiers}\n"
    before = list(CompetitionTier.objects.values_list("label", "minimum"))

    report = run_import("competitions", load_dataset(text.encode(), "csv"), user=world["manager"])

    assert any(error.startswith("row 1, column tiers:") and words in error for error in report.errors), report.errors
    assert list(CompetitionTier.objects.values_list("label", "minimum")) == before
    assert client.get(world["competition"].url).status_code == 200


def test_a_targets_import_refuses_a_milestone_with_more_than_4_decimal_places(world):
    """80.123456 is not stored as 80.1235 without a word (and a re-import then "updated" every
    time): refused like the same number in the baseline, target or max_points column."""
    text = (
        "code,title,unit,direction,baseline,target,max_points,deadline,milestones\n"
        "T9,Nine,percent,higher,0,100,5,,2025-06-30:80.123456\n"
    )

    report = run_import("targets", load_dataset(text.encode(), "csv"), competition="safe")

    assert any(
        error.startswith("row 1, column milestones:") and "more than 4 decimal places" in error
        for error in report.errors
    ), report.errors
    assert not TargetPage.objects.filter(code="T9").exists()


@pytest.mark.parametrize("cell", ["agency", "note"])
def test_a_json_import_refuses_a_lone_surrogate_under_its_column(client, world, cell):
    """An escaped lone surrogate ("\\ud800", left by a system that cut a string inside an emoji)
    cannot be stored or shown: refused under row 1 and its column, never a 500 or the database
    driver's words."""
    client.force_login(world["manager"])
    row = {"agency": "A", "target": "T1", "reported_on": "2025-06-30", "value": 50, "note": "Counted"}
    row[cell] += "\ud800"
    before = table_counts()

    response = client.post(
        reverse("competition_import"),
        {
            "kind": "values",
            "competition": "safe",
            "import_file": SimpleUploadedFile("values.json", json.dumps([row]).encode()),
        },
    )

    assert response.status_code == 200
    errors = response.context["report"].errors
    assert any(error.startswith(f"row 1, column {cell}:") and "codec" not in error for error in errors), errors
    assert table_counts() == before


def test_a_csv_row_with_more_cells_than_the_header_is_refused_with_a_message_naming_it(client, world):
    """An unquoted comma in a note ("Counted, checked"): the message names the row that has more
    cells than the header, not "the CSV file cannot be read: " and nothing after."""
    client.force_login(world["manager"])
    text = "agency,target,reported_on,value,note\nA,T1,2025-06-30,50,Counted\nB,T1,2025-06-30,60,Counted, checked\n"

    response = import_preview(client, "values", text)

    (message,) = response.context["form"].errors["import_file"]
    assert not message.rstrip().endswith(":"), message
    assert re.search(r"\brow 2\b", message) and "has 6 cells but the header has 5" in message, message
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_milestones, "20251031:80"),
        (parse_milestones, "2025-10-31:８０"),
        (parse_tiers, "Good:７５"),
        (parse_tiers, f"Go{RLO}od:75"),
    ],
)
def test_milestones_and_tiers_take_plain_dates_and_digits_only(parse, text):
    with pytest.raises(ValidationError):
        parse(text)


def test_the_agency_form_refuses_invisible_characters(client, world):
    client.force_login(world["superuser"])
    url = reverse("wagtailsnippets_competition_agency:edit", args=[world["agency_a"].pk])

    response = client.post(url, {"code": "A", "name": f"Agency{RLO}A", "short_name": "", "level": ""})

    assert response.status_code == 200
    assert "invisible characters" in response.content.decode()
    assert Agency.objects.get(code="A").name == "Agency A"


@pytest.mark.parametrize("value", ["８５", "٨٥", "۸۵"])
def test_the_submission_form_refuses_other_digits(client, world, value):
    from tests.security import submission_data

    client.force_login(world["editor_a"])

    response = client.post(
        reverse("wagtailsnippets_competition_submission:add"), submission_data(world["line_a"], value)
    )

    assert response.status_code == 200
    assert "digits 0 to 9" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_submission_form_refuses_invisible_characters_in_the_narrative(client, world):
    from tests.security import submission_data

    client.force_login(world["editor_a"])

    response = client.post(
        reverse("wagtailsnippets_competition_submission:add"),
        submission_data(world["line_a"], narrative=f"Counted{RLO} twice."),
    )

    assert "invisible characters" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_scoring_screen_refuses_other_digits(client, world):
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=50)
    evidence.submit(submission, world["editor_a"])
    client.force_login(world["reviewer"])

    response = client.post(reverse("competition_review", args=[submission.pk]), {"points": "٧", "comment": ""})

    assert "Enter the points as a number." in response.content.decode()
    assert not submission.scores.exists()


# Evidence files.


def zip_bomb(unpacked):
    """A .docx-shaped zip archive whose one member unpacks to `unpacked` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(unpacked >> 20):
                member.write(chunk)
    return out.getvalue()


def test_a_docx_zip_bomb_is_refused(client, world):
    client.force_login(world["editor_a"])
    bomb = zip_bomb(500 << 20)  # 500 MB unpacked, under 1 MB packed
    before = stored_files()

    response = post_file(client, world, "report.docx", bomb)

    assert len(bomb) < 1 << 20
    assert "report.docx would unpack to more than 200.0\xa0MB" in response.content.decode()
    assert stored_files() == before and not Submission.objects.exists()


def test_a_genuine_docx_is_accepted():
    document = zip_bomb(2 << 20)

    check_upload(SimpleUploadedFile("report.docx", document))


def test_a_file_over_the_limit_is_refused_with_its_real_size(settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024

    with pytest.raises(ValidationError) as over:
        check_upload(OversizedUpload("big.pdf", "application/pdf", 150 * 1024 * 1024, None))
    with pytest.raises(ValidationError) as just_over:
        check_upload(OversizedUpload("big.pdf", "application/pdf", 20 * 1024 * 1024 + 1, None))

    assert over.value.messages == ["big.pdf is 150.0\xa0MB; the limit is 20.0\xa0MB."]
    assert just_over.value.messages == ["big.pdf is larger than the limit of 20.0\xa0MB."]


def test_an_upload_is_kept_only_up_to_the_limit(settings):
    """The handler passes a file on while it is within the limit; past it, nothing more is kept
    (not in memory, not in a temporary file) and the form gets an empty file with the real size."""
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 20_000
    settings.COMPETITION_MAX_IMPORT_SIZE = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000  # anything larger would go to a temporary file
    boundary = "b0undary"
    big, small = PDF + b"x" * 150_000, PDF + b"y" * 500
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode()
            + content
            + b"\r\n"
            for name, content in (("big", big), ("small", small))
        )
        + f"--{boundary}--\r\n".encode()
    )
    request = RequestFactory().generic("POST", "/", body, content_type=f"multipart/form-data; boundary={boundary}")
    handlers = request.upload_handlers  # the settings' list: this handler first, then Django's
    assert isinstance(handlers[0], SizeLimitUploadHandler)
    (temporary,) = [handler for handler in handlers if isinstance(handler, TemporaryFileUploadHandler)]
    received, kept = [], []
    original_new_file, original_receive = temporary.new_file, temporary.receive_data_chunk

    def new_file(*args, **kwargs):
        original_new_file(*args, **kwargs)
        kept.append(temporary.file)

    def counting(raw_data, start):
        received.append(len(raw_data))
        return original_receive(raw_data, start)

    temporary.new_file, temporary.receive_data_chunk = new_file, counting

    _post, files = MultiPartParser(request.META, io.BytesIO(body), handlers).parse()

    assert isinstance(files["big"], OversizedUpload)
    assert (files["big"].size, files["big"].read()) == (len(big), b"")
    assert files["small"].read() == small
    assert sum(received) <= 20_000 + 64 * 1024  # at most one chunk past the limit, then nothing
    assert kept[0].closed  # the beginning of the big file, in a temporary file, is gone
    files["small"].close()


def test_an_oversized_upload_through_the_form_says_its_size(client, world, settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1000
    settings.COMPETITION_MAX_IMPORT_SIZE = 1000
    client.force_login(world["editor_a"])
    before = stored_files()

    response = post_file(client, world, "scan.pdf", PDF + b"x" * 150_000)

    size = filesizeformat(150_000 + len(PDF))
    assert f"scan.pdf is {size}; the limit is 1000\xa0bytes." in response.content.decode()
    assert stored_files() == before and not Submission.objects.exists()
