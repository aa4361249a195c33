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


@pytest.mark.parametrize("language", ["en", "vi"])
def test_an_agencys_targets_read_on_a_phone_without_cut_statuses(site, public_board, screenshot, language):
    """On a 390 px phone the table of an agency's targets was wider than the screen: the status
    badges were cut at its edge ("▼ O") and the dates stood one word a line. Each target is now
    a card with every figure under its column's name."""
    page = site.visitor()
    page.set_viewport_size(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site.url}])
    page.goto("/digital-2025/agency-dost/")
    table = page.locator('section[aria-labelledby="lines-heading"] table')
    expect(table.locator("tbody tr")).to_have_count(2)
    for cell in table.locator("tbody td, tbody th").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], cell.inner_text()
    for badge in table.locator(".status").all():
        box = badge.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"], badge.inner_text()
    status = {"en": "Status", "vi": "Tình trạng"}[language]
    assert table.locator(f'td[data-label="{status}"]').count() == 2
    # Each card reads in even lines (the Vietnamese cards were ragged): the value's date and its
    # source on one line beside it, the status on a line of its own, the points in two columns.
    expected_word = {"en": "expected", "vi": "dự kiến"}[language]
    labels = {
        "en": ("Value", "Computed", "Awarded"),
        "vi": ("Giá trị", "Điểm tính toán", "Điểm đạt"),
    }[language]
    card = table.locator("tbody tr").first
    value, computed, awarded = (card.locator(f'td[data-label="{label}"]') for label in labels)
    date_box = value.locator("small").first.bounding_box()
    source_box = value.locator(".value-source").bounding_box()
    assert abs(date_box["y"] - source_box["y"]) < 2, "the value's date and source are on different lines"
    assert value.bounding_box()["height"] < 2 * date_box["height"] + 4, "the value takes more than a line"
    assert card.locator(f'td[data-label="{status}"]').bounding_box()["width"] > 0.9 * card.bounding_box()["width"]
    assert abs(computed.bounding_box()["x"] - awarded.bounding_box()["x"]) < 2, "the points are not in columns"
    # On a desktop the awarded points ("19.65 / 20 *") and the expected progress stay on one line.
    page.set_viewport_size({"width": 1280, "height": 800})
    lines = (
        "(el) => { const r = document.createRange(); r.selectNodeContents(el);"
        " return new Set([...r.getClientRects()].map((box) => Math.round(box.top))).size; }"
    )
    assert awarded.evaluate(lines) == 1, "the awarded points are broken over two lines"
    assert card.locator("small", has_text=expected_word).evaluate(lines) == 1, "the expected progress is broken"
    page.set_viewport_size(PHONE)
    violations = axe_violations(page, best_practice=True)
    assert not violations, describe(violations)
    table.scroll_into_view_if_needed()
    screenshot(page, f"public-commitment-phone-{language}")
