"""The public pages render the agreement and the board, readable without JavaScript."""

import pytest
from bs4 import BeautifulSoup

from tests.factories import AgencyFactory, make_commitment, make_competition, make_target

pytestmark = pytest.mark.django_db


def soup(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


@pytest.mark.demo
def test_home_lists_published_competitions(worked, client):
    make_competition(slug="hidden", title="Hidden draft", publish=False)

    page = soup(client.get("/"))

    links = [a.get_text() for a in page.select(".competition-list h3 a")]
    assert links == ["Worked example"]


def test_competition_page_shows_ranking_targets_and_downloads(worked_closed, client):
    page = soup(client.get("/worked/?as_of=2025-07-02"))

    assert page.h1.get_text(strip=True) == "Worked example"
    rows = page.select("table.board-table")[0].select("tbody tr")
    first = [cell.get_text(" ", strip=True) for cell in rows[0].select("td")]
    assert first[0] == "1" and "Agency A" in first[1] and "provisional" in first[1]
    assert first[2] == "Good" and first[3] == "86.00\u00a0%" and "84.50\u00a0%" in first[4]
    assert page.find("a", href="/worked/scoreboard.csv?as_of=2025-07-02")
    assert page.find("a", href="/worked/target-t1/")
    assert page.find(id="chart-data") is not None
    # Status is written out, never colour alone.
    assert "On track: 1 ▼ Off track: 1" in page.get_text(" ", strip=True)
    assert "Results with the jury's points." in page.get_text(" ", strip=True)  # 2 July, not the end


def test_competition_page_while_judging_is_open_shows_computed_points(worked, client):
    page = soup(client.get("/worked/?as_of=2025-07-02"))

    rows = page.select("table.board-table")[0].select("tbody tr")
    first = [cell.get_text(" ", strip=True) for cell in rows[0].select("td")]
    second = [cell.get_text(" ", strip=True) for cell in rows[1].select("td")]
    assert (first[3], second[3]) == ("86.50\u00a0%", "16.00\u00a0%")  # a no-break space: never broken
    text = page.get_text(" ", strip=True)
    assert "Provisional results." in text and "published when judging closes" in text


def test_ranking_table_sorts_without_javascript(worked, client):
    page = soup(client.get("/worked/?as_of=2025-07-02&sort=-rank"))

    names = [
        row.select("td")[1].get_text(" ", strip=True) for row in page.select("table.board-table")[0].select("tbody tr")
    ]
    assert names[0].startswith("Agency B")
    header = page.select("table.board-table th[aria-sort]")
    assert header and header[0]["aria-sort"] == "descending"


def test_invalid_as_of_on_a_page_says_so_and_shows_today(worked, client):
    page = soup(client.get("/worked/?as_of=not-a-date"))

    alert = page.find(attrs={"role": "alert"})
    assert alert is not None and "YYYY-MM-DD" in alert.get_text()


def test_target_page_shows_definition_trajectory_and_agencies(worked, client):
    page = soup(client.get("/worked/target-t1/?as_of=2025-07-02"))

    text = page.get_text(" ", strip=True)
    assert "T1 Documents processed digitally" in page.h1.get_text(" ", strip=True)
    assert "80 (milestone)" in text
    assert "On track" in text and "Off track" in text
    assert page.find("a", href="/worked/agency-a/")


def test_commitment_page_shows_lines_points_and_adjustments(worked_closed, client):
    page = soup(client.get("/worked/agency-a/?as_of=2025-07-02"))

    text = page.get_text(" ", strip=True)
    rows = page.select("table.board-table tbody tr")
    assert len(rows) == 3
    first = [cell.get_text(" ", strip=True) for cell in rows[0].select("td")]
    assert first[0].startswith("85") and "On track" in first[2]
    # Computed, jury, the agency's own points (public once judging is closed; none proposed), awarded.
    assert first[3:] == ["22.50", "23", "—", "23 / 30"]
    assert "+2: Initiative bonus (from June 30, 2025)" in text
    assert "Accepted evidence" in text


def test_commitment_page_lists_only_the_adjustments_of_its_date(worked, client):
    before = soup(client.get("/worked/agency-a/?as_of=2025-06-29")).get_text(" ", strip=True)
    after = soup(client.get("/worked/agency-a/?as_of=2025-06-30")).get_text(" ", strip=True)

    assert "Initiative bonus" not in before
    assert "Initiative bonus" in after


def test_unpublished_pages_are_not_served(db, client):
    competition = make_competition(slug="open")
    target = make_target(competition)
    make_commitment(competition, AgencyFactory(code="HID"), [target], publish=False)

    assert client.get("/open/agency-hid/").status_code == 404
    assert client.get("/open/").status_code == 200


@pytest.mark.parametrize("url", ["/worked/", "/worked/target-t2/", "/worked/agency-b/"])
def test_pages_render_in_vietnamese(worked, client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 200
    assert soup(response).html["lang"] == "vi"


@pytest.mark.demo
def test_home_shows_headline_progress(worked, client):
    page = soup(client.get("/"))

    card = page.select_one(".competition-list .card")
    text = card.get_text(" ", strip=True)
    assert "Agencies 2" in text and "ended" in text and "Mean progress" in text
