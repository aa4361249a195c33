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


def ranked_names(page):
    return [
        row.select("td")[1].get_text(" ", strip=True).split(" ")[1]
        for row in page.select("table.board-table")[0].select("tbody tr")
    ]


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        # Tiers in their order, not their labels' ("Below target" < "Good" alphabetically).
        ("tier", "A"),
        ("-tier", "B"),
        # The first click on a column of figures shows the best first.
        ("score_percent", "A"),
        ("-score_percent", "B"),
        ("progress_percent", "A"),
        ("total_points", "A"),
    ],
)
def test_columns_of_figures_sort_best_first(worked, client, sort, first):
    page = soup(client.get(f"/worked/?as_of=2025-07-02&sort={sort}"))

    assert ranked_names(page)[0] == first


def test_changing_the_date_keeps_the_sort_and_says_what_dates_show(worked, client):
    page = soup(client.get("/worked/?as_of=2025-07-02&sort=-tier&per_page=10"))

    form = page.select_one("form.as-of-form")
    kept = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    assert kept == {"sort": "-tier", "per_page": "10"}
    hint = form.select_one("#as-of-hint").get_text(" ", strip=True)
    assert "Jan. 1, 2025" in hint and "Dec. 31, 2025" in hint and "first or the last" in hint
    assert form.select_one("#as-of")["aria-describedby"] == "as-of-hint"


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
    assert first[3:] == ["22.5", "23", "—", "23 / 30"]
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


@pytest.mark.parametrize(
    ("language", "previous", "following", "of"),
    [("en", "Previous page", "Next page", "Page 2 of 3"), ("vi", "Trang trước", "Trang sau", "Trang 2 / 3")],
)
def test_ranking_pages_are_named_in_the_readers_language(client, language, previous, following, of):
    competition = make_competition(slug="many")
    target = make_target(competition, code="T1")
    for number in range(25):
        make_commitment(competition, AgencyFactory(code=f"X{number:02}"), [target])

    page = soup(client.get("/many/?page=2&per_page=10", headers={"accept-language": language}))

    pages = page.select_one("nav.table-pages")
    links = {link.get_text(" ", strip=True): link for link in pages.select("a")}
    assert pages.p.get_text(" ", strip=True) == of
    assert links[previous]["rel"] == ["prev"] and "page=1" in links[previous]["href"]
    assert links[following]["rel"] == ["next"] and "page=3" in links[following]["href"]
    current = pages.select_one("[aria-current=page]")
    assert current.get_text(" ", strip=True).endswith("2")
    assert "previous" not in pages.get_text() and "next" not in pages.get_text()


def test_how_scores_are_computed_is_written_from_the_competitions_settings(worked, client):
    competition_page = soup(client.get("/worked/"))
    link = competition_page.find("a", string="How scores are computed")
    assert link["href"] == "/worked/method/"
    legend = competition_page.select_one(".ranking-legend").get_text(" ", strip=True)
    assert "Excellent: score at least 90.00\u00a0%" in legend and "Below target: score at least 0.00\u00a0%" in legend
    assert "* provisional" in legend

    page = soup(client.get("/worked/method/"))

    text = page.get_text(" ", strip=True)
    assert page.h1.get_text(strip=True) == "How scores are computed"
    tiers = [
        [cell.get_text(strip=True) for cell in row.select("th, td")]
        for row in page.select("#method-tiers ~ table tbody tr")
    ]
    assert tiers == [
        ["Excellent", "90.00\u00a0%"],
        ["Good", "75.00\u00a0%"],
        ["Fair", "50.00\u00a0%"],
        ["Below target", "0.00\u00a0%"],
    ]
    assert "behind the trajectory by less than 10 percentage points" in text
    assert "combined by the mean" in text
    targets = [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in page.select("#method-targets ~ div table tbody tr")
    ]
    assert [row[0].split(" · ")[0] for row in targets] == [
        "T1 Documents processed digitally Percent",
        "T2 Average processing time Days",
        "T3 Citizen satisfaction Percent",
    ]
    assert targets[0][1:] == ["40", "100", "Dec. 31, 2025", "30 (30.00\u00a0%)"]
    assert "Milestones: 80 (June 30, 2025)" in targets[0][0]
    assert targets[1][1:3] == ["10", "5"] and "Lower is better" in targets[1][0]
    statuses = [row.select_one("dt").get_text(" ", strip=True) for row in page.select("dl.legend > div")]
    assert statuses == ["– No data", "✓ Achieved", "✕ Missed", "▲ On track", "! At risk", "▼ Off track"]


def test_how_scores_are_computed_in_vietnamese(worked, client):
    page = soup(client.get("/worked/method/", headers={"accept-language": "vi"}))

    assert page.h1.get_text(strip=True) == "Cách tính điểm"
    assert "90,00\u00a0%" in page.get_text()


def chart_data(page):
    import json

    return json.loads(page.find(id="chart-data").string)


def test_the_ranking_chart_shows_the_agencies_of_the_tables_page(client):
    competition = make_competition(slug="many")
    target = make_target(competition, code="T1")
    for number in range(25):
        make_commitment(competition, AgencyFactory(code=f"X{number:02}", name=f"Agency {number:02}"), [target])

    page = soup(client.get("/many/?page=3&per_page=10"))

    names = [
        row.select("td")[1].get_text(" ", strip=True).split(" X")[0]
        for row in page.select("table.board-table")[0].select("tbody tr")
    ]
    assert chart_data(page)["ranking"]["labels"] == names and len(names) == 5


