"""Stored XSS and spreadsheet formula injection: payloads saved in every text field an agency,
editor, reviewer or manager can write are rendered on every public and admin page that shows
them, and appear only as text; CSV and XLSX files never start a cell with a formula."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.admin.rich_text import DraftailRichTextArea

from competition.domain import evidence, jury
from competition.imports import load_dataset, run_import
from competition.models import (
    Adjustment,
    CommitmentPage,
    CompetitionPhase,
    CompetitionSignatory,
    CompetitionTier,
    ImportRecord,
    Submission,
    SubmissionLink,
)
from tests.security import PDF, build_world, submission_data

pytestmark = pytest.mark.django_db

SCRIPT = "<script>xss_1()</script>"
ATTRIBUTE = '"><img src=x onerror=xss_2()>'
BREAKOUT = "</script><script>xss_3()</script>"
JAVASCRIPT_URL = "javascript:xss_4()"
PAYLOAD = SCRIPT + ATTRIBUTE + BREAKOUT  # 84 characters: fits every text field


def assert_inert(html):
    """No script, event handler or javascript: URL from a payload made it into the markup."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        if tag.name == "script":
            assert not (tag.string or "").strip().startswith("xss_"), tag
        if tag.name == "img":
            assert tag.get("src") != "x", tag
        for attribute, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not (attribute.lower().startswith("on") and "xss_" in text), tag
            if attribute.lower() in {"href", "src", "action", "formaction", "xlink:href", "data"}:
                assert not text.strip().lower().startswith("javascript:"), tag
    return soup


def assert_shown_as_text(html, *texts):
    soup = assert_inert(html)
    page_text = soup.get_text()
    for text in texts:
        assert text in page_text, f"{text!r} is not shown on the page"


def rich_text(text):
    """What the page editor's rich text field stores for `text` with a javascript: link."""
    contentstate = {
        "blocks": [
            {
                "key": "a1b2c",
                "text": text,
                "type": "unstyled",
                "depth": 0,
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": 0, "length": 8, "key": 0}],
            }
        ],
        "entityMap": {"0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": JAVASCRIPT_URL}}},
    }
    return DraftailRichTextArea().value_from_datadict({"f": json.dumps(contentstate)}, {}, "f")


