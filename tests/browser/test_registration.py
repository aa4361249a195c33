"""Registration (đăng ký thi đua) in a real browser: an agency editor registers a required target,
an own target with its justification and a pledge, and submits; the manager returns it with a
reason; the editor fixes it and submits again; the manager approves; the public commitment page
shows the pledge and the agency's own target. Every registration screen passes axe (WCAG 2.2 AA),
in English and in Vietnamese, on a desktop and on a phone."""

import re

from playwright.sync_api import expect

from competition.domain import evidence
from competition.domain import registration as registrations
from competition.models import CommitmentPage, Registration, RegistrationStatus, Submission
from tests.browser.conftest import browser_marks, set_admin_language
from tests.browser.test_accessibility import record, report
from tests.test_registration import reg, submitted  # noqa: F401  (the same people and targets)

pytestmark = browser_marks

PLEDGE = "Build a database of voters' recommendations by the end of the year."


def target_group(page, code):
    return page.get_by_role("group", name=re.compile(rf"^{code} "))


def test_an_editor_registers_a_manager_returns_then_approves_and_the_public_sees_it(site, reg, shots):  # noqa: F811
    competition, agency = reg["competition"], reg["agencies"]["A"]
    found = {}

    editor = site.login(reg["editor_a"])
    panel = editor.get_by_role("region", name="Your agency's registration")
    expect(panel).to_contain_text("Agency A · Registration 2025")
    record(editor, "editor dashboard", found)
    editor.goto("/admin/registrations/")
    record(editor, "editor's registrations", found)
    editor.get_by_role("link", name="Registration 2025").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Registration of Agency A")

    # The required target is in and cannot be taken out.
    required = target_group(editor, "T1").get_by_role("checkbox", name="Commit to this target")
    expect(required).to_be_checked()
    expect(required).to_be_disabled()
    expect(target_group(editor, "T1")).to_contain_text("Required of every agency")

    # An own target without a justification is refused, and says why.
    t2 = target_group(editor, "T2")
    t2.get_by_role("checkbox", name="Commit to this target").check()
    t2.get_by_role("spinbutton", name="Own target value").fill("1200")
    editor.get_by_role("textbox", name="Pledges").fill(PLEDGE)
    editor.get_by_role("button", name="Save draft").click()
    expect(editor.get_by_role("alert").first).to_contain_text("The registration was not saved")
    expect(target_group(editor, "T2")).to_contain_text("Say why the agency proposes its own baseline or target value.")
    record(editor, "registration form with errors", found)
    assert not Registration.objects.exists()

    t2 = target_group(editor, "T2")
    t2.get_by_role("textbox", name="Justification of the own values").fill("We received 1,100 records online.")
    editor.get_by_role("button", name="Save draft").click()
    expect(editor.get_by_text("Draft saved. Submit it when it is complete.")).to_be_visible()
    record(editor, "registration form (draft)", found)
    shots(editor, "registration-editor-form")
    editor.get_by_role("button", name="Save and submit").click()
    expect(editor.get_by_text("Registration submitted: the managers will review it.")).to_be_visible()
    expect(editor.get_by_text("Status: Submitted")).to_be_visible()
    expect(editor.get_by_role("button", name="Save draft")).to_have_count(0)
    record(editor, "registration submitted (read only)", found)

    # The manager returns it with a reason.
    manager = site.login(reg["manager"])
    expect(manager.get_by_role("region", name="Registrations")).to_contain_text("1 awaits your decision")
    record(manager, "manager dashboard", found)
    manager.goto(f"/admin/competition/{competition.pk}/registrations/")
    expect(manager.get_by_role("row").filter(has_text="Agency A")).to_contain_text("Submitted")
    record(manager, "registrations overview", found)
    shots(manager, "registration-overview")
    manager.get_by_role("link", name="Agency A").click()
    record(manager, "registration to decide", found)
    shots(manager, "registration-decision")
    manager.get_by_role("button", name="Return to the agency").click()
    expect(manager.get_by_text("Give the reason, so that the agency knows what to do.")).to_be_visible()
    manager.get_by_role("textbox", name=re.compile("^Reason")).fill("Give the figure of 2024, not of last year.")
    manager.get_by_role("button", name="Return to the agency").click()
    expect(manager.get_by_text("Registration returned to the agency with your reason.")).to_be_visible()

    # The editor reads the reason, fixes the justification and submits again.
    editor.goto("/admin/")
    expect(editor.get_by_role("region", name="Your agency's registration")).to_contain_text(
        "returned to you: Give the figure of 2024, not of last year."
    )
    editor.get_by_role("region", name="Your agency's registration").get_by_role("link").first.click()
    expect(editor.locator(".registration-status")).to_contain_text("Give the figure of 2024, not of last year.")
    record(editor, "registration returned", found)
    t2 = target_group(editor, "T2")
    expect(t2.get_by_role("spinbutton", name="Own target value")).to_have_value("1200")
    t2.get_by_role("textbox", name="Justification of the own values").fill("In 2024 we received 1,100 records online.")
    editor.get_by_role("button", name="Save and submit").click()
    expect(editor.get_by_text("Registration submitted: the managers will review it.")).to_be_visible()

    # The manager approves: the commitment page is published.
    manager.reload()
    manager.get_by_role("button", name="Approve and publish").click()
    expect(manager.get_by_text("Registration approved: the commitment page is published.")).to_be_visible()
    record(manager, "registration approved (change form)", found)
    registration = Registration.objects.get(competition=competition, agency=agency)
    assert registration.status == RegistrationStatus.APPROVED
    page = CommitmentPage.objects.get(competition=competition, agency=agency)
    assert page.live

    reader = site.visitor()
    reader.goto(page.url)
    pledges = reader.get_by_role("region", name="Pledges")
    expect(pledges).to_contain_text(PLEDGE)
    t2_row = reader.get_by_role("row").filter(has_text="T2 Records")
    expect(t2_row).to_contain_text("from 200 to 1200")
    expect(t2_row).to_contain_text("Own target of the agency (shared: 200 → 1000)")
    record(reader, "public commitment page", found, best_practice=True)
    shots(reader, "registration-public-commitment")

    # Then the editor reports a value with self-assessed points, and a reviewer sees them beside
    # the suggested (computed) points.
    editor.goto("/admin/snippets/competition/submission/add/")
    record(editor, "submission form with self-assessment", found)  # before a date picker opens
    editor.get_by_role("combobox", name="Commitment target").select_option(
        label="Agency A · T2 Records (Registration 2025)"
    )
    editor.get_by_role("textbox", name="Reporting date").fill("2025-06-30")
    editor.get_by_role("spinbutton", name="Measured value").fill("700")
    editor.get_by_role("textbox", name="What was done").fill("Opened the records portal to every ward.")
    editor.get_by_role("spinbutton", name="Own points").fill("6")
    editor.get_by_role("textbox", name="Why these points").fill("Half of the way to our own target of 1200.")
    shots(editor, "registration-self-assessment-form")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_contain_text("saved as a draft.")
    # One submission: the form is saved when the editor says so, never autosaved first.
    submission = Submission.objects.get(line__commitment=page)
    assert (submission.value, submission.self_points) == (700, 6)
    evidence.submit(submission, reg["editor_a"])

    reviewer = site.login(reg["reviewer"])
    reviewer.goto(f"/admin/review/{submission.pk}/")
    # 700 on 200 -> 1200 (the agency's own target): 50 % of 10 points, 5 suggested; 6 proposed.
    expect(reviewer.locator("dd").filter(has_text="Self-assessed points")).to_contain_text(
        "6 / 10 (+1 against the suggested points)"
    )
    expect(reviewer.get_by_text("Half of the way to our own target of 1200.")).to_be_visible()
    # The value is read against the agency's own target, as it is scored.
    expect(reviewer.locator("dd").filter(has_text="700")).to_contain_text("baseline 200, target 1200")
    expect(reviewer.get_by_text("Opened the records portal to every ward.")).to_be_visible()
    record(reviewer, "review with self-assessment", found)
    shots(reviewer, "registration-review-self-assessment")

    assert not found, report(found)


