"""Clusters in a real browser, with JavaScript off: a reader filters a city's ranking to the
wards' cluster, finds Sài Gòn Ward by search and opens the cluster's page; on a 390 px phone the
ranking's rows are cards (nothing wider than the screen, every figure inside it); no axe
violation, in English and Vietnamese."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_marks, describe, switch_to_vietnamese

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
WARDS = [
    ("26734", "Sài Gòn Ward", "70"),
    ("26740", "Bến Thành Ward", "95"),
    ("26743", "Đa Kao Ward", "60"),
    ("26758", "Tân Định Ward", "85"),
    ("27004", "Bàn Cờ Ward", "40"),
    ("27043", "Xuân Hòa Ward", "100"),
]
DEPARTMENTS = [
    ("HCMC-DOST", "Department of Science and Technology", "90"),
    ("HCMC-DNV", "Department of Home Affairs", "55"),
    ("HCMC-DTC", "Department of Finance", "75"),
]


@pytest.fixture
def city_board(db):
    """A city above its departments' and its wards' clusters, two targets, one value each."""
    from competition.models import CommitmentLine
    from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

    competition = make_competition(slug="hcmc-2025", title="Ho Chi Minh City digital government emulation 2025")
    online = make_target(competition, code="T1", title="Work files processed online", baseline=40, target=100)
    connected = make_target(
        competition, code="T2", title="Connected to the data platform", unit="boolean", baseline=0, target=1
    )
    city = AgencyFactory(code="HCMC", name="Ho Chi Minh City People's Committee")
    clusters = {
        "departments": AgencyFactory(code="HCMC-DEPT", name="City departments", parent=city),
        "wards": AgencyFactory(code="HCMC-WARD", name="Wards, communes and special zone", parent=city),
    }
    for cluster, members in (("departments", DEPARTMENTS), ("wards", WARDS)):
        for code, name, value in members:
            agency = AgencyFactory(code=code, name=name, parent=clusters[cluster])
            make_commitment(competition, agency, [online, connected])
            lines = CommitmentLine.objects.filter(commitment__agency=agency)
            make_submission(lines.get(target=online), value, reported_on=date(2025, 6, 30))
            make_submission(lines.get(target=connected), "1", reported_on=date(2025, 6, 30))
    return competition


WORDS = {
    "en": {"find": "Find", "wards": "Wards, communes and special zone", "cluster": "Cluster"},
    "vi": {"find": "Tìm", "wards": "Wards, communes and special zone", "cluster": "Cụm thi đua"},
}


def in_language(site, language, javascript=True):
    context = site._new_context(base_url=site.url, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    page = context.new_page()
    if language == "vi":
        switch_to_vietnamese(page)
    return page


def check_screen(site, language, url, name, screenshot):
    """No axe violation (in a page with JavaScript, which axe needs), nothing wider than a phone,
    screenshots on a desktop and a phone."""
    page = in_language(site, language)
    page.goto(url)
    violations = axe_violations(page, best_practice=True)
    assert not violations, describe(violations)
    screenshot(page, f"{name}-{language}")
    if page.locator("table.cluster-table").count():
        page.locator("table.cluster-table").scroll_into_view_if_needed()
        screenshot(page, f"{name}-clusters-{language}")
    page.set_viewport_size(PHONE)
    page.reload()  # drawn for the phone from the start, as a phone would
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for cell in page.locator("table.ranking-table td").all():
        box = cell.bounding_box()
        assert box is None or box["x"] + box["width"] <= PHONE["width"], cell.inner_text()
    violations = axe_violations(page, best_practice=True)
    assert not violations, describe(violations)
    page.locator("table.ranking-table").scroll_into_view_if_needed()
    screenshot(page, f"{name}-phone-{language}")
    page.context.close()


@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_reader_finds_their_ward_in_its_cluster_without_javascript(site, city_board, screenshot, language):
    words = WORDS[language]
    page = in_language(site, language, javascript=False)
    page.goto("/hcmc-2025/")
    rows = page.locator("table.ranking-table tbody tr")
    expect(rows).to_have_count(9)
    # No caption describes a chart that is not drawn: the figures are hidden with their captions.
    expect(page.locator("figure.chart figcaption").first).to_be_hidden()

    page.locator("#ranking-cluster").select_option("HCMC-WARD")
    page.get_by_role("button", name=words["find"], exact=True).click()
    expect(rows).to_have_count(6)
    assert "cluster=HCMC-WARD" in page.url
    expect(rows.first).to_contain_text("Xuân Hòa Ward")

    page.locator("#ranking-search").fill("Sài Gòn")
    page.get_by_role("button", name=words["find"], exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sài Gòn Ward")
    expect(rows.first.locator("td").nth(2)).to_have_text("4")  # the 4th of the wards
    expect(page.locator("#ranking-cluster")).to_have_value("HCMC-WARD")
    filtered = page.url

    page.locator(".ranking-filter__status").get_by_role("link", name=words["wards"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(words["wards"])
    expect(page.locator("p.kind")).to_have_text(words["cluster"])
    expect(page.locator("table.ranking-table tbody tr")).to_have_count(6)
    expect(page.locator("dl.figures")).to_contain_text("7 / 12")  # 6 of 6 connected, 1 of 6 at 100 %
    cluster_url = page.url
    page.context.close()

    check_screen(site, language, filtered, "public-ranking-search", screenshot)
    check_screen(site, language, cluster_url, "public-cluster", screenshot)
    check_screen(site, language, f"{site.url}/hcmc-2025/?as_of=2025-07-02", "public-ranking", screenshot)