def test_the_commitment_chart_draws_progress_not_raw_values(worked, client):
    """A count of a thousand records and a percentage share one axis only as progress: T2 (days,
    lower is better, 10 → 5) reported at 7 is 60 % of the way."""
    data = chart_data(soup(client.get("/worked/agency-a/?as_of=2025-07-02")))

    assert data["percent"] is True
    series = {line["label"].split(" ")[0]: line["points"] for line in data["series"]}
    assert series["T2"] == [{"date": "2025-06-30", "value": 60.0}]
    assert all(0 <= point["value"] <= 100 for points in series.values() for point in points)


def test_how_scores_are_computed_of_an_unpublished_competition_is_not_found(db, client):
    make_competition(slug="draft-method", publish=False)

    assert client.get("/draft-method/method/").status_code == 404


@pytest.mark.parametrize("how", ["unpublished", "expired"])
def test_a_competition_taken_off_the_site_takes_its_target_and_commitment_pages_with_it(client, how):
    """Wagtail serves a live page below one that is not: a competition unpublished without its
    child pages (the Unpublish screen's default), or expired, would still show its targets and
    every agency's figures to anyone. Its pages answer 404 with it; a preview in the admin, of a
    competition being prepared, still shows them."""
    from django.core.management import call_command
    from django.urls import reverse
    from django.utils import timezone
    from wagtail.models import Page

    from competition.models import CommitmentPage, TargetPage
    from tests.factories import UserFactory

    competition = make_competition(slug="gone", title="Gone competition")
    target = make_target(competition, code="T1")
    commitment = make_commitment(competition, AgencyFactory(code="A"), [target])
    urls = [TargetPage.objects.get(pk=target.pk).url, CommitmentPage.objects.get(pk=commitment.pk).url]
    assert [client.get(url).status_code for url in urls] == [200, 200]

    if how == "unpublished":
        Page.objects.get(pk=competition.pk).specific.unpublish()
    else:
        Page.objects.filter(pk=competition.pk).update(expire_at=timezone.now())
        call_command("publish_scheduled")

    assert not Page.objects.get(pk=competition.pk).live
    assert Page.objects.get(pk=target.pk).live and Page.objects.get(pk=commitment.pk).live
    assert [client.get(url).status_code for url in [competition.url or "/gone/", *urls]] == [404, 404, 404]
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    preview = client.get(reverse("wagtailadmin_pages:view_draft", args=[target.pk]))
    assert preview.status_code == 200
    assert "Gone competition" in preview.content.decode()


def test_sorting_the_ranking_by_another_column_starts_at_its_first_page(client):
    """On page 2 of the ranking, a column's sort link leads to the first page of the new order
    (page 2 of another order shows other agencies: a reader would miss the first ones); the page
    size, date and cluster stay."""
    from urllib.parse import parse_qs, urlsplit

    competition = make_competition(slug="many")
    target = make_target(competition, code="T1")
    for number in range(25):
        make_commitment(competition, AgencyFactory(code=f"X{number:02}"), [target])

    page = soup(client.get("/many/?as_of=2025-06-30&page=2&per_page=10"))

    header_links = page.select("table.board-table")[0].select("thead th a")
    queries = [parse_qs(urlsplit(link["href"]).query) for link in header_links]
    assert queries and all("page" not in query for query in queries), queries
    assert all(query["per_page"] == ["10"] and query["as_of"] == ["2025-06-30"] for query in queries)
    assert all("sort" in query for query in queries)


def test_the_ranking_sorted_by_name_follows_the_vietnamese_alphabet(client):
    """A reader sorts the ranking by Agency to find their ward: "Bến Thành" comes after "Bình Tây",
    "Đống Đa" after "Xuân Hòa" (the last of the list), "Tân Định" after "Thủ Đức": names are
    ordered by Unicode code point (django-tables2 sorts the rows' `name` as Python strings), so any
    letter with a diacritic sorts after every plain letter and Đ after Z. In the Vietnamese
    alphabet (a ă â b c d đ e ê g h i ...) the order is Bến Thành, Bình Tây, Dĩ An, Đống Đa, Xuân
    Hòa. The demo's ranking and signatories show it too ("Nhà Bè" after "Nhiêu Lộc")."""
    competition = make_competition(slug="wards-2025", title="Wards 2025")
    target = make_target(competition, code="T1")
    for code, name in (
        ("W1", "Xuân Hòa Ward"),
        ("W2", "Đống Đa Ward"),
        ("W3", "Bình Tây Ward"),
        ("W4", "Dĩ An Ward"),
        ("W5", "Bến Thành Ward"),
    ):
        make_commitment(competition, AgencyFactory(code=code, name=name), [target])

    for language in ("vi", "en"):
        response = client.get("/wards-2025/?sort=name", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        table = BeautifulSoup(response.content, "html.parser").select("table.board-table")[0]
        names = [cell.a.get_text(strip=True) for cell in table.select("tbody td.ranking__name")]

        assert names == ["Bến Thành Ward", "Bình Tây Ward", "Dĩ An Ward", "Đống Đa Ward", "Xuân Hòa Ward"], (
            language,
            names,
        )
