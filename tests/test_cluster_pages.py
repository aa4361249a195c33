"""Clusters on the public side: the ranking's filter by cluster and search by name or code
without JavaScript, each cluster's page, the tree of clusters on the competition page and in
scoreboard.json, at a fixed number of queries."""

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache

from competition.models import CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db

AS_OF = "2025-07-02"


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def city(db):
    """A city above two clusters: two departments (100 %, 25 %) and three wards (70 %, 90 %, 0 %);
    judging open, so scores are computed points (10 points a target)."""
    competition = make_competition(slug="city")
    targets = [make_target(competition, code="T1"), make_target(competition, code="T2")]
    hcmc = AgencyFactory(code="HCMC", name="Ho Chi Minh City")
    departments = AgencyFactory(code="HCMC-DEPT", name="City departments", parent=hcmc)
    wards = AgencyFactory(code="HCMC-WARD", name="Wards and communes", parent=hcmc)
    values = {
        ("HCMC-DOST", "Department of Science and Technology", departments): ("100", "100"),
        ("HCMC-DNV", "Department of Home Affairs", departments): ("50", None),
        ("26734", "Sài Gòn Ward", wards): ("100", "40"),
        ("26740", "Bến Thành Ward", wards): ("80", "100"),
        ("26743", "Đa Kao Ward", wards): (None, None),
    }
    for (code, name, parent), figures in values.items():
        agency = AgencyFactory(code=code, name=name, parent=parent)
        make_commitment(competition, agency, targets)
        for target, value in zip(targets, figures, strict=True):
            if value is not None:
                make_submission(CommitmentLine.objects.get(commitment__agency=agency, target=target), value)
    return competition


def ranked_codes(page):
    rows = page.select("table.ranking-table tbody tr")
    return [row.select_one(".ranking__name .code").get_text() for row in rows if row.select_one(".ranking__name")]


def test_the_ranking_filters_by_cluster_without_javascript(city, client):
    page = soup(client.get(f"/city/?as_of={AS_OF}&cluster=HCMC-WARD"))

    assert ranked_codes(page) == ["26740", "26734", "26743"]
    # The overall rank stays; the rank in the cluster is beside it.
    rows = page.select("table.ranking-table tbody tr")
    assert [row.select_one("td.ranking__rank").get_text(strip=True) for row in rows] == ["2", "3", "5"]
    form = page.select_one("form.ranking-filter")
    assert form["method"] == "get"
    options = [(option["value"], option.get_text()) for option in form.select("select[name=cluster] option")]
    assert options == [
        ("", "All agencies"),
        ("HCMC", "Ho Chi Minh City (5)"),
        ("HCMC-DEPT", "\u2003City departments (2)"),
        ("HCMC-WARD", "\u2003Wards and communes (3)"),
    ]
    assert form.select_one("option[selected]")["value"] == "HCMC-WARD"
    assert {field["name"]: field["value"] for field in form.select("input[type=hidden]")} == {"as_of": AS_OF}
    status = page.select_one(".ranking-filter__status").get_text(" ", strip=True)
    assert "Showing 3 of 5 agencies" in status
    assert page.select_one(".ranking-filter__status a")["href"] == "/city/clusters/HCMC-WARD/"


def test_a_higher_cluster_shows_every_agency_below_it(city, client):
    page = soup(client.get(f"/city/?as_of={AS_OF}&cluster=HCMC"))

    assert ranked_codes(page) == ["HCMC-DOST", "26740", "26734", "HCMC-DNV", "26743"]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("Sài Gòn", ["26734"]),
        ("sai gon", ["26734"]),  # as readers type: case and diacritics aside
        ("  SÀI   gòn ", ["26734"]),
        ("da kao", ["26743"]),  # đ is d
        ("2674", ["26740", "26743"]),  # by code
        ("hcmc-d", ["HCMC-DOST", "HCMC-DNV"]),
        ("ward", ["26740", "26734", "26743"]),
        ("nowhere", []),
    ],
)
def test_the_ranking_finds_agencies_by_name_or_code(city, client, search, found):
    page = soup(client.get("/city/", {"as_of": AS_OF, "q": search}))

    assert ranked_codes(page) == found
    assert page.select_one("#ranking-search")["value"] == " ".join(search.split())
    if not found:
        assert "No agency matches this search." in page.select_one("table.ranking-table").get_text()


