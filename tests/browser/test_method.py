"""How scores are computed, in a real browser: found from the ranking's legend, readable on a
phone (nothing wider than the screen), no axe violation, in English and Vietnamese."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, axe_violations, browser_marks, describe, switch_to_vietnamese

pytestmark = browser_marks


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


@pytest.fixture
def departments(db):
    """A published competition whose agencies carry the demo's department names and codes, each
    with an accepted value and no jury score yet (so each row is marked provisional)."""
    from competition.models import CommitmentLine
    from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

    competition = make_competition(slug="hcmc-2025", title="Digital government emulation 2025")
    target = make_target(competition, code="T1", title="Work files processed online")
    for code, name, value in (
        ("HCMC-DTP", "Department of Justice", "93"),
        ("HCMC-DTC", "Department of Finance", "91"),
        ("HCMC-DOST", "Department of Science and Technology", "97"),
    ):
        make_commitment(competition, AgencyFactory(code=code, name=name), [target])
        line = CommitmentLine.objects.get(commitment__agency__code=code, target=target)
        make_submission(line, value, reported_on=date(2025, 6, 30))
    return competition


# The number of lines a box's text takes (its client rectangles' distinct tops).
LINES = "(el) => new Set([...el.getClientRects()].map((box) => Math.round(box.top))).size"


def test_the_provisional_mark_is_never_broken_over_two_lines_on_a_phone(site, departments, screenshot):
    """On a 390 px phone each ranking row is a card; after a department's name and code comes the
    dashed "tạm tính" (provisional) mark, which broke inside its dashed box for "Department of
    Justice HCMC-DTP": "tạm" at the end of one line, "tính" on the next, each half in a broken
    frame. Like the status badges, the mark now keeps to one line. (In English, "provisional"
    happens to fall whole onto the next line with these names.)"""
    page = site.visitor()
    page.set_viewport_size(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "vi", "url": site.url}])
    page.goto("/hcmc-2025/")
    marks = page.locator(".ranking-table tbody .provisional")
    expect(marks).to_have_count(3)
    marks.first.scroll_into_view_if_needed()
    screenshot(page, "public-provisional-mark-phone-vi")

    broken = {
        mark.evaluate("(el) => el.closest('td').querySelector('a').textContent"): mark.inner_text()
        for mark in marks.all()
        if mark.evaluate(LINES) > 1
    }

    assert not broken, broken


# Each name of the ranking chart that is not drawn whole: a label whose lines, put together, are
# not the agency's name (shortened or cut), or a line wider than the room its axis leaves it
# ([line, its width, the axis's width], in the tick font as Chart.js draws it).
CUT_LABELS = """() => {
    const chart = Chart.getChart("ranking-chart");
    const axis = chart.scales.y;
    const context = chart.ctx;
    context.save();
    context.font = Chart.helpers.toFont(axis.options.ticks.font).string;
    const cut = [];
    chart.data.labels.forEach((name, index) => {
        const lines = [].concat(axis.ticks[index].label);
        if (lines.join(" ") !== name) {
            cut.push([name, lines]);
        }
        lines.forEach((line) => {
            const width = Math.ceil(context.measureText(line).width);
            if (width > axis.width) {
                cut.push([line, width, Math.floor(axis.width)]);
            }
        });
    });
    context.restore();
    return cut;
}"""


def test_the_ranking_charts_agency_names_are_not_cut_on_a_phone(site, departments, screenshot):
    """On a 390 px phone the ranking's bar chart gave its axis of names less room than a
    department's name takes, and Chart.js drew the names from the canvas's left edge outwards:
    the reader saw "ent of Science and Technology" (so in the demo, with longer names still).
    Each name now wraps between words onto as many lines as it needs."""
    page = site.visitor()
    page.set_viewport_size(PHONE)
    page.goto("/hcmc-2025/")
    chart = page.locator("figure.chart.chart--ready[data-chart=ranking]")
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()
    screenshot(page, "public-ranking-chart-phone")

    assert page.evaluate("() => Chart.getChart('ranking-chart').data.labels.length") == 3
    assert page.evaluate(CUT_LABELS) == []
