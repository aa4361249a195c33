"""The people's journeys in a real browser: an agency editor reports with evidence, a manager
returns and accepts it, two reviewers score it blind, a public reader follows the board."""

import csv
import io
import re
from datetime import date

from playwright.sync_api import expect

from competition.domain import evidence
from competition.enums import SubmissionStatus
from competition.models import JuryScore, ReportingDeadline, Submission
from tests.browser.conftest import browser_marks
from tests.test_evidence import PDF, PNG, world  # noqa: F401  (the same people and lines)
from tests.test_jury import panel  # noqa: F401  (world plus reviewers and two submitted items)

pytestmark = browser_marks

PDF_FILE = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF}
PNG_FILE = {"name": "proof.png", "mimeType": "image/png", "buffer": PNG}


def open_submissions(page):
    """From anywhere in the admin, through the sidebar: Competitions → Submissions."""
    page.get_by_role("button", name="Competitions").click()
    page.get_by_role("link", name="Submissions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submissions")


def inspect_from_listing(page, row_text):
    """Open a submission's inspect screen from the listing's row menu."""
    page.get_by_role("row").filter(has_text=row_text).get_by_role("button", name="More options").click()
    page.get_by_role("link", name="Inspect").click()


def status_line(page):
    return page.locator("main p").filter(has_text="Status:").first


def test_editor_sees_what_is_due_drafts_with_a_file_and_submits(site, world, screenshot):  # noqa: F811
    ReportingDeadline.objects.create(page=world["competition"], date=date(2025, 6, 30))
    page = site.login(world["editor_a"], through_form=True)

    reporting = page.get_by_role("region", name="Your agency's reporting")
    expect(reporting.get_by_role("listitem").filter(has_text="T1 Target T1")).to_have_text(
        "Agency A · T1 Target T1: due June 30, 2025"
    )
    screenshot(page, "editor-dashboard")

    open_submissions(page)
    page.get_by_role("link", name="Add submission").click()
    page.get_by_role("combobox", name="Commitment target").select_option(label="Agency A · T1 Target T1 (Loop)")
    page.get_by_role("textbox", name="Reporting date").fill("2025-06-30")
    page.get_by_role("spinbutton", name="Measured value").fill("55")
    page.get_by_role("textbox", name="Narrative").fill("Counted from the document management system.")
    page.locator("input[type=file][name=new_attachments]").set_input_files(files=[PDF_FILE])
    screenshot(page, "editor-draft")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Submission “Agency A · T1 Target T1 · 06/30/2025 · 55” saved as a draft."
    )
    expect(page.get_by_role("row").filter(has_text="A · T1")).to_contain_text("Draft")
    inspect_from_listing(page, "A · T1")
    expect(status_line(page)).to_have_text("Status: Draft")
    expect(page.locator("main li").filter(has_text="(PDF,")).to_have_count(1)
    page.get_by_role("link", name="Submit for review").click()
    page.get_by_role("button", name="Yes, submit for review").click()

    expect(page.get_by_role("status")).to_contain_text("Submitted: the managers will review it.")
    expect(status_line(page)).to_have_text("Status: Submitted")
    expect(page.get_by_role("link", name="Submit for review")).to_have_count(0)
    page.goto("/admin/")
    expect(reporting.get_by_text("Nothing overdue.")).to_be_visible()
    submission = Submission.objects.get()
    assert (submission.status, submission.value, submission.attachments.count()) == (SubmissionStatus.SUBMITTED, 55, 1)


def test_manager_returns_with_a_reason_editor_fixes_and_resubmits_manager_accepts(site, world, screenshot):  # noqa: F811
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    evidence.submit(submission, world["editor_a"])
    reason = "Attach the signed scan of the report."
    manager = site.login(world["manager"])

    deciding = manager.get_by_role("region", name="Evidence to decide")
    expect(deciding.get_by_role("heading", level=3).first).to_have_text("1 submission awaits a decision")
    deciding.get_by_role("link", name="Agency A · T1, June 30, 2025").click()
    manager.get_by_role("textbox", name="Reason").fill(reason)
    manager.get_by_role("button", name="Return to the agency").scroll_into_view_if_needed()
    screenshot(manager, "manager-decision")
    manager.get_by_role("button", name="Return to the agency").click()
    expect(manager.get_by_role("status").first).to_contain_text("Decision recorded.")
    # Nothing else waits: the manager is told so, on the list of submitted evidence.
    expect(manager.get_by_text("No more submissions are waiting for your decision.")).to_be_visible()
    submission.refresh_from_db()
    assert (submission.status, submission.decision_note) == (SubmissionStatus.RETURNED, reason)

    editor = site.login(world["editor_a"])
    returned = (
        editor.get_by_role("region", name="Your agency's reporting").get_by_role("listitem").filter(has_text=reason)
    )
    expect(returned).to_have_text(f"T1, June 30, 2025: {reason}")
    returned.get_by_role("link").click()
    expect(status_line(editor)).to_have_text(f"Status: Returned · Reason: {reason}")
    editor.get_by_role("navigation", name="Actions").get_by_role("button").click()
    editor.get_by_role("navigation", name="Actions").get_by_role("link", name="Edit").click()
    editor.get_by_role("spinbutton", name="Measured value").fill("60")
    editor.locator("input[type=file][name=new_attachments]").set_input_files(files=[PNG_FILE])
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_contain_text("” saved.")
    inspect_from_listing(editor, "A · T1")
    expect(editor.locator("main li").filter(has_text="(PNG,")).to_have_count(1)
    editor.get_by_role("link", name="Submit for review").click()
    editor.get_by_role("button", name="Yes, submit for review").click()
    expect(status_line(editor)).to_have_text("Status: Submitted")

    manager.goto("/admin/")
    deciding.get_by_role("link", name="Agency A · T1, June 30, 2025").click()
    expect(manager.locator("main")).to_contain_text("60")
    manager.get_by_role("button", name="Accept").click()
    expect(manager.get_by_text("No more submissions are waiting for your decision.")).to_be_visible()
    expect(manager.get_by_role("button", name="Accept")).to_have_count(0)

    reader = site.visitor()
    reader.goto("/loop/agency-a/?as_of=2025-07-01")
    expect(reader.locator("table.board-table tbody tr").first.locator("td").first).to_contain_text("60")
    expect(reader.get_by_role("region", name="Accepted evidence").get_by_role("link", name="proof")).to_be_visible()
    submission.refresh_from_db()
    assert (submission.status, submission.value) == (SubmissionStatus.ACCEPTED, 60)


