"""The demo site's home page, which lists every competition with its headline figures, kept by
the public page cache like a competition page: served without a query until any competition (or
the home page itself) changes, never kept for logged-in users."""

from datetime import date

import pytest

from competition.models import CommitmentLine
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = [pytest.mark.demo, pytest.mark.django_db]  # the demo site's home page


@pytest.fixture
def cached(settings):
    from competition import middleware

    settings.COMPETITION_RESPONSE_CACHE = True
    settings.COMPETITION_REBUILD_BOARDS = ""
    middleware.forget_in_process()
    yield settings
    middleware.forget_in_process()


@pytest.fixture
def listed(cached):
    competitions = []
    for slug in ("first", "second"):
        competition = make_competition(slug=slug, title=f"Competition {slug}")
        target = make_target(competition, code="T1")
        make_commitment(competition, AgencyFactory(code=f"{slug}-A"), [target])
        competitions.append(competition)
    return competitions


def kept(client, url="/"):
    client.get(url)  # teaches the cache the URL's competitions
    response = client.get(url)
    assert response["X-Cache"] == "miss"
    return response


def test_the_home_page_is_served_from_the_cache_without_queries(listed, client, django_assert_num_queries):
    kept(client)

    with django_assert_num_queries(0):
        response = client.get("/")

    assert response["X-Cache"] == "hit"
    assert "Competition first" in response.content.decode() and "Competition second" in response.content.decode()


@pytest.mark.parametrize("which", [0, 1])
def test_a_change_to_any_competition_renews_it(listed, client, which, django_capture_on_commit_callbacks):
    before = kept(client).content
    line = CommitmentLine.objects.get(commitment__competition=listed[which])

    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 100, date(2025, 6, 30))
    response = client.get("/")

    assert response["X-Cache"] == "miss"
    assert response.content != before  # the headline figures changed
    assert client.get("/")["X-Cache"] == "hit"


def test_a_new_or_unpublished_competition_shows_at_once(listed, client, django_capture_on_commit_callbacks):
    kept(client)

    with django_capture_on_commit_callbacks(execute=True):
        make_competition(slug="third", title="Competition third")
    assert "Competition third" in client.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        listed[0].unpublish()
    assert "Competition first" not in client.get("/").content.decode()


def test_publishing_the_home_page_renews_it(listed, client, django_capture_on_commit_callbacks):
    from home.models import HomePage

    kept(client)
    home = HomePage.objects.get(slug="home")
    home.intro = "<p>A new introduction</p>"

    with django_capture_on_commit_callbacks(execute=True):
        home.save_revision().publish()

    assert "A new introduction" in client.get("/").content.decode()


def test_a_logged_in_user_never_gets_a_kept_home_page(listed, client):
    kept(client)
    client.force_login(UserFactory(username="editor"))

    response = client.get("/")

    assert response.get("X-Cache") is None
    assert response.status_code == 200


def test_a_query_is_rendered_not_kept(listed, client):
    kept(client)

    for _attempt in range(2):
        assert client.get("/?as_of=2025-06-30").get("X-Cache") != "hit"