def test_search_and_cluster_together_keep_the_sort_date_and_pages(city, client):
    page = soup(client.get("/city/", {"as_of": AS_OF, "cluster": "HCMC-WARD", "q": "ward", "sort": "-rank"}))

    assert ranked_codes(page) == ["26743", "26734", "26740"]
    # Sorting keeps the filter and the search; the date form keeps them too.
    header = page.select_one("table.ranking-table thead th a")["href"]
    assert "cluster=HCMC-WARD" in header and "q=ward" in header and f"as_of={AS_OF}" in header
    kept = {field["name"]: field["value"] for field in page.select("form.as-of-form input[type=hidden]")}
    assert kept == {"cluster": "HCMC-WARD", "sort": "-rank", "q": "ward"}
    kept = {field["name"]: field["value"] for field in page.select("form.ranking-filter input[type=hidden]")}
    assert kept == {"as_of": AS_OF, "sort": "-rank"}
    assert page.select_one(".ranking-filter__status a:last-child")["href"] == f"?as_of={AS_OF}&sort=-rank"


def test_the_filter_pages_through_its_own_rows(city, client):
    page = soup(client.get("/city/", {"as_of": AS_OF, "cluster": "HCMC-WARD", "per_page": "10"}))

    assert len(ranked_codes(page)) == 3
    assert page.select("nav.table-pages") == []  # three rows: one page


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        # What a GET form sends when nothing is chosen: left out, so that the page can be kept.
        (f"?as_of={AS_OF}&cluster=&q=", f"/city/?as_of={AS_OF}"),
        (f"?cluster=HCMC-WARD&q=+&as_of={AS_OF}", f"/city/?as_of={AS_OF}&cluster=HCMC-WARD"),
        (f"?q=&sort=-rank&as_of={AS_OF}", f"/city/?as_of={AS_OF}&sort=-rank"),
    ],
)
def test_blank_filters_are_left_out_of_the_address(city, client, asked, canonical):
    response = client.get(f"/city/{asked}")

    assert response.status_code == 302
    assert response["Location"] == canonical


def test_an_unknown_cluster_says_so_and_shows_every_agency(city, client):
    page = soup(client.get(f"/city/?as_of={AS_OF}&cluster=NOPE"))

    assert "There is no cluster with the code NOPE" in page.select_one("form.ranking-filter [role=alert]").get_text()
    assert len(ranked_codes(page)) == 5


def test_the_competition_page_shows_the_tree_of_clusters(city, client):
    page = soup(client.get(f"/city/?as_of={AS_OF}"))

    rows = page.select("table.cluster-table tbody tr")
    assert [
        (
            row.th["class"][-1],
            row.th.a["href"],
            [cell.get_text(" ", strip=True) for cell in row.select("td")],
        )
        for row in rows
    ] == [
        ("cluster-level-0", "/city/clusters/HCMC/", ["5", "57.00\xa0%", "57.00\xa0%", "4 / 10"]),
        ("cluster-level-1", "/city/clusters/HCMC-DEPT/", ["2", "62.50\xa0%", "62.50\xa0%", "2 / 4"]),
        ("cluster-level-1", "/city/clusters/HCMC-WARD/", ["3", "53.33\xa0%", "53.33\xa0%", "2 / 6"]),
    ]
    assert "(in Ho Chi Minh City)" in rows[1].th.get_text()


def test_a_cluster_has_its_own_page(city, client):
    page = soup(client.get(f"/city/clusters/HCMC-WARD/?as_of={AS_OF}"))

    assert page.h1.get_text(" ", strip=True) == "Wards and communes HCMC-WARD"
    assert [a["href"] for a in page.select(".breadcrumb a")] == ["/city/", "/city/clusters/HCMC/"]
    figures = {div.dt.get_text(strip=True): div.dd.get_text(" ", strip=True) for div in page.select("dl.figures > div")}
    assert figures == {
        "Agencies": "3",
        "Mean score": "53.33\xa0%",
        "Mean progress": "53.33\xa0%",
        "Commitments achieved": "2 / 6",
    }
    rows = page.select("table.ranking-table tbody tr")
    # Rank in the cluster beside the overall rank.
    assert [
        (row.select_one(".code").get_text(), row.select("td")[0].get_text(strip=True), row.select("td")[2].get_text())
        for row in rows
    ] == [("26740", "2", "1"), ("26734", "3", "2"), ("26743", "5", "3")]
    targets = [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in page.select("section")[-1].select("tbody tr")
    ]
    assert targets == [
        ["T1 Target T1", "1 / 3 agencies", "2 / 3", "60.00\xa0%"],
        ["T2 Target T2", "1 / 3 agencies", "2 / 3", "46.67\xa0%"],
    ]
    assert page.find("a", string="See this cluster in the competition's ranking")["href"] == "/city/?cluster=HCMC-WARD"


