"""How scores are computed, in a real browser: found from the ranking's legend, readable on a
phone (nothing wider than the screen), no axe violation, in English and Vietnamese."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_marks, describe, switch_to_vietnamese

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_reader_finds_how_scores_are_computed_from_the_ranking(site, public_board, screenshot, language):
    page = site.visitor()
    if language == "vi":
        switch_to_vietnamese(page)
    title = {"en": "How scores are computed", "vi": "Cách tính điểm"}[language]

    page.goto("/digital-2025/")
    legend = page.locator(".ranking-legend")
    expect(legend).to_contain_text("90")
    screenshot(page, f"public-ranking-legend-{language}")
    legend.get_by_role("link", name=title).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("dl.legend > div")).to_have_count(6)
    expect(page.get_by_role("row").filter(has_text="T2")).to_contain_text("20")
    violations = axe_violations(page, best_practice=True)
    assert not violations, describe(violations)
    screenshot(page, f"public-method-{language}")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"public-method-phone-{language}")


@pytest.mark.parametrize("language", ["en", "vi"])
def test_public_pages_fit_a_phone(site, public_board, screenshot, language):
    """Nothing wider than a 390 px phone: wide tables scroll inside their own region, long phase
    names wrap inside their card."""
    page = site.visitor()
    if language == "vi":
        switch_to_vietnamese(page)
    page.set_viewport_size(PHONE)
    too_wide = {}
    for url in ("/digital-2025/", "/digital-2025/target-t1/", "/digital-2025/agency-dost/", "/digital-2025/method/"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = width
        card = page.locator(".figure--words dd")
        if card.count():
            assert card.evaluate("(dd) => dd.scrollWidth <= dd.clientWidth"), f"{url}: the phase overflows its card"
    page.goto("/digital-2025/")
    screenshot(page, f"public-competition-phone-{language}")
    assert not too_wide, too_wide
