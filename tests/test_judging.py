"""Judging (docs/scoring.md, section 6): while it is open no public response carries a jury
point, whether rendered or kept in the cache; closing publishes them; managers, and only they,
see the board with the jury's points at any time, and close or reopen judging with a
confirmation that the audit log keeps."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from wagtail.models import ModelLogEntry, PageLogEntry

from competition import scoring
from competition.domain import judging, scoreboard
from competition.models import CommitmentLine, CompetitionPage
from tests.factories import (
    AgencyFactory,
    UserFactory,
    make_commitment,
    make_competition,
    make_score,
    make_submission,
    make_target,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 7, 2)


@pytest.fixture
def blind(db):
    """A competition with a cluster and jury scores that no public figure shares: jury points
    7.35, 2.71 and 9.15 on lines whose computed points are 5, 4 and 6 (so with the jury's points
    BA scores 50.30 % and BB 60.75 %; without them both 45 %)."""
    competition = make_competition(slug="blind", title="Blind review")
    t1 = make_target(competition, code="T1", max_points=10)
    t2 = make_target(competition, code="T2", max_points=10)
    parent = AgencyFactory(code="CLUSTER", name="The cluster")
    for code in ("BA", "BB"):
        make_commitment(competition, AgencyFactory(code=code, name=f"Agency {code}", parent=parent), [t1, t2])
    make_commitment(competition, AgencyFactory(code="BC", name="Agency BC"), [t1, t2])
    values = {("BA", "T1"): 50, ("BA", "T2"): 40, ("BB", "T1"): 60, ("BB", "T2"): 30, ("BC", "T1"): 20}
    for (agency, target), value in values.items():
        line = CommitmentLine.objects.get(commitment__agency__code=agency, target__code=target)
        submission = make_submission(line, value, date(2025, 6, 30))
        if (agency, target) == ("BA", "T1"):
            make_score(submission, "juror.one", "7.3")
            make_score(submission, "juror.two", "7.4")
        elif (agency, target) == ("BA", "T2"):
            make_score(submission, "juror.one", "2.71")
        elif (agency, target) == ("BB", "T1"):
            make_score(submission, "juror.two", "9.15")
    return competition


def jury_figures(competition):
    """Every figure of the board with the jury's points that the board without them lacks, as
    the pages, the JSON and the CSV would write it (both languages' decimal marks)."""
    with_jury = scoreboard.load_board(competition, AS_OF, with_jury=True)
    without = scoreboard.load_board(competition, AS_OF, with_jury=False)
    numbers = set()
    for agency in with_jury.agencies:
        public = without.agency(agency.code)
        for line in agency.lines:
            if line.jury_points is not None:
                numbers.add(line.jury_points)
        if agency.total_points != public.total_points:
            numbers.update({agency.total_points, agency.score_percent})
    for group in with_jury.groups:
        numbers.add(group.mean_score_percent)
    public_numbers = {a.total_points for a in without.agencies} | {a.score_percent for a in without.agencies}
    texts = set()
    for number in numbers - public_numbers:
        for places in (2, 4):
            text = f"{number:.{places}f}".rstrip("0").rstrip(".") if places == 4 else f"{number:.2f}"
            texts.update({text, text.replace(".", ",")})
    return {text for text in texts if len(text) >= 4}  # "7.35", "9,15", "53.75"...


def public_urls(competition):
    urls = ["/", "/blind/", "/blind/?as_of=2025-07-02", "/blind/?sort=-score_percent&as_of=2025-07-02"]
    urls += ["/blind/?sort=group_rank&as_of=2025-07-02", "/blind/?page=1&as_of=2025-07-02"]
    for child in competition.get_children().live():
        urls += [child.url, f"{child.url}?as_of=2025-07-02"]
    for name in ("json", "csv", "xlsx"):
        urls += [f"/blind/scoreboard.{name}", f"/blind/scoreboard.{name}?as_of=2025-07-02"]
    # The results report and its PDF, the awards and an agency's record of achievements.
    urls += ["/blind/report/", "/blind/method/", "/blind/report.pdf", "/blind/awards.json", "/agencies/BA/"]
    return urls


def body_text(response):
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        return tablib.Dataset().load(response.content, format="xlsx").export("csv")
    if response["Content-Type"] == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.content.decode()


def crawl(client, competition, languages=("en", "vi")):
    """Every public URL of the competition, in both languages, twice (rendered, then as kept)."""
    bodies = {}
    for language in languages:
        for url in public_urls(competition):
            for attempt in (1, 2):
                response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, url
                bodies[(language, url, attempt)] = body_text(response)
    return bodies


@pytest.fixture
def kept(settings):
    """The public page cache on, as in production."""
    settings.COMPETITION_RESPONSE_CACHE = True


def test_no_public_response_carries_a_jury_point_while_judging_is_open(blind, client, kept):
    figures = jury_figures(blind)
    assert {"7.35", "2.71", "9.15", "9,15", "50.30", "60,75"} <= figures

    bodies = crawl(client, blind)

    leaks = {(key, text) for key, body in bodies.items() for text in figures if text in body}
    assert leaks == set()
    data = client.get("/blind/scoreboard.json?as_of=2025-07-02").json()
    assert data["competition"]["closed"] is False
    for agency in data["agencies"]:
        for line in agency["targets"]:
            assert line["jury_points"] is None
            assert line["awarded_points"] == line["computed_points"]
    rows = csv.DictReader(io.StringIO(client.get("/blind/scoreboard.csv?as_of=2025-07-02").content.decode()))
    assert {(row["jury_points"], row["judging_closed"]) for row in rows} == {("", "no")}


def test_closing_publishes_the_jury_points_at_once(blind, client, kept, django_capture_on_commit_callbacks):
    figures = jury_figures(blind)
    crawl(client, blind, languages=("en",))  # every page kept while open

    with django_capture_on_commit_callbacks(execute=True):
        judging.close_judging(blind, UserFactory(username="boss"))
    bodies = crawl(client, blind, languages=("en",))

    # The detector works: the same figures are there, served from the cache, once judging is closed.
    json_body = bodies[("en", "/blind/scoreboard.json?as_of=2025-07-02", 2)]
    commitment = next(body for (_lang, url, n), body in bodies.items() if "agency-ba/?as_of" in url and n == 2)
    assert "7.35" in json_body and "9.15" in json_body
    assert "7.35" in commitment
    assert {text for text in figures if text in json_body} >= {"7.35", "2.71", "9.15", "60.75"}


def test_reopening_never_serves_a_page_kept_while_closed(blind, client, kept, django_capture_on_commit_callbacks):
    figures = jury_figures(blind)
    with django_capture_on_commit_callbacks(execute=True):
        judging.close_judging(blind, UserFactory(username="boss"))
    closed = crawl(client, blind, languages=("en",))
    assert any("7.35" in body for body in closed.values())

    with django_capture_on_commit_callbacks(execute=True):
        judging.reopen_judging(blind, UserFactory(username="boss"), "A reviewer asked to correct a score")
    bodies = crawl(client, blind)

    assert {(key, text) for key, body in bodies.items() for text in figures if text in body} == set()


def test_public_boards_of_both_states_have_their_own_cache_entries(blind):
    open_board = scoreboard.get_board(blind, AS_OF)
    CompetitionPage.objects.filter(pk=blind.pk).update(closed=True)  # no signal: the cache is not told
    blind.refresh_from_db()

    closed_board = scoreboard.get_board(blind, AS_OF)

    assert (open_board.with_jury, closed_board.with_jury) == (False, True)
    assert closed_board.agency("BA").lines[0].jury_points == Decimal("7.35")


def test_group_rank_on_the_public_board(blind, client):
    data = client.get("/blind/scoreboard.json?as_of=2025-07-02").json()

    ranks = {agency["code"]: (agency["rank"], agency["group_rank"]) for agency in data["agencies"]}
    # Without the jury's points BA and BB score 45 % (9 of 20 points), tied; BC 10 %.
    assert ranks["BC"] == (3, None)
    assert ranks["BA"][1] == ranks["BB"][1] == 1


# The manager's actions.


@pytest.fixture
def manager(blind):
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    user = UserFactory(username="blind.manager")
    group = Group.objects.create(name="Blind managers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group, page=blind, permission=Permission.objects.get(codename=codename)
        )
    user.groups.add(group)
    return user


@pytest.fixture
def other_manager(db):
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    other = make_competition(slug="other")
    user = UserFactory(username="other.manager")
    group = Group.objects.create(name="Other managers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group, page=other, permission=Permission.objects.get(codename="publish_page")
    )
    user.groups.add(group)
    return user


def test_manager_closes_judging_after_a_confirmation(blind, manager, client):
    client.force_login(manager)

    confirm = client.get(f"/admin/competition/{blind.pk}/judging/")
    response = client.post(f"/admin/competition/{blind.pk}/judging/", {"action": "close"})

    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Close judging" in text
    assert "2 submissions still await a decision" not in text  # every submission was accepted
    assert "0 submissions still await a decision." in text
    assert "2 accepted submissions have no jury score" in text
    assert response.status_code == 302
    blind.refresh_from_db()
    assert blind.closed and blind.closed_by == manager and blind.closed_at is not None
    entry = PageLogEntry.objects.get(page=blind, action="competition.judging_close")
    assert entry.user == manager


def test_reopening_needs_a_reason_and_is_audited(blind, manager, client):
    judging.close_judging(blind, manager)
    client.force_login(manager)

    refused = client.post(f"/admin/competition/{blind.pk}/judging/", {"action": "reopen", "reason": "  "})
    blind.refresh_from_db()
    assert refused.status_code == 200 and blind.closed
    accepted = client.post(
        f"/admin/competition/{blind.pk}/judging/",
        {"action": "reopen", "reason": "A score was entered for the wrong line"},
    )

    blind.refresh_from_db()
    assert accepted.status_code == 302 and not blind.closed
    assert (blind.closed_at, blind.closed_by) == (None, None)
    entry = PageLogEntry.objects.get(page=blind, action="competition.judging_reopen")
    assert entry.data["reason"] == "A score was entered for the wrong line"
    assert entry.user == manager


def test_a_stale_confirmation_changes_nothing(blind, manager, client):
    client.force_login(manager)
    judging.close_judging(blind, manager)  # someone closed it after the form was shown

    response = client.post(f"/admin/competition/{blind.pk}/judging/", {"action": "close"})

    assert response.status_code == 200
    assert "Judging was closed meanwhile; nothing was changed." in response.content.decode()
    assert PageLogEntry.objects.filter(page=blind, action="competition.judging_close").count() == 1


def test_closing_twice_or_reopening_an_open_competition_is_refused(blind):
    judging.close_judging(blind)
    with pytest.raises(ValidationError, match="already closed"):
        judging.close_judging(blind)
    judging.reopen_judging(blind, reason="Late score")
    with pytest.raises(ValidationError, match="open already"):
        judging.reopen_judging(blind, reason="Again")


@pytest.mark.parametrize("path", ["judging/", "jury-board/", "jury-board.csv", "jury-board.xlsx"])
def test_only_the_competitions_managers_reach_its_judging_screens(blind, other_manager, client, path):
    editor = UserFactory(username="just.an.editor")
    for user in (other_manager, editor):
        client.force_login(user)
        assert client.get(f"/admin/competition/{blind.pk}/{path}").status_code in (302, 404), user
        assert client.post(f"/admin/competition/{blind.pk}/judging/", {"action": "close"}).status_code in (302, 404)
    client.logout()
    assert client.get(f"/admin/competition/{blind.pk}/{path}").status_code == 302  # to the login
    blind.refresh_from_db()
    assert not blind.closed


def test_the_board_with_the_jury_points_shows_both_boards(blind, manager, client):
    client.force_login(manager)

    response = client.get(f"/admin/competition/{blind.pk}/jury-board/?as_of=2025-07-02")
    download = client.get(f"/admin/competition/{blind.pk}/jury-board.csv?as_of=2025-07-02")

    text = response.content.decode()
    assert response.status_code == 200
    assert "Judging is open" in text and "Published (computed points)" in text
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert {row["jury_points"] for row in rows if (row["agency_code"], row["target_code"]) == ("BA", "T1")} == {"7.35"}
    assert "private" in download["Cache-Control"] and "no-store" in download["Cache-Control"]


def test_the_board_with_the_jury_points_is_linked_from_the_page_menu(blind, manager, client):
    client.force_login(manager)

    explorer = client.get(f"/admin/pages/{blind.pk}/")
    editor = client.get(f"/admin/pages/{blind.pk}/edit/").content.decode()

    assert explorer.status_code == 200
    assert f"/admin/competition/{blind.pk}/jury-board/" in explorer.content.decode()
    assert f"/admin/competition/{blind.pk}/judging/" in editor
    assert "Close judging" in editor


def test_judging_survives_a_revision_published_later(blind, manager):
    draft = blind.save_revision(user=manager)  # a draft made while judging was open
    judging.close_judging(blind, manager)

    draft.publish(user=manager)

    blind.refresh_from_db()
    assert blind.closed and blind.closed_by == manager


def test_a_copy_starts_with_judging_open(blind, manager):
    judging.close_judging(blind, manager)

    copy = blind.copy(update_attrs={"slug": "blind-2026", "title": "Blind 2026"}, keep_live=False)

    assert (copy.closed, copy.closed_at, copy.closed_by) == (False, None, None)


def test_scores_cannot_change_once_judging_is_closed_nor_be_imported(blind, import_file):
    judging.close_judging(blind)

    code, output = import_file(
        "scores",
        "competition,agency,target,reported_on,juror,points\nblind,BA,T1,2025-06-30,juror.one,9\n",
    )

    assert code == 1
    assert "row 1, column competition: The results of “Blind review” are published (judging is closed)" in output
    unchanged = import_file(
        "scores",
        "competition,agency,target,reported_on,juror,points\nblind,BA,T1,2025-06-30,juror.one,7.3\n",
        name="same.csv",
    )
    assert unchanged[0] == 0 and "1 unchanged" in unchanged[1]


def test_the_public_pages_say_whether_results_are_provisional_or_final(blind, client):
    open_page = client.get("/blind/").content.decode()
    judging.close_judging(blind)

    closed_page = client.get("/blind/").content.decode()

    assert "Provisional results." in open_page and "Official results" not in open_page
    assert "Official results, published on" in closed_page and "Provisional results." not in closed_page


def test_no_score_is_read_for_an_open_public_board(blind, django_assert_num_queries):
    with django_assert_num_queries(6) as captured:
        board = scoreboard.load_board(blind, AS_OF)

    assert not any("juryscore" in query["sql"].lower() for query in captured.captured_queries)
    assert isinstance(board, scoring.Board)


def test_log_actions_are_registered_with_readable_labels(blind, manager, client):
    judging.close_judging(blind, manager)
    client.force_login(manager)

    history = client.get(f"/admin/pages/{blind.pk}/history/").content.decode()

    assert "Judging closed" in history
    assert not ModelLogEntry.objects.filter(action__startswith="competition.judging").exists()


def test_adjustments_in_the_admin_have_a_date_inside_the_period(blind, manager, client):
    from django.contrib.auth.models import Permission

    from competition.models import Adjustment, Agency

    manager.groups.get().permissions.add(
        *Permission.objects.filter(codename__in=["add_adjustment", "change_adjustment", "view_adjustment"])
    )
    client.force_login(manager)
    url = "/admin/snippets/competition/adjustment/add/"
    data = {"competition": blind.pk, "agency": Agency.objects.get(code="BA").pk, "points": "2", "reason": "Bonus"}

    refused = client.post(url, {**data, "on": "2026-02-01"})
    created = client.post(url, {**data, "on": "2025-09-01"})
    listing = client.get("/admin/snippets/competition/adjustment/").content.decode()

    assert refused.status_code == 200 and "outside the competition period" in refused.content.decode()
    assert created.status_code == 302
    assert Adjustment.objects.get(reason="Bonus").on == date(2025, 9, 1)
    assert "Counts from" in listing and "Sept. 1, 2025" in listing


def test_the_adjustments_listing_shows_points_with_their_sign_and_no_trailing_zeros(blind, manager, client):
    """The listing printed the stored "2.0000" and "-1.5000"."""
    from bs4 import BeautifulSoup
    from django.contrib.auth.models import Permission
    from wagtail.users.models import UserProfile

    from competition.models import Adjustment, Agency

    manager.groups.get().permissions.add(*Permission.objects.filter(codename="view_adjustment"))
    agency = Agency.objects.get(code="BA")
    for points, reason in (("2", "Bonus"), ("-1.5", "Late")):
        Adjustment.objects.create(competition=blind, agency=agency, points=Decimal(points), reason=reason)
    client.force_login(manager)

    def points_column():
        page = BeautifulSoup(client.get("/admin/snippets/competition/adjustment/").content, "html.parser")
        rows = page.select("table.listing tbody tr")
        return sorted(row.select("td")[2].get_text(strip=True) for row in rows)

    assert points_column() == ["+2", "-1.5"]
    profile = UserProfile.get_for_user(manager)
    profile.preferred_language = "vi"
    profile.save()
    assert points_column() == ["+2", "-1,5"]