def test_a_higher_cluster_page_ranks_every_agency_below_it_and_lists_its_clusters(city, client):
    page = soup(client.get(f"/city/clusters/HCMC/?as_of={AS_OF}"))

    rows = page.select("table.ranking-table tbody tr")
    assert [row.select("td")[2].get_text() for row in rows] == ["1", "2", "3", "4", "5"]
    assert [a["href"] for a in page.select("table.cluster-table th a")] == [
        "/city/clusters/HCMC-DEPT/",
        "/city/clusters/HCMC-WARD/",
    ]
    assert [th["class"][-1] for th in page.select("table.cluster-table tbody th")] == ["cluster-level-0"] * 2


@pytest.mark.parametrize(
    ("path", "heading_id", "heading", "note"),
    [
        (
            "/city/",
            "groups-heading",
            "Clusters",
            "Agencies are ranked within the cluster of their parent agency; higher levels add up every agency "
            "below them.",
        ),
        ("/city/clusters/HCMC/", "sub-clusters-heading", "Clusters in this cluster", None),
    ],
)
def test_the_tree_of_clusters_is_a_section_named_by_its_heading(city, client, path, heading_id, heading, note):
    """The competition page and a cluster's page show their clusters with one include."""
    page = soup(client.get(f"{path}?as_of={AS_OF}"))

    section = page.select_one("table.cluster-table").find_parent("section")
    assert section["aria-labelledby"] == heading_id
    assert section.h2["id"] == heading_id and section.h2.get_text() == heading
    assert [p.get_text() for p in section.select("p.note")] == ([note] if note else [])
    assert section.select_one("div.table-scroll")["aria-label"] == "Table of the clusters"


def test_a_cluster_without_clusters_below_it_has_no_such_section(city, client):
    page = soup(client.get(f"/city/clusters/HCMC-WARD/?as_of={AS_OF}"))

    assert page.select_one("table.cluster-table") is None and page.select_one("#sub-clusters-heading") is None


def test_a_cluster_whose_code_has_dots_has_its_page(client):
    """Agency codes (mã định danh such as 000.00.31.H29) usually have dots, which Wagtail's page
    addresses do not take: the links the site prints, `reverse` and `routablepageurl` all reach
    the cluster's page (issue 22)."""
    from django.test import RequestFactory
    from django.urls import reverse
    from wagtail.contrib.routable_page.templatetags.wagtailroutablepage_tags import routablepageurl

    competition = make_competition(slug="province")
    target = make_target(competition, code="T1")
    province = AgencyFactory(code="000.00.00.H29", name="Province")
    cluster = AgencyFactory(code="000.00.31.H29", name="Districts", parent=province)
    for code, name in (("000.31.01.H29", "District one"), ("000.31.02.H29", "District two")):
        agency = AgencyFactory(code=code, name=name, parent=cluster)
        make_commitment(competition, agency, [target])
        make_submission(CommitmentLine.objects.get(commitment__agency=agency), "50")

    page = soup(client.get(f"/province/?as_of={AS_OF}&cluster=000.00.31.H29"))
    links = [a["href"] for a in page.select("table.cluster-table th a")]
    links.append(page.select_one(".ranking-filter__status a")["href"])
    assert links == [
        "/province/clusters/000.00.00.H29/",
        "/province/clusters/000.00.31.H29/",
        "/province/clusters/000.00.31.H29/",
    ]
    request = RequestFactory().get("/")
    context = {"request": request}
    address = routablepageurl(context, competition, "cluster", code="000.00.31.H29")
    assert address == "/province/clusters/000.00.31.H29/"
    for link in {*links, address}:
        cluster_page = soup(client.get(f"{link}?as_of={AS_OF}"))
        assert cluster_page.h1.get_text(" ", strip=True).endswith(link.split("/")[-2])
    assert [row.select_one(".code").get_text() for row in cluster_page.select("table.ranking-table tbody tr")] == [
        "000.31.01.H29",
        "000.31.02.H29",
    ]
    assert reverse("competition:cluster_page", kwargs={"page_path": "province/", "code": "000.00.31.H29"}) == address
    # Without the trailing slash: sent to the address with it, like every page.
    response = client.get("/province/clusters/000.00.31.H29")
    assert (response.status_code, response["Location"]) == (301, "/province/clusters/000.00.31.H29/")
    assert client.get("/province/clusters/000.00.99.H29/").status_code == 404
    assert client.get("/elsewhere/clusters/000.00.31.H29/").status_code == 404


