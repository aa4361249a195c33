"""Accessibility in a real browser: axe-core finds no WCAG 2.2 AA violation on any public page
type (with its sorted, paginated, dated and erroneous variants) nor on the app's own admin
screens; charts have a text and table alternative; a status is never told by colour alone."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from competition.domain import evidence, jury
from competition.domain.attachments import attach
from competition.models import ReportingDeadline, Submission, SubmissionLink
from tests.browser.conftest import axe_violations, browser_marks, describe
from tests.test_evidence import PDF, PNG, world  # noqa: F401  (the same people and lines)
from tests.test_jury import panel  # noqa: F401  (world plus reviewers and two submitted items)

pytestmark = browser_marks

PUBLIC_PAGES = [
    "/",
    "/digital-2025/",
    "/digital-2025/?sort=-score_percent",
    "/digital-2025/?page=2",
    "/digital-2025/?as_of=2025-04-30",
    "/digital-2025/?as_of=not-a-date",
    "/digital-2025/target-t1/",
    "/digital-2025/target-t2/?as_of=2025-07-01",
    "/digital-2025/agency-dost/",
    "/digital-2025/agency-26740/?as_of=2025-04-30",
    "/digital-2025/report/",
    "/digital-2025/report/?as_of=2025-04-30",
    "/digital-2025/report/?as_of=not-a-date",
    "/agencies/26734/",
]


def record(page, name, found, best_practice=False):
    """Record the axe violations of the page as it is now under `name` in `found`."""
    # Charts are drawn after the page loads; axe should see the page as people do.
    expect(page.locator("figure.chart:not(.chart--ready)")).to_have_count(0)
    violations = axe_violations(page, best_practice=best_practice)
    if violations:
        found[name] = describe(violations)


def check(page, url, found, best_practice=False):
    """Open `url` and record its axe violations."""
    page.goto(url)
    record(page, url, found, best_practice)


def report(found):
    return "\n".join(f"{url}:\n{text}" for url, text in found.items())


def test_axe_finds_what_it_should(page):
    """The harness itself: a page with an image without text and a field without a label."""
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><input></main></html>')

    assert {violation["id"] for violation in axe_violations(page)} == {"image-alt", "label"}


def test_public_pages_have_no_wcag_violations(site, public_board, settings):
    settings.COMPETITION_RANKING_PER_PAGE = 2  # so that the ranking has a second page
    page = site.visitor()
    found = {}

    for url in PUBLIC_PAGES:
        # Our own markup throughout: axe's best practices too (landmarks, heading order...).
        check(page, url, found, best_practice=True)

    assert not found, report(found)


CHART_ALTERNATIVES = """() => {
    const problems = [];
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    const labels = [
        ...((data.ranking || {}).labels || []),
        ...(data.series || []).filter((s) => s.points.length).map((s) => s.label),
    ];
    for (const figure of document.querySelectorAll("figure.chart")) {
        const canvas = figure.querySelector("canvas");
        const caption = figure.querySelector("figcaption");
        const tables = [...figure.closest("section").querySelectorAll("table")];
        if (canvas.getAttribute("aria-hidden") !== "true" && !canvas.getAttribute("aria-label")) {
            problems.push(`${canvas.id}: neither hidden from assistive technology nor labelled`);
        }
        if (!caption || !caption.textContent.trim()) {
            problems.push(`${canvas.id}: no caption`);
        }
        if (!tables.length) {
            problems.push(`${canvas.id}: no table in its section`);
        }
        const text = tables.map((table) => table.textContent).join(" ");
        for (const label of labels) {
            if (figure.dataset.chart !== "progress" && !text.includes(label)) {
                problems.push(`${canvas.id}: "${label}" is drawn but not in a table`);
            }
        }
    }
    return problems;
}"""

STATUS_WORDS = """() => [...document.querySelectorAll(".status")].map((badge) => {
    const clone = badge.cloneNode(true);
    clone.querySelectorAll("[aria-hidden=true]").forEach((symbol) => symbol.remove());
    return [badge.className.match(/status--(\\w+)/)[1], clone.textContent.replace(/:\\s*\\d+$/, "").trim()];
})"""


def test_charts_have_table_alternatives_and_statuses_are_words(site, public_board):
    page = site.visitor()
    words = {}

    for url in ("/digital-2025/", "/digital-2025/target-t1/", "/digital-2025/agency-dost/"):
        url += "?as_of=2025-07-01"  # every status at once
        page.goto(url)
        expect(page.locator("figure.chart.chart--ready").first).to_be_visible()
        assert page.evaluate(CHART_ALTERNATIVES) == [], url
        # Progress bars are drawn for the eye only; their figure is written next to them.
        expect(page.locator(".progress .progress__bar:not([aria-hidden=true])")).to_have_count(0)
        for text in page.locator(".progress .progress__text").all_inner_texts():
            # A no-break space between the number and % (never parted on a narrow screen).
            assert re.fullmatch(r"\d+\.\d\d\xa0%|—", text), (url, text)
        for status, word in page.evaluate(STATUS_WORDS):
            words.setdefault(status, set()).add(word)

    # Each status has one word of its own: its colour and symbol only repeat what the word says.
    assert {"achieved", "on_track", "off_track", "no_data"} <= set(words), words
    assert all(len(found) == 1 and "" not in found for found in words.values()), words
    assert len({next(iter(found)) for found in words.values()}) == len(words), words


@pytest.fixture
def admin_world(panel):  # noqa: F811
    """The panel of test_jury with what fills every admin screen: deadlines (overdue items),
    an accepted earlier value, a returned submission with files and links, a score."""
    competition = panel["competition"]
    for day in (date(2025, 6, 30), date(2025, 9, 30)):
        ReportingDeadline.objects.create(page=competition, date=day)
    earlier = Submission.objects.create(line=panel["line_a"], reported_on=date(2025, 3, 31), value=30)
    evidence.submit(earlier, panel["editor_a"])
    evidence.decide(earlier, panel["manager"], "accept")
    returned = Submission.objects.create(
        line=panel["line_a"], reported_on=date(2025, 9, 30), value=65, narrative="Counted from the system."
    )
    attach(returned, SimpleUploadedFile("scan.pdf", PDF, "application/pdf"), panel["editor_a"])
    attach(returned, SimpleUploadedFile("photo.png", PNG, "image/png"), panel["editor_a"])
    SubmissionLink.objects.create(submission=returned, url="https://example.org/report", title="Report")
    SubmissionLink.objects.create(submission=returned, url="https://example.org/data", title="Data")
    evidence.submit(returned, panel["editor_a"])
    evidence.decide(returned, panel["manager"], "return", "Attach the signed scan.")
    jury.record_score(panel["subs"]["b"], panel["rev_two"], Decimal(6), "Partial evidence.")
    return panel | {"returned": returned}


SUBMISSIONS = "/admin/snippets/competition/submission/"


def test_editor_admin_screens_have_no_wcag_violations(site, admin_world):
    returned = admin_world["returned"]
    page = site.login(admin_world["editor_a"])
    found = {}

    record(page, "/admin/", found)
    check(page, SUBMISSIONS, found)
    check(page, f"{SUBMISSIONS}inspect/{returned.pk}/", found)
    check(page, f"{SUBMISSIONS}edit/{returned.pk}/", found)
    check(page, f"{SUBMISSIONS}add/", found)
    page.get_by_role("button", name="Save").click()  # empty: the form shows its errors
    expect(page.locator(".error-message").first).to_be_visible()
    record(page, "add, with errors", found)

    assert not found, report(found)


IMPORT_CSV = "code,name,short_name,parent_code,level\nC,Agency C,,,ward\nA,Agency A,,,\n"
BAD_CSV = "code,name\n,No code\nB,\n"


def test_manager_admin_screens_have_no_wcag_violations(site, admin_world):
    b = admin_world["subs"]["b"]
    page = site.login(admin_world["manager"])
    found = {}

    record(page, "/admin/", found)
    check(page, SUBMISSIONS, found)
    check(page, f"{SUBMISSIONS}inspect/{b.pk}/", found)
    check(page, f"/admin/review/{b.pk}/", found)
    check(page, "/admin/review/", found)
    competition = admin_world["competition"]
    check(page, f"/admin/competition/{competition.pk}/jury-board/", found)
    check(page, f"/admin/competition/{competition.pk}/jury-board/?as_of=not-a-date", found)
    check(page, f"/admin/competition/{competition.pk}/judging/", found)
    # (The page editor itself is Wagtail's: its rich-text fields have no accessible name there.)
    check(page, "/admin/competition-import/", found)
    for name, content in (("agencies.csv", IMPORT_CSV), ("broken.csv", BAD_CSV)):
        page.get_by_label("What the file holds").select_option("agencies")
        page.get_by_label("File (.csv, .xlsx or .json)").set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
        )
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name=f"Preview of {name}")).to_be_visible()
        record(page, f"import preview of {name}", found)
    expect(page.get_by_role("alert").first).to_contain_text("nothing will be imported")

    assert not found, report(found)


def test_reviewer_admin_screens_have_no_wcag_violations(site, admin_world):
    b = admin_world["subs"]["b"]
    page = site.login(admin_world["rev_free"])
    found = {}

    record(page, "/admin/", found)
    check(page, "/admin/review/", found)
    check(page, f"/admin/review/{b.pk}/", found)
    # The browser would refuse 11 itself: let the server answer, to check its error message.
    page.locator("form:has(#points)").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("spinbutton", name="Points (0 to 10)").fill("11")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("between 0 and 10")
    record(page, "review, points out of range", found)
    page.get_by_role("spinbutton", name="Points (0 to 10)").fill("7")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("table").filter(has_text="Partial evidence.")).to_be_visible()
    record(page, "review, after saving", found)

    assert not found, report(found)


def test_the_conflict_of_interest_notice_has_no_wcag_violations(site, admin_world):
    page = site.login(admin_world["rev_a"])
    found = {}

    check(page, f"/admin/review/{admin_world['subs']['a'].pk}/", found)
    expect(page.get_by_role("heading", level=1)).to_have_text("Conflict of interest")
    expect(page.get_by_role("alert")).to_contain_text("affiliated with Agency A")

    assert not found, report(found)