def test_two_reviewers_score_from_the_queue_blind_until_they_have_saved(site, panel, screenshot):  # noqa: F811
    a, b = panel["subs"]["a"], panel["subs"]["b"]
    first = site.login(panel["rev_free"])

    first.get_by_role("link", name="Review queue (2)").click()
    expect(first.locator("main")).to_contain_text("2 submissions to review.")
    first.get_by_role("link", name="Agency A", exact=True).click()
    expect(first.get_by_text("The other reviewers' points are shown once you have saved yours.")).to_be_visible()
    first.get_by_role("spinbutton", name="Points (0 to 10)").fill("8")
    first.get_by_role("textbox", name="Comment").fill("The scan matches the system's report.")
    screenshot(first, "review-scoring")
    first.get_by_role("button", name="Save and next").click()
    expect(first).to_have_url(re.compile(rf"/admin/review/{b.pk}/$"))
    expect(first.get_by_role("status")).to_contain_text("Your score was saved.")
    expect(first.get_by_role("heading", level=2).first).to_contain_text("Agency B")
    first.get_by_role("spinbutton", name="Points (0 to 10)").fill("6")
    first.get_by_role("textbox", name="Comment").fill("Only part of the period is covered.")
    first.get_by_role("button", name="Save and next").click()
    expect(first.get_by_role("status")).to_contain_text("Your queue is empty.")
    expect(first.locator("main")).to_contain_text("0 submissions to review.")

    second = site.login(panel["rev_two"])
    second.get_by_role("link", name="Review queue (2)").click()
    second.get_by_role("link", name="Agency A", exact=True).click()
    expect(second.get_by_text("The other reviewers' points are shown once you have saved yours.")).to_be_visible()
    expect(second.locator("main")).not_to_contain_text("The scan matches the system's report.")
    second.get_by_role("spinbutton", name="Points (0 to 10)").fill("7")
    second.get_by_role("button", name="Save and next").click()
    expect(second).to_have_url(re.compile(rf"/admin/review/{b.pk}/$"))
    expect(second.locator("main")).not_to_contain_text("Only part of the period is covered.")

    second.goto(f"/admin/review/{a.pk}/")
    scores = second.get_by_role("table").filter(has_text="Reviewer")
    expect(scores.get_by_role("row")).to_have_count(3)
    rows = scores.get_by_role("row")
    # Points as the locale writes them (8, 8.00, 8,0000...).
    expect(rows.filter(has_text="rev_free").get_by_role("cell")).to_have_text(
        ["rev_free", re.compile(r"^8([.,]0+)?$"), "The scan matches the system's report."]
    )
    expect(rows.filter(has_text="rev_two").get_by_role("cell")).to_have_text(
        ["rev_two", re.compile(r"^7([.,]0+)?$"), ""]
    )
    expect(second.locator("main")).to_contain_text("Aggregate (Mean): 7.5 ·")
    scores.scroll_into_view_if_needed()
    screenshot(second, "review-after-saving")
    assert sorted(JuryScore.objects.values_list("juror__user__username", "submission", "points")) == [
        ("rev_free", a.pk, 8),
        ("rev_free", b.pk, 6),
        ("rev_two", a.pk, 7),
    ]


def ranking_names(page):
    return page.locator("table.board-table").first.locator("tbody tr td:nth-child(2) a").all_inner_texts()