@pytest.mark.parametrize("code", ["NOPE", "26734", "hcmc-ward"])
def test_an_unknown_cluster_page_is_not_found(city, client, code):
    """A code that is no cluster (an agency without members, a wrong case) is not a page."""
    assert client.get(f"/city/clusters/{code}/").status_code == 404


def test_a_cluster_page_in_vietnamese(city, client):
    page = soup(client.get(f"/city/clusters/HCMC-WARD/?as_of={AS_OF}", headers={"accept-language": "vi"}))

    assert page.select_one("p.kind").get_text() == "Cụm thi đua"


def test_scoreboard_json_holds_every_level_of_clusters(city, client):
    data = client.get(f"/city/scoreboard.json?as_of={AS_OF}").json()

    assert [group["code"] for group in data["groups"]] == ["HCMC-DEPT", "HCMC-WARD"]  # section 8, as they were
    assert set(data["groups"][0]) == {"code", "name", "agencies", "mean_score_percent", "mean_progress_percent"}
    assert data["clusters"] == [
        {
            "code": "HCMC",
            "name": "Ho Chi Minh City",
            "parent_code": None,
            "depth": 2,
            "agencies": 5,
            "mean_score_percent": 57,
            "mean_progress_percent": 57,
            "targets": [
                {"code": "T1", "committed": 5, "reporting": 4, "achieved": 2, "mean_progress": 0.66},
                {"code": "T2", "committed": 5, "reporting": 3, "achieved": 2, "mean_progress": 0.48},
            ],
        },
        {
            "code": "HCMC-DEPT",
            "name": "City departments",
            "parent_code": "HCMC",
            "depth": 1,
            "agencies": 2,
            "mean_score_percent": 62.5,
            "mean_progress_percent": 62.5,
            "targets": [
                {"code": "T1", "committed": 2, "reporting": 2, "achieved": 1, "mean_progress": 0.75},
                {"code": "T2", "committed": 2, "reporting": 1, "achieved": 1, "mean_progress": 0.5},
            ],
        },
        {
            "code": "HCMC-WARD",
            "name": "Wards and communes",
            "parent_code": "HCMC",
            "depth": 1,
            "agencies": 3,
            "mean_score_percent": 53.3333,
            "mean_progress_percent": 53.3333,
            "targets": [
                {"code": "T1", "committed": 3, "reporting": 2, "achieved": 1, "mean_progress": 0.6},
                {"code": "T2", "committed": 3, "reporting": 2, "achieved": 1, "mean_progress": 0.4667},
            ],
        },
    ]


def _grow(competition, targets, wards, count, start):
    """`count` more wards in the cluster `wards`, each with a value for every target."""
    for i in range(start, start + count):
        agency = AgencyFactory(code=f"W{i:04d}", name=f"Ward {i}", parent=wards)
        make_commitment(competition, agency, targets)
        for line in CommitmentLine.objects.filter(commitment__agency=agency):
            make_submission(line, str(40 + i % 50))


@pytest.mark.parametrize(
    "url",
    [
        f"/city/?as_of={AS_OF}",
        f"/city/?as_of={AS_OF}&cluster=HCMC-WARD",
        f"/city/?as_of={AS_OF}&cluster=HCMC&q=ward&sort=-progress_percent",
        f"/city/clusters/HCMC-WARD/?as_of={AS_OF}",
        f"/city/clusters/HCMC/?as_of={AS_OF}",
        f"/city/scoreboard.json?as_of={AS_OF}",
    ],
)
def test_cluster_pages_query_count_does_not_grow(
    city, client, url, django_assert_num_queries, django_assert_max_num_queries
):
    from competition.models import Agency, TargetPage

    targets = list(TargetPage.objects.filter(competition=city).order_by("code"))
    wards = Agency.objects.get(code="HCMC-WARD")
    cache.clear()
    with django_assert_max_num_queries(1000) as small:
        assert client.get(url).status_code == 200
    _grow(city, targets, wards, 12, 0)
    # A new level above the city: one more cluster, and one more step to walk up.
    country = AgencyFactory(code="VN", name="Viet Nam")
    Agency.objects.filter(code="HCMC").update(parent=country)
    cache.clear()

    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
