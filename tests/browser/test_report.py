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
from tests.browser.conftest import axe_violations, browser_marks, describe, switch_to_vietnamese

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
        switch_to_vietnamese(page)

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


def test_manager_closes_judging_reviews_the_awards_records_the_decision_and_the_public_reads_it(
    site, public_board, screenshot
):
    """Issue 19's journey: close judging with a preview, the proposed awards reviewed (one taken off
    with its reason), the decision recorded with its signed PDF; then a reader finds the official
    results, the awards, an agency's record, the report as a PDF and the awards as CSV."""
    import csv

    from competition.domain.roles import MANAGERS, ensure_roles
    from competition.models import Award, AwardRule
    from tests.factories import UserFactory

    competition = public_board["competition"]
    AwardRule.objects.create(page=competition, sort_order=0, name="Cờ thi đua", basis="rank", rank=1, limit=1)
    AwardRule.objects.create(page=competition, sort_order=1, name="Bằng khen", basis="cluster_rank", rank=1)
    manager = UserFactory(username="manager.results")
    manager.groups.add(ensure_roles()[MANAGERS])

    page = site.login(manager)
    page.goto(f"/admin/competition/{competition.pk}/judging/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Close judging")
    # The preview: the board that will be published, with the jury's points.
    expect(page.locator("main")).to_contain_text("Department of Science and Technology")
    expect(page.locator("main")).to_contain_text("accepted submissions have no jury score")
    page.get_by_role("button", name="Close judging and publish the results").click()
    expect(page.get_by_role("status")).to_contain_text("its official results are published")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Commendations")

    awards = page.get_by_role("region", name="Awards")
    flag = awards.get_by_role("row").filter(has_text="Cờ thi đua")
    expect(flag).to_contain_text("Department of Science and Technology")
    merit = awards.get_by_role("row").filter(has_text="Bằng khen")
    expect(merit).to_have_count(1)  # the first of the wards' cluster
    merit_agency = Award.objects.get(competition=competition, name="Bằng khen").agency
    merit.get_by_label("Reason").fill("The council kept the certificate for next year")
    merit.get_by_role("button", name="Take off").click()
    expect(awards.get_by_role("row").filter(has_text="Bằng khen")).to_contain_text("taken off")
    expect(awards).to_contain_text("The council kept the certificate for next year")
    screenshot(page, "manager-commendations")

    page.get_by_label("Decision number").fill("125/QĐ-UBND")
    page.get_by_label("Date of the decision").fill("2026-01-15")
    page.get_by_label("Issued by").fill("People's Committee")
    page.get_by_label("Signed by").fill("Nguyễn Văn A")
    page.get_by_label("Signed decision (PDF)").set_input_files(
        files=[{"name": "decision-125.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("heading", name="Awards granted")).to_be_visible()
    expect(page.locator("main")).to_contain_text("125/QĐ-UBND")

    reader = site.visitor()
    reader.goto("/digital-2025/")
    expect(reader.get_by_text(re.compile(r"Official results, published on"))).to_be_visible()
    section = reader.locator("section.commendations")
    expect(section).to_contain_text("Decision No. 125/QĐ-UBND")
    expect(section.get_by_role("row").filter(has_text="Cờ thi đua")).to_contain_text(
        "Department of Science and Technology"
    )
    expect(section).not_to_contain_text("Bằng khen")  # taken off before the decision

    with reader.expect_download() as download:
        reader.get_by_role("link", name="Results report (PDF)").click()
    text = " ".join(" ".join(sheet.extract_text() for sheet in PdfReader(download.value.path()).pages).split())
    for expected in (
        "Department of Science and Technology",
        "Sài Gòn Ward",
        "Bến Thành Ward",
        "Cờ thi đua",
        "125/QĐ-UBND",
        "Official results",
    ):
        assert expected in text, expected
    assert "Bằng khen" not in text

    with reader.expect_download() as download:
        reader.get_by_role("link", name="Awards (CSV)").click()
    with open(download.value.path(), encoding="utf-8-sig") as awards_file:
        rows = list(csv.DictReader(awards_file))
    assert [(row["agency_code"], row["award"], row["decision_number"]) for row in rows] == [
        ("DOST", "Cờ thi đua", "125/QĐ-UBND")
    ]

    reader.goto("/digital-2025/agency-dost/")
    reader.get_by_role("link", name=re.compile("Record of achievements of Department of Science")).click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text("Department of Science and Technology")
    expect(reader.locator(".awards")).to_contain_text("Cờ thi đua")
    expect(reader.locator(".awards")).to_contain_text("125/QĐ-UBND")
    expect(reader.locator("main")).to_contain_text("Final rank")
    reader.goto(f"/agencies/{merit_agency.code}/")
    expect(reader.locator("main")).to_contain_text("No award for this agency.")
    screenshot(reader, "public-record-after-decision")
