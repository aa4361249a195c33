"""Jury review: the queue per reviewer, blind scoring, conflicts of interest, audited changes,
spread and offsets for managers."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from competition.domain import evidence, jury
from competition.domain.roles import REVIEWERS, ensure_roles
from competition.models import CompetitionLogEntry, Juror, JuryScore, Submission
from tests.factories import UserFactory
from tests.test_evidence import world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(world):  # noqa: F811
    groups = ensure_roles()
    competition = world["competition"]
    reviewers = {}
    for name, agency in (("rev_a", world["line_a"].commitment.agency), ("rev_free", None), ("rev_two", None)):
        reviewers[name] = UserFactory(username=name)
        reviewers[name].groups.add(groups[REVIEWERS])
        Juror.objects.create(competition=competition, user=reviewers[name], agency=agency)
    subs = {}
    for key, line, editor in (("a", world["line_a"], "editor_a"), ("b", world["line_b"], "editor_b")):
        submission = Submission.objects.create(line=line, reported_on=date(2025, 6, 30), value=50)
        evidence.submit(submission, world[editor])
        subs[key] = submission
    draft = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 7, 31), value=60)
    return world | reviewers | {"subs": subs, "draft": draft}


def review_url(submission):
    return reverse("competition_review", args=[submission.pk])


def test_queue_per_reviewer(panel):
    a, b = panel["subs"]["a"], panel["subs"]["b"]

    assert list(jury.queue_for(panel["rev_a"])) == [b]  # never their own agency
    assert list(jury.queue_for(panel["rev_free"])) == [a, b]  # oldest first; drafts never
    assert list(jury.queue_for(panel["manager"])) == [a, b]
    assert list(jury.queue_for(panel["editor_a"])) == []
    jury.record_score(b, panel["rev_free"], Decimal(7))
    assert list(jury.queue_for(panel["rev_free"])) == [a]  # scored items leave the queue
    assert list(jury.queue_for(panel["rev_free"], agency="B")) == []


def test_conflict_of_interest_refused_on_every_path(client, panel):
    a = panel["subs"]["a"]
    Submission.objects.filter(pk=a.pk).update(narrative="Counted by hand in ward 7")
    client.force_login(panel["rev_a"])

    for response in (client.get(review_url(a)), client.post(review_url(a), {"points": "5"})):
        # Told why, in words; nothing of the submission is shown.
        assert response.status_code == 403
        content = response.content.decode()
        assert "Conflict of interest" in content and "affiliated with Agency A" in content
        assert "Counted by hand" not in content and "Target T1" not in content and "Suggested points" not in content
    assert client.get(review_url(panel["draft"])).status_code == 404
    with pytest.raises(ValidationError, match="conflict of interest"):
        jury.record_score(a, panel["rev_a"], Decimal(5))
    assert not JuryScore.objects.exists()


def test_blind_review(client, panel):
    b = panel["subs"]["b"]
    jury.record_score(b, panel["rev_free"], Decimal(9), "Strong evidence")
    client.force_login(panel["rev_two"])

    before = client.get(review_url(b)).content.decode()
    client.post(review_url(b), {"points": "3", "comment": "Thin"})
    after = client.get(review_url(b)).content.decode()
    client.force_login(panel["manager"])
    manager_view = client.get(review_url(b)).content.decode()

    assert "Strong evidence" not in before and "shown once you have saved yours" in before
    assert "Strong evidence" in after and "Thin" in after
    assert "Strong evidence" in manager_view and "Reviewers compared" in manager_view


def test_the_jurys_spread_is_written_without_trailing_zeros_in_the_readers_language(client, panel):
    """The standard deviation and the reviewers' mean offsets read "3.00" and "0.600" (issue 20:
    no trailing zeros in the admin); in Vietnamese with a decimal comma."""
    b = panel["subs"]["b"]
    jury.record_score(b, panel["rev_free"], Decimal(9))
    jury.record_score(b, panel["rev_two"], Decimal(3))
    client.force_login(panel["manager"])

    english = client.get(review_url(b)).content.decode()
    vietnamese = client.get(review_url(b), HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    assert re.search(r"standard deviation 3\s*[<·]", english)
    offsets = re.findall(r"<td>(-?[0-9.,]+)</td></tr>", english)
    assert sorted(offsets) == ["-0.6", "0.6"], offsets
    assert "0.600" not in english and "3.00" not in english
    assert sorted(re.findall(r"<td>(-?[0-9.,]+)</td></tr>", vietnamese)) == ["-0,6", "0,6"]


def test_points_outside_the_range_are_refused(client, panel):
    b = panel["subs"]["b"]
    client.force_login(panel["rev_free"])

    response = client.post(review_url(b), {"points": "11"})
    nan = client.post(review_url(b), {"points": "NaN"})

    assert "between 0 and 10" in response.content.decode()
    assert "as a number" in nan.content.decode()
    assert not JuryScore.objects.exists()


def test_score_changes_are_audited_with_the_old_value(panel):
    b = panel["subs"]["b"]
    jury.record_score(b, panel["rev_free"], Decimal(6), "first")
    jury.record_score(b, panel["rev_free"], Decimal("7.5"), "second")

    entries = CompetitionLogEntry.objects.filter(action="competition.score", object_id=str(b.pk)).order_by("timestamp")

    assert [(e.data["old_points"], e.data["new_points"]) for e in entries] == [(None, "6"), ("6", "7.5")]
    assert JuryScore.objects.get().points == Decimal("7.5")


def test_closed_competition_refuses_score_changes(panel):
    b = panel["subs"]["b"]
    competition = panel["competition"]
    competition.closed = True
    competition.save()

    with pytest.raises(ValidationError, match="closed"):
        jury.record_score(b, panel["rev_free"], Decimal(5))


def test_save_and_next_goes_to_the_next_item(client, panel):
    a, b = panel["subs"]["a"], panel["subs"]["b"]
    client.force_login(panel["rev_free"])

    response = client.post(review_url(a), {"points": "8", "next": "1"})

    assert response["Location"] == review_url(b)


def test_summary_aggregate_spread_and_offsets(panel):
    b = panel["subs"]["b"]
    competition = panel["competition"]
    competition.jury_aggregation = "median"
    competition.save()
    for name, points in (("rev_a", 2), ("rev_free", 9), ("rev_two", 7)):
        jury.record_score(b, panel[name], Decimal(points))

    summary = jury.score_summary(Submission.objects.get(pk=b.pk))
    offsets = {row["reviewer"]: row["mean_offset"] for row in jury.reviewer_offsets(competition)}

    assert summary["aggregate"] == 7 and (summary["low"], summary["high"]) == (2, 9)
    assert summary["disagreement"] is True
    assert offsets["rev_a"] < 0 < offsets["rev_free"]


def test_manager_decides_from_the_review_screen(client, panel):
    b = panel["subs"]["b"]
    client.force_login(panel["manager"])

    page = client.get(review_url(b)).content.decode()

    assert reverse("wagtailsnippets_competition_submission:decide", args=[b.pk]) in page


def test_queue_view_and_menu_count(client, panel):
    client.force_login(panel["rev_free"])

    page = client.get(reverse("competition_review_queue")).content.decode()
    dashboard = client.get("/admin/").content.decode()

    assert "2 submissions to review" in page
    assert "Review queue (2)" in dashboard
    client.force_login(panel["editor_a"])
    assert client.get(reverse("competition_review_queue")).status_code in (302, 403)


def test_queue_query_count_does_not_grow(client, panel, django_assert_max_num_queries):
    client.force_login(panel["rev_free"])
    url = reverse("competition_review_queue")
    client.get(url)
    with django_assert_max_num_queries(60) as small:
        client.get(url)
    for day in range(1, 20):
        submission = Submission.objects.create(line=panel["line_b"], reported_on=date(2025, 3, day), value=day)
        evidence.submit(submission, panel["editor_b"])

    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_queue_is_paginated_and_keeps_its_filters(client, panel):
    # Arrange: 60 more reports of agency B on top of the two of the panel (B's and A's).
    for number in range(60):
        submission = Submission.objects.create(
            line=panel["line_b"], reported_on=date(2025, 1, 1) + timedelta(days=number), value=number
        )
        evidence.submit(submission, panel["editor_b"])
    client.force_login(panel["rev_free"])
    url = reverse("competition_review_queue")

    first = client.get(url, {"agency": "B"}).content.decode()
    second = client.get(url, {"agency": "B", "p": "2"}).content.decode()
    past_the_end = client.get(url, {"agency": "B", "p": "99"})
    not_a_number = client.get(url, {"agency": "B", "p": "two"})

    # Assert: 61 of B's in all, 50 on the first page and 11 on the second, nothing twice, the
    # filter kept in the page links; a page number that is not one is not an error.
    assert "61 submissions to review" in first and "61 submissions to review" in second
    link = re.escape(reverse("competition_review", args=[123])).replace("123", r"(\d+)")
    links = [re.findall(f'href="{link}"', page) for page in (first, second)]
    assert (len(links[0]), len(links[1])) == (50, 11) and not set(links[0]) & set(links[1])
    assert "?agency=B&amp;p=2" in first and "Page 1 of 2" in first
    assert past_the_end.status_code == 200 and "Page 2 of 2" in past_the_end.content.decode()
    assert not_a_number.status_code == 200 and "Page 1 of 2" in not_a_number.content.decode()


def test_affiliating_a_reviewer_with_an_agency_they_scored_is_refused(panel):
    b = panel["subs"]["b"]
    jury.record_score(b, panel["rev_free"], Decimal(5))
    seat = Juror.objects.get(user=panel["rev_free"])
    seat.agency = b.line.commitment.agency

    with pytest.raises(ValidationError, match="conflict of interest"):
        seat.full_clean()


def test_queue_leaves_out_reports_superseded_by_a_later_accepted_one(client, panel):
    line = panel["line_b"]
    older = Submission.objects.create(line=line, reported_on=date(2025, 3, 31), value=20)
    evidence.submit(older, panel["editor_b"])
    evidence.decide(older, panel["manager"], "accept")
    b = panel["subs"]["b"]  # reported on 30 June, submitted
    assert older in jury.queue_for(panel["rev_free"])  # the later one is not accepted yet

    evidence.decide(b, panel["manager"], "accept")

    assert older not in jury.queue_for(panel["rev_free"]) and b in jury.queue_for(panel["rev_free"])
    assert older in jury.queue_for(panel["rev_free"], include_earlier=True)
    client.force_login(panel["rev_free"])
    queue_url = reverse("competition_review_queue")
    assert review_url(older) not in client.get(queue_url).content.decode()
    assert review_url(older) in client.get(queue_url, {"include_earlier": "on"}).content.decode()


def test_queue_filters_that_are_not_valid_are_reported_not_an_error(client, panel):
    client.force_login(panel["rev_free"])

    response = client.get(reverse("competition_review_queue"), {"competition": "abc", "agency": "B"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were not valid" in page
    assert review_url(panel["subs"]["b"]) in page and review_url(panel["subs"]["a"]) not in page  # agency kept
    options = client.get(reverse("competition_review_queue")).content.decode()
    assert f'<option value="{panel["competition"].pk}">{panel["competition"].title}</option>' in options


def test_the_queue_is_titled_by_its_name(client, panel):
    """The header and the browser's tab say "Review queue", not Wagtail's "Home"."""
    from bs4 import BeautifulSoup

    client.force_login(panel["rev_free"])

    page = BeautifulSoup(client.get(reverse("competition_review_queue")).content, "html.parser")

    assert page.title.get_text(strip=True).startswith("Review queue")
    crumbs = [item.get_text(" ", strip=True) for item in page.select("[data-w-breadcrumbs-target] li, nav ol li")]
    assert crumbs and crumbs[-1] == "Review queue", crumbs


def test_the_scoring_screens_tables_scroll_in_their_own_named_regions(client, panel):
    """On a phone the manager's tables of jury scores and of reviewers compared are wider than
    the screen, and Wagtail's <main> clips what overflows: each scrolls in its own region, which
    the keyboard reaches (focusable) and a screen reader names (its heading)."""
    from bs4 import BeautifulSoup

    b = panel["subs"]["b"]
    jury.record_score(b, panel["rev_free"], Decimal(9))
    jury.record_score(b, panel["rev_two"], Decimal(3))
    client.force_login(panel["manager"])
    page = BeautifulSoup(client.get(review_url(b)).content, "html.parser")

    named = {}
    for table in page.select("main table.listing"):
        region = table.find_parent("div", class_="competition-scroll")
        assert region is not None and region["role"] == "region" and region["tabindex"] == "0", table
        named[page.find(id=region["aria-labelledby"]).get_text(strip=True)] = len(table.select("tbody tr"))
    assert named == {"Jury scores": 2, "Reviewers compared": 2}
