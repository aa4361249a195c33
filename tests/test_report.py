"""The results report (`<competition URL>report/` and `report.pdf`): the agreement, the state of
the results, the ranking overall and in each cluster, the tiers, the targets, the bonuses and
deductions the board counts, the commendation decision, the date and the signature block; in the
reader's language; made for A4 paper; kept for anonymous readers like the other public pages."""

import io
import logging
from datetime import date

import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader
from wagtail.models import PageViewRestriction

from competition.domain import commendations, judging
from competition.models import Adjustment, Agency
from tests.factories import make_competition
from tests.test_results import PDF, boss, contest  # noqa: F401  (six agencies in two clusters, award rules)

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def decided(contest, boss):  # noqa: F811
    """The contest closed (its official result published) and the decision recorded, with one
    award taken off and one added."""
    judging.close_judging(contest, boss)
    e3 = commendations.awards_of(contest).get(agency__code="E3")
    commendations.take_off(e3, boss, "Tied with E2; one letter of praise only")
    commendations.add(contest, boss, "W2", "Giấy khen", "Most improved ward")
    record_decision(contest, boss, issued_by="City People's Committee", signed_by="Nguyễn Văn A")
    contest.refresh_from_db()
    return contest


def record_decision(competition, manager, number="125/QĐ-UBND", issued_by="Committee", signed_by=""):
    """Record the competition's decision of 15 January 2026, with a signed PDF."""
    return commendations.record_decision(
        competition,
        manager,
        number=number,
        issued_on=date(2026, 1, 15),
        issued_by=issued_by,
        signed_by=signed_by,
        upload=SimpleUploadedFile("decision.pdf", PDF, "application/pdf"),
    )


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def section(page, heading_id):
    return page.find(id=heading_id).find_parent("section")


def rows(table):
    return [[cell.get_text(" ", strip=True) for cell in row.select("th, td")] for row in table.select("tbody tr")]


