"""The admin's import preview in a real browser (issue 20): a file with a refused row shows the
row's number, its cells and, under the cell to correct, the message, and offers no confirmation;
a good file shows every column of every row, dates and numbers as the reader's language writes
them, and offers the confirmation. axe finds nothing; screenshots in English and Vietnamese, on a
desktop and a phone."""

from playwright.sync_api import expect

from competition.domain.roles import MANAGERS, ensure_roles
from tests.browser.conftest import axe_violations, browser_marks, describe, set_admin_language
from tests.factories import UserFactory

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
HEADER = b"competition,agency,target,reported_on,value,note\n"
GOOD = HEADER + b"worked,A,T1,2025-07-31,50.5,From the task management system\nworked,B,T1,2025-07-31,84.25,\n"
BAD = GOOD + b"worked,A,T1,2025-08-31,150,Typed in percent twice\n"


def preview(page, labels, content, name):
    page.goto("/admin/competition-import/")
    page.get_by_label(labels["kind"]).select_option("values")
    page.get_by_label(labels["file"]).set_input_files({"name": name, "mimeType": "text/csv", "buffer": content})
    page.get_by_role("button", name=labels["preview"], exact=True).click()


def shoot(page, screenshot, name):
    page.set_viewport_size(DESKTOP)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, name.replace("admin-", "admin-phone-", 1))
    page.set_viewport_size(DESKTOP)


def test_the_import_preview_of_a_bad_file_and_of_a_good_file(site, worked_committed, screenshot):
    manager = UserFactory(username="boss")
    manager.groups.add(ensure_roles()[MANAGERS])
    page = site.login(manager)
    english = {"kind": "What the file holds", "file": "File (.csv, .xlsx or .json)", "preview": "Preview"}

    preview(page, english, BAD, "values-bad.csv")
    expect(page.get_by_text("1 error: nothing will be imported.")).to_be_visible()
    expect(page.get_by_text("row 3, column value: A percentage must lie between 0 and 100.")).to_be_visible()
    refused = page.locator("table.import-preview tbody tr").nth(2)
    expect(refused.locator("th")).to_have_text("3")
    expect(refused).to_contain_text("refused")
    expect(refused.locator("td").nth(4)).to_have_text("2025-08-31")
    expect(refused.locator("td").nth(5)).to_contain_text("150")
    expect(refused.locator("td").nth(5).locator("strong")).to_have_text("A percentage must lie between 0 and 100.")
    expect(page.get_by_role("button", name="Confirm the import")).to_have_count(0)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.get_by_role("heading", name="Preview of values-bad.csv").scroll_into_view_if_needed()
    shoot(page, screenshot, "admin-import-preview-refused-en")

    preview(page, english, GOOD, "values.csv")
    expect(page.get_by_text("Importing this file will create 2, update 0 and leave 0 unchanged.")).to_be_visible()
    first = page.locator("table.import-preview tbody tr").first
    expect(first.locator("td").nth(4)).to_have_text("July 31, 2025")
    expect(first.locator("td").nth(5)).to_have_text("50.5")
    expect(page.locator("table.import-preview tbody tr").nth(1).locator("td").nth(5)).to_have_text("84.25")
    expect(page.get_by_role("button", name="Confirm the import")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(violations)
    shoot(page, screenshot, "admin-import-preview-en")

    set_admin_language(manager, "vi")
    vietnamese = {"kind": "Nội dung của tệp", "file": "Tệp (.csv, .xlsx hoặc .json)", "preview": "Xem trước"}
    preview(page, vietnamese, GOOD, "values.csv")
    first = page.locator("table.import-preview tbody tr").first
    expect(first.locator("td").nth(4)).to_have_text("31 tháng 7 năm 2025")
    expect(first.locator("td").nth(5)).to_have_text("50,5")
    expect(page.locator("table.import-preview tbody tr").nth(1).locator("td").nth(5)).to_have_text("84,25")
    expect(page.get_by_role("button", name="Xác nhận nhập dữ liệu")).to_be_visible()
    shoot(page, screenshot, "admin-import-preview-vi")

    preview(page, vietnamese, BAD, "values-bad.csv")
    refused = page.locator("table.import-preview tbody tr").nth(2)
    expect(refused.locator("td").nth(5).locator("strong")).to_have_text(
        "Tỷ lệ phần trăm phải nằm trong khoảng từ 0 đến 100."
    )
    expect(page.get_by_text("dòng 3, cột value: Tỷ lệ phần trăm phải nằm trong khoảng từ 0 đến 100.")).to_be_visible()
    expect(page.get_by_role("button", name="Xác nhận nhập dữ liệu")).to_have_count(0)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    shoot(page, screenshot, "admin-import-preview-refused-vi")