def test_public_reader_sorts_the_ranking_changes_the_date_opens_an_agency_and_downloads_csv(
    site, public_board, screenshot
):
    page = site.visitor()
    page.goto("/")
    page.get_by_role("link", name="Digital government emulation 2025").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Digital government emulation 2025")
    expect(page.get_by_role("heading", name="Ranking as of Dec. 31, 2025")).to_be_visible()
    assert ranking_names(page) == ["Department of Science and Technology", "Sài Gòn Ward", "Bến Thành Ward"]
    expect(page.locator("figure.chart--ready")).to_have_count(2)  # Chart.js drew both charts
    screenshot(page, "public-competition")

    page.get_by_role("link", name=re.compile(r"^Rank \(sorted ascending")).click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Rank")
    assert ranking_names(page) == ["Bến Thành Ward", "Sài Gòn Ward", "Department of Science and Technology"]

    page.get_by_label("Scores as of").fill("2025-04-30")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Ranking as of April 30, 2025")).to_be_visible()
    expect(page).to_have_url(re.compile(r"as_of=2025-04-30"))
    # The new date keeps the reader's sort (last rank first).
    expect(page).to_have_url(re.compile(r"sort=-rank"))
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Rank")
    assert ranking_names(page) == ["Sài Gòn Ward", "Bến Thành Ward", "Department of Science and Technology"]
    dost = page.locator("table.board-table").first.locator("tbody tr").filter(has_text="DOST")
    expect(dost.get_by_role("cell")).to_have_text(
        [
            "1",
            "Department of Science and Technology DOST provisional",
            "—",
            "Below target",
            "16.67\u00a0%",
            "16.67\u00a0%",
            "5 / 30",
        ]
    )

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Scoreboard (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "digital-2025-scoreboard-2025-04-30.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert [(row["agency_code"], row["target_code"]) for row in rows] == [
        ("DOST", "T1"),
        ("DOST", "T2"),
        ("26740", "T1"),  # second: its bonus points, while neither ward has reported yet
        ("26740", "T2"),
        ("26734", "T1"),
        ("26734", "T2"),
    ]
    by_line = {(row["agency_code"], row["target_code"]): row for row in rows}
    assert by_line[("DOST", "T1")]["value"] == "70" and by_line[("DOST", "T1")]["reported_on"] == "2025-03-31"
    assert by_line[("26734", "T1")]["value"] == "" and by_line[("26734", "T1")]["status"] == "no_data"
    assert {row["agency_name"] for row in rows} >= {"Sài Gòn Ward", "Bến Thành Ward"}

    page.get_by_role("link", name="Department of Science and Technology").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Department of Science and Technology DOST")
    lines = page.locator("table.board-table tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.first).to_contain_text("T1 Work files processed online")
    expect(lines.first).to_contain_text("92")
    # 31 December is the targets' deadline: what is not achieved by then is missed.
    expect(lines.first.locator(".status")).to_have_text("✕ Missed")
    screenshot(page, "public-commitment")


def test_manager_reads_the_jury_board_closes_judging_and_the_public_reads_final_results(site, public_board, screenshot):
    from competition.domain.roles import MANAGERS, ensure_roles
    from tests.factories import UserFactory

    competition = public_board["competition"]
    manager = UserFactory(username="manager.judging")
    manager.groups.add(ensure_roles()[MANAGERS])
    reader = site.visitor()
    reader.goto("/digital-2025/agency-dost/")
    expect(reader.get_by_text("Provisional results.")).to_be_visible()
    online = reader.locator("table.board-table tbody tr").first
    # The reviewer's 9 points stay out of the public page while judging is open.
    expect(online.get_by_role("cell").nth(4)).to_have_text("—")  # Jury
    expect(online.get_by_role("cell").nth(5)).to_have_text("8.67 / 10 *")  # Awarded

    page = site.login(manager)
    judging = page.get_by_role("region", name="Evidence to decide")
    judging.get_by_role("link", name="board with the jury's points").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Board with the jury's points")
    dost = page.get_by_role("row").filter(has_text="Department of Science and Technology")
    expect(dost.get_by_role("cell").nth(4)).to_contain_text("96.67 %")  # with the jury's 9 points
    expect(dost.get_by_role("cell").nth(5)).to_contain_text("95.56 %")  # as published
    screenshot(page, "manager-jury-board")

    page.get_by_role("link", name="Close judging…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Close judging")
    expect(page.locator("main")).to_contain_text("5 accepted submissions have no jury score")
    screenshot(page, "manager-close-judging")
    page.get_by_role("button", name="Close judging and publish the results").click()
    expect(page.get_by_role("status")).to_contain_text("its official results are published")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Commendations")

    reader.reload()
    expect(reader.get_by_text(re.compile(r"Official results, published on"))).to_be_visible()
    online = reader.locator("table.board-table tbody tr").first
    expect(online.get_by_role("cell").nth(4)).to_have_text("9")
    expect(online.get_by_role("cell").nth(5)).to_have_text("—")  # the agency's own points: none proposed
    expect(online.get_by_role("cell").nth(6)).to_have_text("9 / 10")
    screenshot(reader, "public-final-results")
    competition.refresh_from_db()
    assert competition.closed and competition.closed_by == manager