def pdf_text(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_report_of_an_open_competition_shows_the_public_board_of_its_date(worked, client):
    page = soup(client.get("/worked/report/?as_of=2025-07-02"))
    text = page.get_text(" ", strip=True)

    assert page.h1.get_text(strip=True) == "Worked example"
    assert "Provisional results." in text
    ranking = rows(section(page, "report-ranking").table)
    assert ranking == [
        ["1", "Agency A A provisional", "Good", f"86.50{NBSP}%", f"84.50{NBSP}%", f"86.5{NBSP}/ 100"],
        ["2", "Agency B B provisional", "Below target", f"16.00{NBSP}%", f"19.00{NBSP}%", f"16{NBSP}/ 100"],
    ]
    assert section(page, "report-ranking").h2.get_text(strip=True) == "Ranking as of July 2, 2025"
    assert page.find("a", string="Agency A")["href"] == "/worked/agency-a/"
    assert rows(section(page, "report-tiers").table) == [
        ["Excellent", f"90.00{NBSP}%", "0"],
        ["Good", f"75.00{NBSP}%", "1"],
        ["Fair", f"50.00{NBSP}%", "0"],
        ["Below target", f"0.00{NBSP}%", "1"],
    ]
    targets = rows(section(page, "report-targets").table)
    assert [row[0].split(" · ")[0] for row in targets] == [
        "T1 Documents processed digitally Percent",
        "T2 Average processing time Days",
        "T3 Citizen satisfaction Percent",
    ]
    assert targets[0][1:4] == [f"2{NBSP}/ 2", "0", f"62.50{NBSP}%"]
    assert rows(section(page, "report-adjustments").table) == [
        ["Agency A A", "+2", "Initiative bonus", "June 30, 2025"],
        ["Agency B B", "-3", "Late report", "June 30, 2025"],
    ]
    assert page.find(id="report-clusters") is None  # no parents: no clusters
    assert page.find(id="report-commendations") is None  # judging open: no decision
    signature = section(page, "report-signature").get_text(" ", strip=True)
    assert "Report made on" in signature and "For the organiser" in signature and "stamp" in signature
    # On screen only: the PDF of the same date and the date picker.
    assert page.find("a", href="/worked/report.pdf?as_of=2025-07-02")
    assert page.select_one(".report-screen form.as-of-form")


def test_only_the_adjustments_the_board_counts_are_listed(worked, client):
    later = Agency.objects.get(code="A")
    Adjustment.objects.create(competition=worked, agency=later, points=1, reason="December bonus", on=date(2025, 12, 1))

    july = rows(section(soup(client.get("/worked/report/?as_of=2025-07-02")), "report-adjustments").table)
    june = section(soup(client.get("/worked/report/?as_of=2025-06-29")), "report-adjustments")
    december = rows(section(soup(client.get("/worked/report/?as_of=2025-12-31")), "report-adjustments").table)

    assert [row[2] for row in july] == ["Initiative bonus", "Late report"]
    assert june.table is None and "No bonus or deduction points count" in june.get_text()
    assert [row[2] for row in december] == ["Initiative bonus", "December bonus", "Late report"]


def test_report_of_a_closed_competition_is_the_official_result_with_its_decision(decided, client):
    dated = client.get("/contest/report/?as_of=2025-03-01")
    page = soup(client.get("/contest/report/"))

    assert dated.status_code == 302 and dated["Location"] == "/contest/report/"  # no date once closed
    text = page.get_text(" ", strip=True)

    assert "Official results, published on" in text and "Provisional results" not in text
    ranking = section(page, "report-ranking")
    assert ranking.h2.get_text(strip=True) == "Final ranking"
    assert [row[:3] for row in rows(ranking.table)] == [
        ["1", "1", "Agency E1 E1 provisional"],
        ["2", "2", "Agency E2 E2 provisional"],
        ["2", "2", "Agency E3 E3 provisional"],
        ["4", "1", "Agency W1 W1 provisional"],
        ["5", "2", "Agency W2 W2 provisional"],
        ["6", "3", "Agency W3 W3 provisional"],
    ]
    clusters = section(page, "report-clusters")
    assert [h3.get_text(" ", strip=True) for h3 in clusters.select("h3")] == ["East EAST", "West WEST"]
    west = clusters.select("table")[1]
    assert [row[:3] for row in rows(west)] == [
        ["1", "Agency W1 W1", "4"],
        ["2", "Agency W2 W2", "5"],
        ["3", "Agency W3 W3", "6"],
    ]
    awards = section(page, "report-commendations")
    assert "Decision No. 125/QĐ-UBND of Jan. 15, 2026, issued by City People's Committee." in awards.get_text(" ")
    assert "Signed by Nguyễn Văn A." in awards.get_text(" ")
    assert rows(awards.table) == [
        ["Cờ thi đua", "Agency E1 E1", "1", "1", "Excellent"],
        ["Bằng khen", "Agency W1 W1", "4", "1", "Fair"],
        ["Giấy khen", "Agency E2 E2", "2", "2", "Good"],
        ["Giấy khen", "Agency W2 W2", "5", "2", "Fair"],
    ]
    # Once closed, no date to choose: the report is the official result.
    assert not page.select("form.as-of-form")
    assert page.find("a", href="/contest/report.pdf")


def test_a_closed_competition_without_a_decision_says_so(contest, boss, client):  # noqa: F811
    judging.close_judging(contest, boss)

    awards = section(soup(client.get("/contest/report/")), "report-commendations")

    assert "No commendation decision has been recorded yet." in awards.get_text()
    assert awards.table is None


def test_report_follows_the_readers_language(decided, client):
    page = soup(client.get("/contest/report/", HTTP_ACCEPT_LANGUAGE="vi"))
    text = page.get_text(" ", strip=True)

    assert page.html["lang"] == "vi"
    assert "Báo cáo kết quả" in text and "Kết quả chính thức, công bố ngày" in text
    # The site's Vietnamese formats decide whether a date starts with "Ngày" (Django's) or not (the demo's).
    assert "Xếp hạng chung cuộc" in text and "ngày 15 tháng 1 năm 2026" in text.lower()
    first = rows(section(page, "report-ranking").table)[0]
    assert first[4] == f"90,00{NBSP}%"


def test_the_pdf_holds_the_ranking_the_awards_and_the_decision_number(decided, client):
    response = client.get("/contest/report.pdf")
    text, reader = pdf_text(response)

    assert response["Content-Disposition"] == 'attachment; filename="contest-report-2025-12-31.pdf"'
    assert reader.metadata.title == "Results report: Contest 2025"
    page = reader.pages[0].mediabox
    assert (round(float(page.width) / 72 * 25.4), round(float(page.height) / 72 * 25.4)) == (210, 297)  # A4
    lines = text.splitlines()
    ranked = [
        line for line in lines if line.split(" ")[:2] in (["1", "1"], ["2", "2"], ["4", "1"], ["5", "2"], ["6", "3"])
    ]
    assert [line.split(" Agency ")[1].split(" ")[0] for line in ranked[:6]] == ["E1", "E2", "E3", "W1", "W2", "W3"]
    assert "125/QĐ-UBND" in text
    for award in ("Cờ thi đua Agency E1", "Bằng khen Agency W1", "Giấy khen Agency E2", "Giấy khen Agency W2"):
        assert award in text
    assert "Official results, published on" in text and "For the organiser".upper() in text.upper()
    # A number never parts from its unit (a no-break space); the form and the links of the
    # screen are not in it.
    assert f"90.00{NBSP}%" in text
    assert "Download the report" not in text and "Scores as of" not in text


def test_the_pdf_is_in_the_readers_language_with_every_vietnamese_glyph(decided, client):
    text, _reader = pdf_text(client.get("/contest/report.pdf", HTTP_ACCEPT_LANGUAGE="vi"))
    text = " ".join(text.split())  # lines joined: a name may wrap

    for words in ("BÁO CÁO KẾT QUẢ", "Xếp hạng chung cuộc", "Cờ thi đua", "Nguyễn Văn A", "Khen thưởng"):
        assert words in text
    assert "90,00" in text


def test_the_pdf_of_an_open_competition_is_of_the_date_asked_for(worked, client):
    response = client.get("/worked/report.pdf?as_of=2025-07-02")
    text, _reader = pdf_text(response)

    assert response["Content-Disposition"] == 'attachment; filename="worked-report-2025-07-02.pdf"'
    assert "Provisional results." in text and "Ranking as of July 2, 2025" in text
    assert "Initiative bonus" in text and "Late report" in text


def test_report_css_is_read_by_weasyprint_without_a_warning(caplog):
    import weasyprint

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        weasyprint.CSS(filename=finders.find("competition/report.css"))

    assert caplog.records == []


def test_the_pdf_fetches_nothing(decided, client, monkeypatch):
    """Whatever a document would point at (an image, a stylesheet), making the PDF never makes
    the server request a URL: WeasyPrint leaves the resource out."""
    from urllib.request import OpenerDirector

    from competition.domain import report

    fetched = []
    monkeypatch.setattr(OpenerDirector, "open", lambda self, *args, **kwargs: fetched.append(args))
    pointing = '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head>'
    pointing += (
        '<body><p>Report</p><img src="http://127.0.0.1:9/x.png" alt=""><img src="/media/x.png" alt=""></body></html>'
    )
    monkeypatch.setattr(report, "render_to_string", lambda *args, **kwargs: pointing)

    response = client.get("/contest/report.pdf")

    assert "Report" in pdf_text(response)[0]
    assert fetched == []


def test_a_date_outside_the_period_is_written_as_the_day_it_shows(worked, client):
    page = client.get("/worked/report/?as_of=2026-05-01")
    pdf = client.get("/worked/report.pdf?as_of=2026-05-01")

    assert page.status_code == 302 and page["Location"] == "/worked/report/?as_of=2025-12-31"
    assert pdf.status_code == 200  # a file is answered, never redirected


def test_an_invalid_date_is_said_on_the_page_and_refused_for_the_pdf(worked, client):
    page = soup(client.get("/worked/report/?as_of=July"))
    pdf = client.get("/worked/report.pdf?as_of=July")

    assert "The date must be written as YYYY-MM-DD" in page.select_one("#as-of-error").get_text()
    assert pdf.status_code == 400 and pdf["Content-Type"].startswith("text/plain")
    assert "YYYY-MM-DD" in pdf.content.decode()


@pytest.mark.parametrize("url", ["/nowhere/report/", "/nowhere/report.pdf", "/draft/report/", "/draft/report.pdf"])
def test_unknown_and_unpublished_competitions_have_no_report(worked, client, url):
    make_competition(slug="draft", title="Draft", publish=False)

    assert client.get(url).status_code == 404


def test_a_restricted_competition_keeps_its_report_to_those_allowed(worked, client):
    PageViewRestriction.objects.create(page=worked, restriction_type=PageViewRestriction.LOGIN)

    assert client.get("/worked/report.pdf").status_code == 404
    assert client.get("/worked/report/").status_code == 302  # to the login form, as the page itself


def test_the_competition_page_links_the_report_and_its_pdf(worked, client):
    downloads = section(soup(client.get("/worked/?as_of=2025-07-02")), "downloads-heading")

    assert downloads.find("a", href="/worked/report/?as_of=2025-07-02")
    assert downloads.find("a", href="/worked/report.pdf?as_of=2025-07-02")
    assert not downloads.find("a", href="/worked/awards.csv")  # no decision yet


def test_the_competition_page_links_the_awards_once_decided(decided, client):
    downloads = section(soup(client.get("/contest/")), "downloads-heading")

    assert downloads.find("a", href="/contest/report/")
    assert downloads.find("a", href="/contest/report.pdf")
    assert downloads.find("a", href="/contest/awards.csv") and downloads.find("a", href="/contest/awards.json")


# Kept for anonymous readers, and fresh after every change.


@pytest.fixture
def cached(settings):
    from competition import middleware

    settings.COMPETITION_RESPONSE_CACHE = True
    middleware.forget_in_process()
    yield settings
    middleware.forget_in_process()


@pytest.mark.parametrize(
    "url", ["/contest/report/", "/contest/report.pdf", "/contest/awards.json", "/contest/awards.csv", "/contest/"]
)
def test_kept_for_anonymous_readers_and_renewed_when_the_decision_is_recorded(
    contest,  # noqa: F811
    boss,  # noqa: F811
    client,
    cached,
    url,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    """The report, its PDF and the awards are kept like the other public views of a competition.
    A regression test too: recording a decision saves no page, yet every kept view showing the
    commendations must be renewed (competition.signals watches decisions and awards)."""
    with django_capture_on_commit_callbacks(execute=True):
        judging.close_judging(contest, boss)
    client.get(url)
    assert client.get(url)["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get(url)["X-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        record_decision(contest, boss, number="7/QĐ")
    renewed = client.get(url)

    assert renewed["X-Cache"] == "miss"
    body = pdf_text(renewed)[0] if url.endswith(".pdf") else renewed.content.decode()
    assert "7/QĐ" in body
