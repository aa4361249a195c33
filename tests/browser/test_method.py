"""How scores are computed, in a real browser: found from the ranking's legend, readable on a
phone (nothing wider than the screen), no axe violation, in English and Vietnamese."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_marks, describe

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_reader_finds_how_scores_are_computed_from_the_ranking(site, public_board, screenshot, language):
    page = site.visitor()
    if language == "vi":
        page.goto("/")
        page.locator("#language-select").select_option("vi")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("html")).to_have_attribute("lang", "vi")
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
