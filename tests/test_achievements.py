"""An agency's record of achievements (`/agencies/<code>/`): across every competition it took part
in, newest first, its final rank, rank in cluster, tier and awards, or its provisional rank while
the results are not published; linked from its commitment pages; giving way to the site's own
pages; a number of queries that does not grow with the number of competitions."""

from datetime import date

import pytest
from bs4 import BeautifulSoup
from django.utils.formats import date_format
from wagtail.models import PageViewRestriction

from competition.domain import commendations, judging
from competition.domain.scoreboard import resolve_as_of
from competition.models import CommitmentLine, CommitmentPage
from tests.factories import (
    AgencyFactory,
    UserFactory,
    make_commitment,
    make_competition,
    make_submission,
    make_target,
    site_root,
)
from tests.test_report import cached, decided, record_decision  # noqa: F401  (the contest, closed and decided; the page cache on)
from tests.test_results import PDF, boss, contest  # noqa: F401

pytestmark = pytest.mark.django_db


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def entries(page):
    return page.select("ol.record > li")


def competition_with(slug, year, agencies, values=(), closed_by=None):
    """A competition of `year` on one target (0 -> 100, 10 points) that these agencies commit to,
    with their values reported on 30 June; closed (published) by `closed_by` if given."""
    competition = make_competition(
        slug=slug, title=f"Competition {slug}", start=date(year, 1, 1), end=date(year, 12, 31)
    )
    target = make_target(competition, code="T1", max_points=10)
    for agency in agencies:
        make_commitment(competition, agency, [target])
    for agency, value in zip(agencies, values, strict=False):
        line = CommitmentLine.objects.get(commitment__competition=competition, commitment__agency=agency)
        make_submission(line, value, date(year, 6, 30))
    if closed_by is not None:
        judging.close_judging(competition, closed_by)
        competition.refresh_from_db()
    return competition


@pytest.fixture
def years(decided):  # noqa: F811
    """W1 in the decided 2025 contest, and in a 2026 competition still being judged."""
    w1, w2 = AgencyFactory(code="W1"), AgencyFactory(code="W2")
    return decided, competition_with("next", 2026, [w2, w1], values=[40, 80])


def test_the_record_lists_every_competition_newest_first(years, client):
    _contest, following = years
    page = soup(client.get("/agencies/W1/"))

    assert page.h1.get_text(" ", strip=True) == "Agency W1 W1"
    assert "Cluster: West" in page.get_text(" ", strip=True)
    titles = [entry.h2.get_text(strip=True) for entry in entries(page)]
    assert titles == ["Competition next", "Contest 2025"]
    latest, earlier = entries(page)

    # Not published yet: the provisional rank of today's board.
    day = resolve_as_of(following)
    text = latest.get_text(" ", strip=True)
    assert "Results not published yet." in text
    assert f"Provisional rank 1, as of {date_format(day)}." in text
    assert figures(latest) == {
        "Provisional rank": "1",
        "Rank in cluster": "1",
        "Tier": "Good",
        "Score": "80.00\u00a0% (provisional)",
    }
    assert latest.find("a", href="/next/agency-w1/")
    assert latest.find("h3") is None  # no awards before the results

    # Published: the final standing and the awards of the decision.
    text = earlier.get_text(" ", strip=True)
    assert "Official results, published on" in text
    assert figures(earlier) == {
        "Final rank": "4",
        "Rank in cluster": "1",
        "Tier": "Fair",
        "Score": "70.00\u00a0% (provisional)",
    }
    assert [li.get_text(" ", strip=True) for li in earlier.select(".awards li")] == [
        "Bằng khen (Decision No. 125/QĐ-UBND of Jan. 15, 2026)"
    ]
    assert earlier.find("a", href="/contest/agency-w1/") and earlier.find("a", href="/contest/")


def figures(entry):
    return {div.dt.get_text(strip=True): div.dd.get_text(" ", strip=True) for div in entry.select("dl.figures > div")}


def test_an_agency_without_an_award_and_a_competition_without_a_decision(decided, boss, client):  # noqa: F811
    e3 = AgencyFactory(code="E3")
    competition_with("undecided", 2024, [e3], values=[90], closed_by=boss)

    page = soup(client.get("/agencies/E3/"))
    decided_entry, undecided_entry = entries(page)

    assert "No award for this agency." in decided_entry.get_text()  # taken off the proposal
    assert "No commendation decision has been recorded yet." in undecided_entry.get_text()
    assert figures(undecided_entry)["Final rank"] == "1"