def test_the_registration_screens_in_vietnamese(site, reg, shots):  # noqa: F811
    competition = reg["competition"]
    registration = submitted(reg, "B", T2=("1500", "Theo kế hoạch năm 2025"))
    registrations.decide(registration, reg["manager"], "return", "Bổ sung số liệu năm 2024.")
    for user in (reg["editor_a"], reg["editor_b"], reg["manager"]):
        set_admin_language(user, "vi")
    found = {}

    editor = site.login(reg["editor_a"])
    expect(editor.get_by_role("region", name="Đăng ký thi đua của đơn vị bạn")).to_be_visible()
    editor.goto(f"/admin/registrations/{competition.pk}/{reg['agencies']['A'].pk}/")
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Đăng ký thi đua của Agency A")
    expect(editor.get_by_role("button", name="Lưu bản nháp")).to_be_visible()
    record(editor, "vi: registration form", found)
    shots(editor, "registration-editor-form-vi")

    returned = site.login(reg["editor_b"])
    returned.goto(f"/admin/registrations/{competition.pk}/{reg['agencies']['B'].pk}/")
    expect(returned.locator(".registration-status")).to_contain_text("Bổ sung số liệu năm 2024.")
    record(returned, "vi: registration returned", found)
    shots(returned, "registration-returned-vi")

    manager = site.login(reg["manager"])
    manager.goto(f"/admin/competition/{competition.pk}/registrations/")
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Đăng ký thi đua")
    record(manager, "vi: registrations overview", found)
    shots(manager, "registration-overview-vi")

    assert not found, report(found)
