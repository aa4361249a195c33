"""Review panels and declared conflicts in a real browser: a manager proposes a balanced panel
assignment and accepts it; a reviewer declares a conflict of interest and the line leaves their
queue. The screens pass axe (WCAG 2.2 AA), in English and in Vietnamese, on a desktop and on a
phone (screenshots as artefacts)."""

import re

from playwright.sync_api import expect

from competition.models import DeclaredConflict, ReviewPanel
from tests.browser.conftest import PHONE, REACHABLE, browser_marks, set_admin_language
from tests.browser.test_accessibility import record, report
from tests.test_evidence import world  # noqa: F401  (the people and lines the jury's panel uses)
from tests.test_jury import panel  # noqa: F401  (world plus reviewers and two submitted items)
from tests.test_panels import city, submitted  # noqa: F401  (the same city, clusters and reviewers)

pytestmark = browser_marks


def test_a_manager_accepts_balanced_panels_and_a_reviewer_declares_a_conflict(site, city, shots):  # noqa: F811
    competition = city["competition"]
    ward = submitted(city["lines"]["W1", "T1"])
    submitted(city["lines"]["D2", "T1"])
    found = {}

    manager = site.login(city["manager"])
    manager.goto(f"/admin/competition/{competition.pk}/jury/")
    expect(manager.get_by_role("heading", name="Reviewers' progress")).to_be_visible()
    manager.get_by_role("link", name="Propose a balanced assignment").click()
    manager.get_by_label("Divide the lines").select_option("targets")
    manager.get_by_label("Reviewers per panel").fill("2")
    manager.get_by_role("button", name="Propose", exact=True).click()
    proposed = manager.locator("#proposed-panels tbody tr")
    expect(proposed).to_have_count(2)
    expect(manager.locator("#proposed-loads")).to_contain_text("rev1")
    record(manager, "proposal", found)
    shots(manager, "panels-proposal")
    manager.get_by_role("button", name="Accept and save the panels").click()
    expect(manager.get_by_text("2 review panels were saved")).to_be_visible()
    record(manager, "jury progress", found)
    shots(manager, "panels-jury-progress")
    assert ReviewPanel.objects.filter(competition=competition).count() == 2

    # rev2 sits on the panel of one target; the ward's T1 line is theirs if T1 is.
    seat = next(
        seat
        for seat in city["seats"].values()
        if ReviewPanel.objects.filter(members=seat, targets=city["targets"][0]).exists() and seat.agency_id is None
    )
    reviewer = site.login(seat.user)
    reviewer.goto("/admin/review/")
    expect(reviewer.locator(".jury-progress")).to_contain_text(re.compile(r"0 of \d+ scored"))
    row = reviewer.get_by_role("row").filter(has_text="Ward W1")
    expect(row).to_have_count(1)
    record(reviewer, "queue", found)
    shots(reviewer, "panels-queue")
    # On a phone each filter is under the one before, its label above it: "Order" never runs on
    # after the text of the checkbox before it.
    reviewer.set_viewport_size({"width": 390, "height": 844})
    check, order = reviewer.locator(".review-filters > label").nth(-2), reviewer.locator(".review-filters > label").last
    assert order.bounding_box()["y"] >= check.bounding_box()["y"] + check.bounding_box()["height"]
    assert order.locator("select").bounding_box()["y"] >= order.bounding_box()["y"] + 10  # the label above
    reviewer.set_viewport_size({"width": 1280, "height": 800})
    row.get_by_role("link", name=re.compile("Declare a conflict")).click()
    expect(reviewer.get_by_role("heading", level=1)).to_contain_text("Declare a conflict of interest")
    reviewer.get_by_label("Reason").fill("I audited this ward's accounts last year.")
    record(reviewer, "declaration", found)
    shots(reviewer, "panels-declare-conflict")
    reviewer.get_by_role("button", name="Declare the conflict").click()
    expect(reviewer.get_by_text("its submissions left your queue")).to_be_visible()
    expect(reviewer.get_by_role("row").filter(has_text="Ward W1")).to_have_count(0)
    shots(reviewer, "panels-queue-after-conflict")
    assert DeclaredConflict.objects.get(juror=seat).agency.code == "W1"
    reviewer.goto(f"/admin/review/{ward.pk}/")
    expect(reviewer.get_by_text("You declared a conflict of interest")).to_be_visible()

    manager.goto(f"/admin/competition/{competition.pk}/jury/")
    expect(manager.locator("#conflicts + table")).to_contain_text("I audited this ward's accounts last year.")
    assert not found, report(found)


def test_the_panel_screens_in_vietnamese(site, city, shots):  # noqa: F811
    competition = city["competition"]
    submitted(city["lines"]["W1", "T1"])
    seat = city["seats"]["rev2"]
    for user in (city["manager"], seat.user):
        set_admin_language(user, "vi")
    found = {}

    manager = site.login(city["manager"])
    manager.goto(f"/admin/competition/{competition.pk}/jury/propose/?split=clusters&per_panel=2")
    expect(manager.locator("#proposed-panels tbody tr")).to_have_count(2)
    expect(manager.get_by_role("button", name="Chấp nhận và lưu các tổ chấm")).to_be_visible()
    record(manager, "vi: proposal", found)
    shots(manager, "panels-proposal-vi")
    manager.goto(f"/admin/competition/{competition.pk}/jury/")
    expect(manager.get_by_role("heading", name="Tiến độ của thành viên hội đồng")).to_be_visible()
    record(manager, "vi: jury progress", found)
    shots(manager, "panels-jury-progress-vi")

    reviewer = site.login(seat.user)
    reviewer.goto("/admin/review/")
    expect(reviewer.locator(".jury-progress")).to_contain_text("Đã chấm 0 / 1")
    record(reviewer, "vi: queue", found)
    shots(reviewer, "panels-queue-vi")
    reviewer.get_by_role("link", name=re.compile("Khai báo xung đột")).click()
    record(reviewer, "vi: declaration", found)
    shots(reviewer, "panels-declare-conflict-vi")
    assert not found, report(found)


def test_a_reviewer_reaches_declare_a_conflict_from_the_queue_on_a_phone(site, panel):  # noqa: F811
    """A jury reviewer opens their Review queue on a 390 px phone: the table is about 800 px wide,
    and Status, Submitted and each line's "Declare a conflict" lay past the screen's edge where
    nothing scrolled to them (Wagtail's <main> clips what overflows). The table now scrolls in its
    own region, which the keyboard reaches too."""
    page = site.login(panel["rev_free"])
    page.set_viewport_size(PHONE)
    page.goto("/admin/review/")
    declare = page.get_by_role("link", name="Declare a conflict with Agency A")
    expect(declare).to_have_count(1)

    assert declare.evaluate(REACHABLE), "Declare a conflict is out of reach on a phone"