@pytest.fixture
def stored(client):
    """A competition with a payload in every text field, and submissions in every state."""
    world = build_world(slug="xss", title="Competition " + PAYLOAD, organiser=PAYLOAD)
    competition, target = world["competition"], world["target"]
    for agency in (world["agency_a"], world["agency_b"]):
        agency.name, agency.short_name = f"{agency.code} {PAYLOAD}", PAYLOAD
        agency.level = SCRIPT  # at most 32 characters
        agency.save()
    competition.intro = rich_text("Welcome " + PAYLOAD)
    competition.seo_title = PAYLOAD
    competition.search_description = PAYLOAD
    competition.phases = [CompetitionPhase(name=PAYLOAD, end_date=date(2025, 12, 31))]
    competition.signatories = [CompetitionSignatory(agency=world["agency_a"], signed_by=PAYLOAD, signer_title=PAYLOAD)]
    competition.tiers = [CompetitionTier(label=PAYLOAD, minimum=0)]
    competition.save_revision().publish()
    target.title = "Target " + PAYLOAD
    target.description = rich_text("Describe " + PAYLOAD)
    target.save_revision().publish()
    commitment = CommitmentPage.objects.get(agency=world["agency_a"])
    commitment.title = "Commitment " + PAYLOAD
    commitment.pledge = rich_text("Pledge " + PAYLOAD)
    commitment.save_revision().publish()
    world["reviewer"].first_name = PAYLOAD
    world["reviewer"].save()

    # An accepted submission with a file, a link and a jury score; a returned and a submitted one.
    client.force_login(world["editor_a"])
    response = client.post(
        reverse("wagtailsnippets_competition_submission:add"),
        submission_data(
            world["line_a"],
            value="40",
            day="2025-03-31",
            narrative="Narrative " + PAYLOAD,
            links=[("https://example.org/report", "Link " + PAYLOAD)],
            new_attachments=SimpleUploadedFile('<img src=x onerror=xss_5()>".pdf', PDF),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    accepted = Submission.objects.get()
    evidence.submit(accepted, world["editor_a"])
    jury.record_score(accepted, world["reviewer"], Decimal(5), "Comment " + PAYLOAD)
    evidence.decide(accepted, world["manager"], "accept")
    returned = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=50, narrative="Second " + PAYLOAD
    )
    evidence.submit(returned, world["editor_a"])
    evidence.decide(returned, world["manager"], "return", "Reason " + PAYLOAD)
    waiting = Submission.objects.create(
        line=world["line_b"], reported_on=date(2025, 6, 30), value=70, narrative="Waiting " + PAYLOAD
    )
    evidence.submit(waiting, world["editor_b"])
    Adjustment.objects.create(competition=competition, agency=world["agency_a"], points=2, reason=PAYLOAD)
    ImportRecord.objects.create(user=world["manager"], kind="values", file_name=PAYLOAD + ".csv")
    client.logout()
    world.update(accepted=accepted, returned=returned, waiting=waiting, commitment=commitment)
    return world


def test_rich_text_from_the_editor_keeps_no_markup_or_javascript_url():
    html = rich_text(PAYLOAD)

    assert "<script" not in html and "<img" not in html
    assert "javascript:" not in html
    assert_inert(html)


def test_a_javascript_link_is_refused_by_the_submission_form(client):
    world = build_world(slug="links")
    client.force_login(world["editor_a"])

    response = client.post(
        reverse("wagtailsnippets_competition_submission:add"),
        submission_data(world["line_a"], links=[(JAVASCRIPT_URL, "Click"), ("data:text/html,<script>", "Data")]),
    )

    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    assert not Submission.objects.exists() and not SubmissionLink.objects.exists()


def test_public_pages_show_payloads_as_text(client, stored):
    competition = client.get(stored["competition"].url + "?as_of=2025-12-31")
    target = client.get(stored["target"].url + "?as_of=2025-12-31")
    commitment = client.get(stored["commitment"].url + "?as_of=2025-12-31")

    assert competition.status_code == target.status_code == commitment.status_code == 200
    assert_shown_as_text(
        competition.content.decode(),
        "Competition " + PAYLOAD,
        "Organised by " + PAYLOAD,
        "Welcome " + PAYLOAD,
        f"A {PAYLOAD}: {PAYLOAD}, {PAYLOAD}",  # a signatory
        f"{PAYLOAD}: until",  # the phase
        "Target " + PAYLOAD,
    )
    assert_shown_as_text(target.content.decode(), "Target " + PAYLOAD, "Describe " + PAYLOAD, "A " + PAYLOAD)
    assert_shown_as_text(
        commitment.content.decode(),
        "Commitment " + PAYLOAD,
        "Pledge " + PAYLOAD,
        "Narrative " + PAYLOAD,
        "Link " + PAYLOAD,
        '<img src=x onerror=xss_5()>".pdf',  # the evidence file's title
        PAYLOAD,  # the tier and the adjustment's reason
    )
    soup = BeautifulSoup(competition.content.decode(), "html.parser")
    chart = soup.find("script", id="chart-data")
    assert "<" not in chart.string
    assert "A " + PAYLOAD in json.loads(chart.string)["ranking"]["labels"]


def test_scoreboard_json_is_served_as_json(client, stored):
    response = client.get(stored["competition"].url + "scoreboard.json?as_of=2025-12-31")

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert PAYLOAD in [agency["name"].removeprefix("A ") for agency in response.json()["agencies"]]


def admin_pages(stored):
    """(user, URL, texts that page must show) for every admin page showing a payload."""
    submissions = "wagtailsnippets_competition_submission"
    accepted, returned, waiting = stored["accepted"], stored["returned"], stored["waiting"]
    competition = stored["competition"]
    return [
        ("editor_a", reverse("wagtailadmin_home"), ["Reason " + PAYLOAD]),
        ("manager", reverse("wagtailadmin_home"), ["B " + PAYLOAD]),
        ("reviewer", reverse("wagtailadmin_home"), ["B " + PAYLOAD]),
        ("reviewer", reverse("competition_review_queue"), ["B " + PAYLOAD, "Target " + PAYLOAD]),
        (
            "reviewer",
            reverse("competition_review", args=[accepted.pk]),
            ["Narrative " + PAYLOAD, "Describe " + PAYLOAD, "Link " + PAYLOAD, "Comment " + PAYLOAD],
        ),
        ("manager", reverse("competition_review", args=[waiting.pk]), ["Waiting " + PAYLOAD]),
        (
            "editor_a",
            reverse(f"{submissions}:inspect", args=[accepted.pk]),
            ["Narrative " + PAYLOAD, "Link " + PAYLOAD, '<img src=x onerror=xss_5()>".pdf'],
        ),
        ("editor_a", reverse(f"{submissions}:inspect", args=[returned.pk]), ["Reason " + PAYLOAD]),
        ("editor_a", reverse(f"{submissions}:edit", args=[returned.pk]), ["A " + PAYLOAD]),
        ("manager", reverse(f"{submissions}:history", args=[accepted.pk]), []),
        ("manager", reverse("wagtailsnippets_competition_agency:list"), ["A " + PAYLOAD]),
        ("manager", reverse("wagtailsnippets_competition_adjustment:list"), [PAYLOAD]),
        ("manager", reverse("wagtailsnippets_competition_juror:list"), []),
        ("manager", reverse("competition_import"), [PAYLOAD + ".csv"]),
        ("manager", reverse("wagtailadmin_explore", args=[competition.pk]), ["Target " + PAYLOAD]),
        ("manager", reverse("wagtailadmin_pages:edit", args=[competition.pk]), []),
        ("manager", reverse("wagtailadmin_pages:edit", args=[stored["commitment"].pk]), []),
    ]


def test_admin_pages_show_payloads_as_text(client, stored):
    for user, url, texts in admin_pages(stored):
        client.force_login(stored[user])

        response = client.get(url)

        assert response.status_code == 200, (user, url)
        html = response.content.decode()
        assert_shown_as_text(html, *texts)
        assert "xss_" in html, (user, url)  # the page did render a payload


def csv_file(name, rows):
    import csv

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode())


