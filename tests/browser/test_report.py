"""The results report and the record of achievements in a real browser: printed, the report is
the report alone (no form, navigation or language switcher), every agency on A4 pages, no number
parted from its unit; axe finds no violation on the report of a decided competition nor on an
agency's record; screenshots of both, in English and Vietnamese, on a desktop and a phone."""

import io
import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect
from pypdf import PdfReader

from competition.domain import commendations, judging
from tests.browser.conftest import axe_violations, browser_marks, describe

pytestmark = browser_marks

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def decided_board(public_board):
    """The public board's competition closed, its results published and a decision recorded."""
    from tests.factories import UserFactory

    competition = public_board["competition"]
    manager = UserFactory(username="report.manager", is_superuser=True)
    judging.close_judging(competition, manager)
    commendations.add(competition, manager, "DOST", "Cờ thi đua", "First of the city")
    commendations.add(competition, manager, "26740", "Bằng khen", "First of the wards")
    commendations.record_decision(
        competition,
        manager,
        number="125/QĐ-UBND",
        issued_on=date(2026, 1, 15),
        issued_by="People's Committee",
        signed_by="Nguyễn Văn A",
        upload=SimpleUploadedFile("decision.pdf", PDF, "application/pdf"),
    )
    return public_board


def printed_text(page):
    """The text of the page as Chromium prints it on A4 paper."""
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    return "\n".join(sheet.extract_text() for sheet in reader.pages)


def test_printed_the_report_is_the_report_alone(site, public_board):
    page = site.visitor()
    page.goto("/digital-2025/report/?as_of=2025-07-01")
    on_screen = page.locator("main").inner_text()

    page.emulate_media(media="print")

    for hidden in ("header.site-header", "footer.site-footer", "form.language-form", "form.as-of-form", "nav"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("link", name="Download the report (PDF)")).to_be_hidden()
    expect(page.locator("#report-ranking")).to_be_visible()
    text = printed_text(page)
    assert "Scores as of" in on_screen and "Scores as of" not in text
    assert "Language" not in text and "Skip to main content" not in text and "Download the report" not in text
    words = " ".join(text.split())  # a long name may wrap
    for name in ("Department of Science and Technology", "Sài Gòn Ward", "Bến Thành Ward"):
        assert name in words
    assert re.search(r"\d+\.\d\d\u00a0%", text) or re.search(r"\d+\.\d\d %", text)
    assert not re.search(r"\d\s*\n\s*%", text)  # never a number at a line's end and its % on the next


def test_report_and_record_have_no_wcag_violations(site, decided_board):
    page = site.visitor()
    found = {}
    for url in ("/digital-2025/report/", "/agencies/26740/", "/agencies/DOST/"):
        page.goto(url)
        violations = axe_violations(page, best_practice=True)
        if violations:
            found[url] = describe(violations)

    assert not found, "\n".join(f"{url}:\n{text}" for url, text in found.items())


@pytest.mark.parametrize("language", ["en", "vi"])
def test_screenshots_of_the_report_and_the_record(site, decided_board, screenshot, language):
    page = site.visitor()
    if language == "vi":
        page.goto("/")
        page.locator("#language-select").select_option("vi")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("html")).to_have_attribute("lang", "vi")

    page.goto("/digital-2025/report/")
    expect(page.locator("main")).to_contain_text("125/QĐ-UBND")
    screenshot(page, f"public-report-{language}")
    page.set_viewport_size(PHONE)
    screenshot(page, f"public-report-phone-{language}")
    # Nothing wider than the phone: wide tables scroll within their own region.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto("/agencies/26740/")
    expect(page.locator(".awards")).to_contain_text("Bằng khen")
    screenshot(page, f"public-record-phone-{language}")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, f"public-record-{language}")