def test_only_public_commitments_of_public_competitions_count(decided, client):  # noqa: F811
    w1 = AgencyFactory(code="W1")
    draft = make_competition(slug="draft", title="Draft competition", publish=False)
    make_commitment(draft, w1, [make_target(draft, code="T1")])
    restricted = competition_with("restricted", 2026, [w1], values=[10])
    PageViewRestriction.objects.create(page=restricted, restriction_type=PageViewRestriction.LOGIN)
    withdrawn = competition_with("withdrawn", 2027, [w1], values=[10])
    CommitmentPage.objects.get(competition=withdrawn).unpublish()

    titles = [entry.h2.get_text(strip=True) for entry in entries(soup(client.get("/agencies/W1/")))]

    assert titles == ["Contest 2025"]


def test_unknown_agencies_and_agencies_without_a_public_record_are_not_found(decided, client):  # noqa: F811
    hidden = AgencyFactory(code="HIDDEN")
    draft = make_competition(slug="draft", title="Draft", publish=False)
    make_commitment(draft, hidden, [make_target(draft, code="T1")])

    assert client.get("/agencies/NOBODY/").status_code == 404
    assert client.get("/agencies/HIDDEN/").status_code == 404
    assert client.post("/agencies/W1/").status_code == 405


def test_the_commitment_page_links_the_record(decided, client):  # noqa: F811
    page = soup(client.get("/contest/agency-w1/"))

    link = page.find("a", href="/agencies/W1/")
    assert link and "Record of achievements of Agency W1" in link.get_text()


@pytest.mark.demo  # a page model of the demo site's
def test_the_sites_own_pages_under_the_same_address_are_served_first(decided, client):  # noqa: F811
    from home.models import HomePage

    agencies = site_root().add_child(instance=HomePage(title="Our agencies", slug="agencies"))
    agencies.add_child(instance=HomePage(title="About the agencies", slug="about"))
    agencies.add_child(instance=HomePage(title="A page named like an agency", slug="W2"))

    about = soup(client.get("/agencies/about/"))
    shadowed = soup(client.get("/agencies/W2/"))
    index = soup(client.get("/agencies/"))
    record = soup(client.get("/agencies/W1/"))

    assert "About the agencies" in about.title.get_text()
    assert "A page named like an agency" in shadowed.title.get_text()
    assert "Our agencies" in index.title.get_text()
    assert record.h1.get_text(" ", strip=True) == "Agency W1 W1"
    assert client.post("/agencies/about/").status_code == 200  # the page's own methods


def test_the_record_follows_the_readers_language(years, client):
    page = soup(client.get("/agencies/W1/", HTTP_ACCEPT_LANGUAGE="vi"))
    text = page.get_text(" ", strip=True)

    assert page.html["lang"] == "vi"
    assert "Hồ sơ thành tích" in text and "Chưa công bố kết quả." in text
    assert "Kết quả chính thức, công bố ngày" in text and "70,00\u00a0%" in text


def test_the_record_is_never_kept_in_the_page_cache(years, client, cached):  # noqa: F811
    for _attempt in range(3):
        response = client.get("/agencies/W1/")
        assert response.status_code == 200 and "X-Cache" not in response


def add_competitions(agency, manager, first_year, count):
    """`count` more competitions of the agency, half closed with a decision, half still open."""
    for offset in range(count):
        year = first_year + offset
        rival = AgencyFactory(code=f"R{year}")
        closed = offset % 2 == 0
        competition = competition_with(f"c{year}", year, [agency, rival], values=[60, 50])
        if closed:
            judging.close_judging(competition, manager)
            commendations.add(competition, manager, agency.code, "Giấy khen", "Best of the year")
            record_decision(competition, manager, number=f"{year}/QĐ")


def test_queries_do_not_grow_with_the_number_of_competitions(decided, client, django_assert_max_num_queries):  # noqa: F811
    w1 = AgencyFactory(code="W1")
    admin = UserFactory(username="admin", is_superuser=True)
    add_competitions(w1, admin, 2030, 2)
    client.get("/agencies/W1/")  # the boards of today of open competitions are kept from now on
    with django_assert_max_num_queries(20) as small:
        assert len(entries(soup(client.get("/agencies/W1/")))) == 3
    # Counted now: the next request empties the connection's log of queries.
    counted = len(small.captured_queries)

    add_competitions(w1, admin, 2040, 6)
    client.get("/agencies/W1/")
    with django_assert_max_num_queries(counted) as large:
        page = soup(client.get("/agencies/W1/"))

    assert len(entries(page)) == 9
    assert len(large.captured_queries) == counted
    awards = [li.get_text(" ", strip=True) for li in page.select(".awards li")]
    assert len(awards) == 5 and all("Decision No." in award for award in awards)  # 4 closed of 8, and the contest