def test_import_preview_shows_payloads_as_text(client, stored):
    client.force_login(stored["manager"])
    name = PAYLOAD.replace("/", "") + ".csv"  # a file name cannot hold a slash
    upload = csv_file(
        name, [["agency", "target", "reported_on", "value", "note"], ["A", "T1", "2025-09-30", "60", PAYLOAD]]
    )

    response = client.post(
        reverse("competition_import"), {"kind": "values", "competition": "xss", "import_file": upload}
    )

    html = response.content.decode()
    assert "Confirm the import" in html
    assert_shown_as_text(html, name)
    assert "xss_1()" in BeautifulSoup(html, "html.parser").get_text()  # the note, in the row's diff


def test_import_errors_show_payloads_as_text(client, stored):
    client.force_login(stored["manager"])
    upload = csv_file("v.csv", [["agency", "target", "reported_on", "value"], [PAYLOAD, "T1", "2025-09-30", "60"]])

    response = client.post(
        reverse("competition_import"), {"kind": "values", "competition": "xss", "import_file": upload}
    )

    html = response.content.decode()
    assert "nothing will be imported" in html
    assert_shown_as_text(html, "unknown agency code", "xss_2()")


# Spreadsheet formula injection.

FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+1+cmd|' /C calc'!A0", "-1+2", "@SUM(1)", "=1+2"]


@pytest.fixture
def formulas():
    world = build_world(slug="cells")
    for agency, text in ((world["agency_a"], FORMULAS[0]), (world["agency_b"], FORMULAS[3])):
        agency.name = text
        agency.save()
    world["competition"].tiers = [CompetitionTier(label=FORMULAS[1], minimum=0)]
    world["competition"].save_revision().publish()
    submission = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=50, narrative=FORMULAS[2]
    )
    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], "accept")
    Adjustment.objects.create(competition=world["competition"], agency=world["agency_a"], points=-2, reason=FORMULAS[4])
    return world


def csv_cells(text):
    import csv

    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula_cell(cells):
    for cell in cells:
        assert not (cell[:1] in "=+-@\t\r" and cell and not _number(cell)), cell


def _number(text):
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def test_scoreboard_csv_neutralises_formulas(client, formulas):
    response = client.get("/cells/scoreboard.csv?as_of=2025-12-31")

    cells = csv_cells(response.content.decode())
    assert_no_formula_cell(cells)
    assert "'" + FORMULAS[0] in cells and "'" + FORMULAS[1] in cells and "'" + FORMULAS[3] in cells


def test_scoreboard_xlsx_keeps_formula_like_text_as_text(client, formulas):
    from openpyxl import load_workbook

    response = client.get("/cells/scoreboard.xlsx?as_of=2025-12-31")

    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert {FORMULAS[0], FORMULAS[1], FORMULAS[3]} <= values


@pytest.mark.parametrize("kind", ["agencies", "values", "adjustments"])
def test_admin_exports_neutralise_formulas_and_import_back_unchanged(client, formulas, kind):
    client.force_login(formulas["manager"])

    csv_text = client.get(reverse("competition_export", args=[kind, "csv"]) + "?competition=cells").content
    xlsx = client.get(reverse("competition_export", args=[kind, "xlsx"]) + "?competition=cells").content

    assert_no_formula_cell(csv_cells(csv_text.decode()))
    for content, file_format in ((csv_text, "csv"), (xlsx, "xlsx")):
        report = run_import(kind, load_dataset(content, file_format), competition="cells")
        assert report.ok, report.errors
        assert (report.created, report.updated) == (0, 0)


def test_adjustment_points_stay_numbers_in_csv(client, formulas):
    client.force_login(formulas["manager"])

    content = client.get(reverse("competition_export", args=["adjustments", "csv"])).content.decode()

    assert ",-2," in content


@pytest.mark.parametrize(
    ("viewset", "text"),
    [("submission", FORMULAS[2]), ("adjustment", FORMULAS[4]), ("agency", FORMULAS[0])],
)
def test_admin_listing_exports_neutralise_formulas(client, formulas, viewset, text):
    client.force_login(formulas["superuser"])

    response = client.get(reverse(f"wagtailsnippets_competition_{viewset}:list"), {"export": "csv"})

    cells = csv_cells(b"".join(response.streaming_content).decode())
    assert "'" + text in cells
    assert_no_formula_cell(cells)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+2", "'\uff1d1+2"),
        ("-2", "-2"),
        ("+1.5", "+1.5"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
    ],
)
def test_csv_cells_neutralise_formulas_and_import_back(text, cell):
    from competition.spreadsheets import neutralise, unneutralise

    assert neutralise(text) == cell
    assert unneutralise(cell) == text
