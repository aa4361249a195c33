"""Issue 20's editor and manager screens in a real browser, in English and in Vietnamese, on a
desktop and on a phone: the submission form with the chosen target's facts (following the select
as it changes), a file kept across a refused form, "Save draft" and "Submit for review" side by
side with a confirmation; the edit address of submitted evidence showing it read-only; the
manager deciding in context and moving on to the next pending item. Every screen passes axe."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from competition.domain import evidence
from competition.enums import SubmissionStatus
from competition.models import Submission
from tests.browser.conftest import DESKTOP, PHONE, REACHABLE, browser_marks, set_admin_language
from tests.browser.test_accessibility import record, report
from tests.test_evidence import PDF, world  # noqa: F401  (the same people and lines)

pytestmark = browser_marks

PDF_FILE = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF}
SUBMISSIONS = "/admin/snippets/competition/submission/"

WORDS = {
    "en": {
        "target": "Commitment target",
        "date": "Reporting date",
        "value": "Measured value",
        "save": "Save draft",
        "submit": "Submit for review",
        "confirm": "Yes, submit for review",
        "kept": "Files kept from your last try",
        "last": "40 (reported on March 31, 2025)",
        "submitted": "Submitted: the managers will review it.",
        "read_only": "It is shown here read-only",
        "accept": "Accept",
        "no_more": "No more submissions are waiting for your decision.",
        "earlier": "March 31, 2025: 40",
    },
    "vi": {
        "target": "Chỉ tiêu cam kết",
        "date": "Ngày báo cáo",
        "value": "Giá trị đo được",
        "save": "Lưu bản nháp",
        "submit": "Gửi xét duyệt",
        "confirm": "Đồng ý, gửi xét duyệt",
        "kept": "Tệp giữ lại từ lần gửi trước",
        "last": "40 (báo cáo ngày 31 tháng 3 năm 2025)",
        "submitted": "Đã gửi: cán bộ quản lý sẽ xem xét báo cáo.",
        "read_only": "chế độ chỉ xem",
        "accept": "Chấp nhận",
        "no_more": "Không còn báo cáo nào chờ bạn quyết định.",
        "earlier": ": 40",
    },
}


@pytest.mark.parametrize("language", ["en", "vi"])
def test_an_editor_submits_from_the_form_and_a_manager_decides_in_context(site, world, shots, language):  # noqa: F811
    words = WORDS[language]
    suffix = "" if language == "en" else "-vi"
    for name in ("editor_a", "editor_b", "manager"):
        set_admin_language(world[name], language)
    earlier = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 3, 31), value=Decimal("40"))
    evidence.submit(earlier, world["editor_a"])
    evidence.decide(earlier, world["manager"], "accept")
    found = {}

    editor = site.login(world["editor_a"])
    editor.goto(f"{SUBMISSIONS}add/")
    # Nothing chosen yet: the panel says what it will show.
    facts = editor.locator("[data-line-context]")
    expect(facts.locator("[data-line-context-facts]")).to_be_hidden()
    editor.get_by_role("combobox", name=words["target"]).select_option(label="Agency A · T1 Target T1 (Loop)")
    # The script shows the chosen line's facts at once, in the reader's language.
    expect(facts.locator('[data-fact="last"]')).to_have_text(words["last"])
    expect(facts.locator('[data-fact="target_value"]')).to_have_text("100")
    expect(editor.get_by_role("button", name=words["save"], exact=True)).to_be_visible()
    expect(editor.get_by_role("button", name=words["submit"], exact=True)).to_be_visible()
    record(editor, f"{language}: submission form with the target's facts", found)
    shots(editor, f"editor-form-facts{suffix}")
    # On a phone each fact's name stands above its value (side by side, the values were a narrow
    # ragged column beside the long names).
    editor.set_viewport_size(PHONE)
    # Both boxes measured in one frame: the admin's sidebar slides shut as the viewport narrows, so
    # two measurements a moment apart can see the content at two places.
    name_x, value_x = facts.locator('[data-fact="last"]').evaluate(
        "(dd) => [dd.previousElementSibling.getBoundingClientRect().x, dd.getBoundingClientRect().x]"
    )
    assert abs(value_x - name_x) < 2, "the facts' values are beside their names on a phone"
    editor.set_viewport_size(DESKTOP)

    # Refused (no date): the chosen file is kept, and the facts are still there without a script.
    editor.get_by_role("spinbutton", name=words["value"]).fill("55.5")
    editor.locator("input[type=file][name=new_attachments]").set_input_files(files=[PDF_FILE])
    editor.get_by_role("button", name=words["submit"], exact=True).click()
    kept = editor.get_by_role("checkbox", name="scan.pdf")
    expect(kept).to_be_checked()
    expect(editor.get_by_text(words["kept"]).first).to_be_visible()
    expect(facts.locator('[data-fact="last"]')).to_have_text(words["last"])
    record(editor, f"{language}: refused form keeping the file", found)
    shots(editor, f"editor-form-kept-file{suffix}", focus=kept)
    assert not Submission.objects.filter(line=world["line_a"]).exclude(pk=earlier.pk).exists()

    # Fixed and submitted: a confirmation first, then submitted.
    editor.get_by_role("textbox", name=words["date"]).fill("2025-06-30")
    editor.get_by_role("button", name=words["submit"], exact=True).click()
    expect(editor.get_by_role("button", name=words["confirm"])).to_be_visible()
    submission = Submission.objects.exclude(pk=earlier.pk).get(line=world["line_a"])
    assert submission.status == SubmissionStatus.DRAFT and submission.attachments.count() == 1
    record(editor, f"{language}: confirmation before submitting", found)
    shots(editor, f"editor-submit-confirm{suffix}")
    editor.get_by_role("button", name=words["confirm"]).click()
    if words["submitted"]:
        expect(editor.get_by_role("status").first).to_contain_text(words["submitted"])
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED

    # The edit address of submitted evidence: read-only, with why.
    editor.goto(f"{SUBMISSIONS}edit/{submission.pk}/")
    expect(editor).to_have_url(f"{site.url}{SUBMISSIONS}inspect/{submission.pk}/")
    expect(editor.get_by_text(words["read_only"])).to_be_visible()
    record(editor, f"{language}: submitted evidence, read-only", found)
    shots(editor, f"editor-read-only{suffix}")

    # Another agency's evidence waits too: the manager decides in context, then moves on.
    other = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 6, 30), value=Decimal("70"))
    evidence.submit(other, world["editor_b"])
    manager = site.login(world["manager"])
    manager.goto(f"{SUBMISSIONS}inspect/{submission.pk}/")
    context = manager.locator(".competition-line-context")
    expect(context.locator('[data-fact="baseline"]')).to_have_text("0")
    expect(context).to_contain_text(words["earlier"])
    expect(manager.get_by_role("link", name="scan.pdf")).to_be_visible()
    record(manager, f"{language}: decision screen in context", found)
    shots(manager, f"manager-decision-context{suffix}", focus=context)
    manager.get_by_role("button", name=words["accept"], exact=True).click()
    expect(manager).to_have_url(f"{site.url}{SUBMISSIONS}inspect/{other.pk}/")
    manager.get_by_role("button", name=words["accept"], exact=True).click()
    expect(manager.get_by_text(words["no_more"])).to_be_visible()
    record(manager, f"{language}: no more pending", found)
    shots(manager, f"manager-no-more-pending{suffix}")
    assert set(Submission.objects.values_list("status", flat=True)) == {SubmissionStatus.ACCEPTED}

    # The sidebar's labels, opened (they must not be cut).
    manager.get_by_role("button", name="Competitions" if language == "en" else "Thi đua").click()
    shots(manager, f"admin-sidebar{suffix}")

    assert not found, report(found)


@pytest.fixture
def long_names(db):
    """An agency editor of a department whose targets, like the demo's, have long names in a
    competition with a long title."""
    from competition.domain.roles import EDITORS, ensure_roles
    from competition.models import AgencyMembership
    from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

    groups = ensure_roles()
    competition = make_competition(slug="hcmc-2025", title="Ho Chi Minh City digital government emulation 2025")
    targets = [
        make_target(competition, code="T1", title="Work files processed online"),
        make_target(competition, code="T2", title="Administrative procedures handled fully online"),
    ]
    agency = AgencyFactory(code="HCMC-DOST", name="Department of Science and Technology")
    make_commitment(competition, agency, targets)
    editor = UserFactory(username="editor.dost")
    editor.groups.add(groups[EDITORS])
    AgencyMembership.objects.create(user=editor, agency=agency)
    return editor


# The select's box and the width of the window, in one frame (the admin's sidebar slides shut as
# the viewport narrows).
SELECT_BOX = """(select) => {
    const box = select.getBoundingClientRect();
    return [Math.round(box.left), Math.round(box.right), window.innerWidth];
}"""


def test_the_chosen_target_fits_the_screen_in_the_submission_form(site, long_names, screenshot):
    """An agency editor reports progress from a phone. The Commitment target list was as wide as
    its longest choice ("Department of Science and Technology · T2 Administrative procedures
    handled fully online (Ho Chi Minh City digital government emulation 2025)", 1,451 px in the
    demo): on a 390 px screen it read "Department of Science and Techno" and ended there, without
    its arrow, and the chosen target's box below showed its values, not its name (Wagtail shows
    select fields as inline blocks, which grow with their widest option). The list now keeps to
    the screen and the box names the chosen target."""
    page = site.login(long_names)
    page.set_viewport_size(PHONE)
    page.goto(f"{SUBMISSIONS}add/")
    target = page.get_by_role("combobox", name="Commitment target")
    label = (
        "Department of Science and Technology · T2 Administrative procedures handled fully online"
        " (Ho Chi Minh City digital government emulation 2025)"
    )
    target.select_option(label=label)
    facts = page.locator("[data-line-context]")
    expect(facts.locator('[data-fact="target_value"]')).to_have_text("100")
    screenshot(page, "editor-form-long-target-phone")

    left, right, width = target.evaluate(SELECT_BOX)

    assert left >= 0 and right <= width, f"the list runs from {left} to {right} px on a {width} px screen"
    expect(facts.locator('[data-fact="target"]')).to_have_text(label)


def test_an_editor_reads_the_status_of_each_submission_on_a_phone(site, long_names, screenshot):
    """On a 390 px phone an editor's Submissions list showed the target, the date and half of the
    value; the Status column (Draft, Submitted, Returned, Accepted), Source and Updated lay beyond
    the screen's edge, and nothing scrolled sideways to them (Wagtail's <main> clips what
    overflows): the editor could not tell from the list which reports were returned or
    accepted. The table now scrolls in its own region, which the keyboard reaches too."""
    from competition.models import CommitmentLine

    line = CommitmentLine.objects.get(target__code="T2")
    Submission.objects.create(line=line, reported_on=date(2025, 6, 30), value=40)
    page = site.login(long_names)
    page.set_viewport_size(PHONE)
    page.goto(SUBMISSIONS)
    header = page.get_by_role("columnheader", name="Status")
    expect(header).to_have_count(1)
    status = (
        page.locator("table.listing tbody tr")
        .first.locator("td")
        .nth(header.evaluate("(th) => [...th.parentElement.children].indexOf(th)"))
    )
    expect(status).to_have_text("Draft")
    screenshot(page, "editor-submissions-phone")

    assert status.evaluate(REACHABLE), "the Status column is out of reach on a phone"
