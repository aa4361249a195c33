"""The public page cache (competition.middleware) and the single computation of boards
(domain.scoreboard, domain.warming): fresh after every committed change, never shared with
logged-in users, never holding anyone's CSRF token; and each process's memory of the cache
versions (domain.versions)."""

import threading
import time
from datetime import date

import pytest
from django.middleware.locale import LocaleMiddleware
from django.test import Client

from competition.domain import scoreboard, warming
from competition.models import CommitmentLine
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db

JSON = "/comp/scoreboard.json?as_of=2025-07-01"
PAGE = "/comp/?as_of=2025-07-01"
CACHE_MIDDLEWARE = "competition.middleware.PublicPageCacheMiddleware"


@pytest.fixture
def cached(settings):
    from competition import middleware

    settings.COMPETITION_RESPONSE_CACHE = True
    settings.COMPETITION_REBUILD_BOARDS = ""
    middleware.forget_in_process()
    yield settings
    middleware.forget_in_process()


@pytest.fixture
def competition(cached):
    competition = make_competition(slug="comp")
    target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="A"), [target])
    line = CommitmentLine.objects.get(commitment__agency__code="A")
    make_submission(line, 40, date(2025, 6, 30))
    return competition


def vary_of(response):
    return {value.strip().lower() for value in response["Vary"].split(",")}


def value_of_a(response):
    return response.json()["agencies"][0]["targets"][0]["value"]


def warm(client, url):
    """The first request of a URL teaches the cache its competition; the second stores it."""
    client.get(url)
    response = client.get(url)
    assert response["X-Cache"] == "miss"
    return response


def test_anonymous_reader_is_served_from_the_cache_without_queries(competition, client, django_assert_num_queries):
    warm(client, JSON)

    with django_assert_num_queries(0):
        response = client.get(JSON)

    assert response.status_code == 200
    assert response["X-Cache"] == "hit"
    assert value_of_a(response) == 40
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "url", ["/comp/scoreboard.csv", "/comp/scoreboard.xlsx", PAGE, "/comp/target-t1/", "/comp/agency-a/"]
)
def test_every_public_view_of_a_competition_is_kept(competition, client, url):
    first = warm(client, url)

    again = client.get(url)

    assert again["X-Cache"] == "hit"
    assert again.status_code == 200
    assert again["Content-Type"] == first["Content-Type"]


def test_a_published_change_shows_on_the_next_anonymous_get(competition, client, django_capture_on_commit_callbacks):
    warm(client, JSON)
    line = CommitmentLine.objects.get(commitment__agency__code="A")

    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 75, date(2025, 7, 1))
    response = client.get(JSON)

    assert response["X-Cache"] == "miss"
    assert value_of_a(response) == 75
    assert client.get(JSON)["X-Cache"] == "hit"


def test_a_change_shows_on_the_pages_too(competition, client, django_capture_on_commit_callbacks):
    warm(client, PAGE)

    with django_capture_on_commit_callbacks(execute=True):
        competition.title = "Renamed competition"
        competition.save()
    response = client.get(PAGE)

    assert response["X-Cache"] == "miss"
    assert "Renamed competition" in response.text


def test_a_rolled_back_change_keeps_the_cache(competition, client, django_capture_on_commit_callbacks):
    warm(client, JSON)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_submission(CommitmentLine.objects.get(), 75, date(2025, 7, 1))

    assert len(callbacks) == 1  # the invalidation waits for the commit, which never comes
    assert client.get(JSON)["X-Cache"] == "hit"


def test_logged_in_users_never_get_cached_pages(competition, client, django_assert_max_num_queries):
    warm(client, PAGE)
    user = UserFactory(username="editor")
    member = Client()
    member.force_login(user)

    response = member.get(PAGE)

    assert response.status_code == 200
    assert "X-Cache" not in response
    assert "Cookie" in response["Vary"]


def test_pages_rendered_for_logged_in_users_are_never_kept(competition, client):
    member = Client()
    member.force_login(UserFactory(username="editor"))
    for _ in range(3):
        member.get(JSON)

    client.get(JSON)
    response = client.get(JSON)

    assert response["X-Cache"] == "miss"  # nothing kept from the member's requests


def test_an_anonymous_session_or_messages_cookie_skips_the_cache(competition, client):
    warm(client, JSON)

    client.cookies["messages"] = "anything"
    with_messages = client.get(JSON)
    del client.cookies["messages"]
    client.cookies["sessionid"] = "not-a-session"
    with_session = client.get(JSON)

    assert "X-Cache" not in with_messages
    assert "X-Cache" not in with_session


def test_kept_pages_are_the_same_for_every_reader_and_set_no_cookie(competition, client):
    warm(client, PAGE)

    responses = [Client().get(PAGE) for _ in range(2)]

    assert [response["X-Cache"] for response in responses] == ["hit", "hit"]
    assert responses[0].content == responses[1].content
    assert b"csrfmiddlewaretoken" not in responses[0].content
    assert not responses[0].cookies and not responses[1].cookies


@pytest.mark.demo
def test_the_language_switch_needs_no_csrf_token(competition, cached):
    cached.CSRF_COOKIE_SECURE = False
    reader = Client(enforce_csrf_checks=True)
    warm(Client(), PAGE)
    page = reader.get(PAGE)

    response = reader.post("/i18n/setlang/", {"language": "vi", "next": "/comp/"})
    vietnamese = reader.get(PAGE)

    assert page["X-Cache"] == "hit"
    assert (response.status_code, response["Location"]) == (302, "/comp/")
    assert vietnamese["Content-Language"] == "vi"
    # Never to another site, never a language the site does not have, never by GET.
    assert reader.post("/i18n/setlang/", {"language": "vi", "next": "https://example.com/"})["Location"] == "/"
    assert "django_language" not in reader.post("/i18n/setlang/", {"language": "xx", "next": "/comp/"}).cookies
    assert reader.cookies["django_language"].value == "vi"
    assert reader.get("/i18n/setlang/?language=en&next=/comp/").status_code == 405


@pytest.mark.demo
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "http://testserver", "sec-fetch-site": "same-origin"}, 302),
        ({}, 302),
        ({"origin": "https://attacker.example"}, 403),
        ({"origin": "null"}, 403),
        ({"origin": "https://testserver"}, 403),
        ({"sec-fetch-site": "cross-site"}, 403),
    ],
)
def test_the_language_switch_refuses_posts_from_other_sites(client, headers, status):
    response = client.post("/i18n/setlang/", {"language": "vi", "next": "/"}, headers=headers)

    assert response.status_code == status
    assert ("django_language" in response.cookies) is (status == 302)


@pytest.mark.parametrize("change", ["csrf token", "session"])
def test_a_response_holding_a_csrf_token_or_changing_the_session_is_not_kept(rf, change):
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.http import HttpResponse

    from competition.middleware import PublicPageCacheMiddleware

    request = rf.get("/comp/")
    request.session = SessionStore()
    response = HttpResponse(b"<p>page</p>")
    assert PublicPageCacheMiddleware.storable(request, response) is not None
    if change == "csrf token":
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    else:
        request.session["seen"] = True

    assert PublicPageCacheMiddleware.storable(request, response) is None


def test_a_page_cache_placed_after_the_csrf_middleware_keeps_the_same_responses(competition, cached):
    middleware = [name for name in cached.MIDDLEWARE if name != "competition.middleware.PublicPageCacheMiddleware"]
    middleware.insert(middleware.index("django.contrib.messages.middleware.MessageMiddleware") + 1, CACHE_MIDDLEWARE)
    cached.MIDDLEWARE = middleware
    reader = Client()
    warm(reader, PAGE)

    hit = reader.get(PAGE, headers={"accept-encoding": "gzip"})

    assert hit["X-Cache"] == "hit"
    assert not hit.cookies
    assert hit["Content-Language"] == "en"
    assert hit["X-Frame-Options"] == "DENY"
    assert {"cookie", "accept-language", "accept-encoding"} <= vary_of(hit)


def test_vary_names_cookie_and_language(competition, client):
    warm(client, PAGE)

    hit = client.get(PAGE)
    json_hit = client.get(JSON)

    for response in (hit, json_hit):
        assert {"cookie", "accept-language"} <= vary_of(response)


def test_each_language_has_its_own_copy(competition, client):
    warm(client, PAGE)

    vietnamese = client.get(PAGE, headers={"accept-language": "vi"})

    assert vietnamese["X-Cache"] == "miss"
    assert vietnamese["Content-Language"] == "vi"
    assert client.get(PAGE, headers={"accept-language": "vi"})["X-Cache"] == "hit"
    assert client.get(PAGE)["Content-Language"] == "en"


def test_query_strings_have_their_own_copies(competition, client):
    warm(client, JSON)

    other_day = client.get("/comp/scoreboard.json?as_of=2025-06-01")

    assert other_day["X-Cache"] == "miss"
    assert value_of_a(other_day) is None


def test_errors_are_not_kept(competition, client):
    warm(client, JSON)
    for _ in range(3):
        response = client.get("/comp/scoreboard.json?as_of=not-a-date")

    assert response.status_code == 400
    assert response["X-Cache"] == "miss"


def test_pages_outside_the_competition_are_not_kept(competition, client):
    # An agency's record shows several competitions under no version of its own. (A listing of
    # competitions, such as the demo's home page, is kept: tests/test_home_cache.py.)
    for _ in range(3):
        response = client.get("/agencies/A/")

    assert response.status_code == 200
    assert "X-Cache" not in response


def test_a_stale_copy_is_served_while_another_process_renders(
    competition, client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from competition.middleware import PublicPageCacheMiddleware

    warm(client, JSON)
    key = PublicPageCacheMiddleware.key(client.get(JSON).wsgi_request, competition.pk)
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(CommitmentLine.objects.get(), 75, date(2025, 7, 1))
    scoreboard.board_cache().add(f"{key}:rendering", 1)  # another process is rendering it

    with django_assert_num_queries(0):
        stale = client.get(JSON)
    scoreboard.board_cache().delete(f"{key}:rendering")
    fresh = client.get(JSON)

    assert (stale["X-Cache"], value_of_a(stale)) == ("stale", 40)
    assert (fresh["X-Cache"], value_of_a(fresh)) == ("miss", 75)


def test_an_unpublished_competition_is_never_served_stale(competition, client, django_capture_on_commit_callbacks):
    from competition.middleware import PublicPageCacheMiddleware

    warm(client, JSON)
    key = PublicPageCacheMiddleware.key(client.get(JSON).wsgi_request, competition.pk)
    scoreboard.board_cache().add(f"{key}:rendering", 1)

    with django_capture_on_commit_callbacks(execute=True):
        competition.unpublish()
    response = client.get(JSON)

    assert response.status_code == 404


def test_a_restricted_page_is_dropped_from_the_cache(competition, client, django_capture_on_commit_callbacks):
    from wagtail.models import PageViewRestriction

    warm(client, "/comp/target-t1/")

    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(page=competition, restriction_type=PageViewRestriction.LOGIN)
    responses = [client.get("/comp/target-t1/") for _ in range(2)]

    assert [response.status_code for response in responses] == [302, 302]


# The single computation of boards.


def test_a_stale_board_is_served_while_another_process_computes(competition, django_assert_num_queries):
    board = scoreboard.get_board(competition, date(2025, 7, 1))
    scoreboard.invalidate(competition.pk)
    key = scoreboard.board_key(competition, date(2025, 7, 1))
    scoreboard.board_cache().add(f"{key}:computing", 1)

    with scoreboard.noting_stale_boards() as stale, django_assert_num_queries(0):
        served = scoreboard.get_board(competition, date(2025, 7, 1))

    assert served == board
    assert stale == [key]


def test_a_reader_waits_for_the_computing_process_rather_than_computing(competition, cached, django_assert_num_queries):
    """Another process holds the lock and stores the board after 0.3 s: the reader, finding no
    previous board to serve, waits for that board instead of computing a second one."""
    day = date(2025, 7, 1)
    cache = scoreboard.board_cache()
    key = scoreboard.board_key(competition, day)
    computed = scoreboard.load_board(competition, day)
    version = scoreboard.board_version(competition.pk)
    cache.add(f"{key}:computing", 1)

    def other_process():
        time.sleep(0.3)
        cache.set(key, (version, computed))
        cache.delete(f"{key}:computing")

    thread = threading.Thread(target=other_process)
    thread.start()
    started = time.monotonic()
    with django_assert_num_queries(0):
        board = scoreboard.get_board(competition, day)
    thread.join()

    assert board == computed
    assert time.monotonic() - started >= 0.25


def test_a_reader_computes_itself_when_the_lock_holder_died(competition, cached):
    cached.COMPETITION_COMPUTE_WAIT_SECONDS = 0.2
    day = date(2025, 7, 1)
    scoreboard.board_cache().add(f"{scoreboard.board_key(competition, day)}:computing", 1)

    board = scoreboard.get_board(competition, day)

    assert board.agencies[0].code == "A"


def test_the_rebuild_computes_what_the_competition_page_reads(
    competition, client, cached, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    cached.COMPETITION_REBUILD_BOARDS = "inline"
    client.get(PAGE)
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(CommitmentLine.objects.get(), 75, date(2025, 7, 1))

    with django_assert_max_num_queries(50) as render:
        client.get("/comp/")
    board_loads = [query for query in render.captured_queries if "competition_commitmentline" in query["sql"]]

    assert warming.public_board_days(competition)[0] == scoreboard.resolve_as_of(competition)
    assert board_loads == []  # every board the page shows was computed by the rebuild


def test_a_forgotten_version_never_makes_old_copies_fresh(competition, client):
    warm(client, JSON)

    scoreboard.board_cache().delete(f"competition:scoreboard-version:{competition.pk}")  # evicted
    response = client.get(JSON)

    assert response["X-Cache"] == "miss"


def test_a_cache_that_keeps_nothing_serves_nothing_kept(competition, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    responses = [client.get(JSON) for _ in range(4)]

    assert [response["X-Cache"] for response in responses[1:]] == ["miss", "miss", "miss"]
    assert value_of_a(responses[-1]) == 40


def test_a_new_process_serves_a_url_another_process_learnt_from_its_first_request(competition, client):
    from competition import middleware

    warm(client, JSON)
    middleware.forget_in_process()  # a worker started afterwards: only the shared cache knows

    response = client.get(JSON)

    assert (response["X-Cache"], value_of_a(response)) == ("hit", 40)


def test_a_url_now_showing_another_competition_is_learnt_again(competition, client):
    from competition import middleware
    from competition.middleware import PublicPageCacheMiddleware

    route_key = PublicPageCacheMiddleware.route_key(("testserver", "/comp/scoreboard.json"))
    scoreboard.board_cache().set(route_key, competition.pk + 1000)

    first = client.get(JSON)

    assert "X-Cache" not in first and value_of_a(first) == 40
    assert scoreboard.board_cache().get(route_key) is None
    assert ("testserver", "/comp/scoreboard.json") not in middleware.routes
    assert warm(client, JSON).status_code == 200
    assert scoreboard.board_cache().get(route_key) == competition.pk


def test_a_process_keeps_in_memory_only_so_many_bytes(competition, client, monkeypatch):
    from competition import middleware

    warm(client, JSON)
    size = middleware.local_bytes
    assert size == sum(middleware.entry_size(entry) for entry in middleware.local_entries.values()) > 0
    monkeypatch.setattr(middleware, "MAX_LOCAL_BYTES", size)  # too big to keep: more than half
    middleware.forget_in_process()

    responses = [client.get(JSON) for _ in range(2)]

    assert [response["X-Cache"] for response in responses] == ["hit", "hit"]
    assert middleware.local_entries == {} and middleware.local_bytes == 0


def test_made_up_query_parameters_are_rendered_never_kept(competition, client):
    warm(client, JSON)
    warm(client, PAGE)
    made_up = [client.get(JSON + f"&utm_source={number}") for number in range(3)]
    sorted_page = [client.get(PAGE + "&sort=-score_percent&page=1&per_page=50") for _ in range(2)]

    assert [response["X-Cache"] for response in made_up] == ["miss", "miss", "miss"]
    assert all(value_of_a(response) == 40 for response in made_up)
    assert [response["X-Cache"] for response in sorted_page] == ["miss", "hit"]


def states(client, url, times=3):
    responses = [client.get(url) for _ in range(times)]
    return [(response.status_code, response.get("X-Cache")) for response in responses]


@pytest.mark.parametrize(
    "url",
    [
        "/comp/?as_of=x123",
        "/comp/?as_of=20250701",  # the docs say YYYY-MM-DD
        "/comp/target-t1/?as_of=x123",
        "/comp/agency-a/?as_of=2025-07-01x",
    ],
)
def test_a_malformed_date_is_explained_and_never_kept(competition, client, url):
    client.get(url.split("?")[0])  # the URL's competition is known

    assert states(client, url) == [(200, "miss")] * 3
    assert "The date must be written as YYYY-MM-DD" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # A date outside the period shows its first or last day: one copy, not one per date.
        ("/comp/?as_of=1990-01-01", "/comp/?as_of=2025-01-01"),
        ("/comp/?as_of=2099-12-31", "/comp/?as_of=2025-12-31"),
        ("/comp/agency-a/?as_of=2031-05-05", "/comp/agency-a/?as_of=2025-12-31"),
        ("/comp/?as_of=", "/comp/"),
        ("/comp/?as_of=2025-07-01&as_of=2025-07-01", "/comp/?as_of=2025-07-01"),
        ("/comp/?page=abc", "/comp/?page=1"),
        ("/comp/?page=0", "/comp/?page=1"),
        ("/comp/?page=999", "/comp/?page=1"),
        ("/comp/?page=%EF%BC%92", "/comp/?page=1"),  # a full-width 2
        ("/comp/?sort=bogus", "/comp/"),
        ("/comp/?sort=name&sort=rank", "/comp/"),
        ("/comp/?per_page=7", "/comp/"),
        ("/comp/?per_page=-1", "/comp/"),
        ("/comp/?per_page=0&page=2", "/comp/?page=1"),
        ("/comp/target-t1/?sort=-nothing&as_of=1990-01-01", "/comp/target-t1/?as_of=2025-01-01"),
        # The commitment page has no table: its sort and page parameters mean nothing.
        ("/comp/agency-a/?page=2&sort=name", "/comp/agency-a/"),
        # Parameters the views do not read stay as they were (rendered, never kept, below).
        ("/comp/?page=x&utm_source=news", "/comp/?page=1&utm_source=news"),
    ],
)
def test_other_spellings_of_a_page_are_redirected_to_its_one_url(competition, client, url, canonical):
    client.get(url.split("?")[0])

    responses = [client.get(url) for _ in range(2)]

    assert [(response.status_code, response["Location"]) for response in responses] == [(302, canonical)] * 2
    assert "X-Cache" not in responses[1] or responses[1]["X-Cache"] == "miss"
    if "utm_source" not in canonical:
        assert states(client, canonical) == [(200, "miss"), (200, "hit"), (200, "hit")]


def test_valid_spellings_are_kept_once_whatever_the_order_of_the_parameters(competition, client):
    for number in range(3):
        make_commitment(competition, AgencyFactory(code=f"X{number}"), [competition.get_children().first().specific])
    client.get("/comp/")

    first = client.get("/comp/?sort=-name&per_page=10&as_of=2025-07-01&page=1")
    again = client.get("/comp/?page=1&as_of=2025-07-01&sort=-name&per_page=10")

    assert (first.status_code, first["X-Cache"]) == (200, "miss")
    assert (again.status_code, again["X-Cache"]) == (200, "hit")
    assert "aria-sort" in first.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "as_of=1990-01-01",
        "as_of=2099-01-01",
        "as_of=2025-07-01&sort=name",
        "page=2",
        "as_of=2025-07-01&as_of=2025-07-01",
    ],
)
def test_open_data_in_another_spelling_is_answered_but_never_kept(competition, client, query):
    url = f"/comp/scoreboard.json?{query}"
    client.get(url)

    assert states(client, url) == [(200, "miss")] * 3
    assert client.get(url).json()["competition"]["as_of"] in ("2025-01-01", "2025-12-31", "2025-07-01")


def test_open_data_of_a_date_inside_the_period_is_kept(competition, client):
    url = "/comp/scoreboard.csv?as_of=2025-01-01"
    client.get(url)

    assert states(client, url) == [(200, "miss"), (200, "hit"), (200, "hit")]


def test_a_copy_in_a_process_memory_lasts_no_longer_than_the_shared_one(competition, client):
    from competition import middleware

    warm(client, JSON)
    (key, entry), *_ = middleware.local_entries.items()
    middleware.local_entries[key] = (*entry[:-1], time.time() - 1)  # its time is up
    scoreboard.board_cache().delete(key)

    assert client.get(JSON)["X-Cache"] == "miss"


class ProjectLocaleMiddleware(LocaleMiddleware):
    """A site's own locale middleware."""


@pytest.mark.parametrize(
    ("middleware", "installed"),
    [
        ("django.middleware.locale.LocaleMiddleware", True),
        ("tests.test_serving.ProjectLocaleMiddleware", True),
        ("django.middleware.common.CommonMiddleware", False),
        ("no.such.Middleware", False),
    ],
)
def test_the_page_cache_finds_the_locale_middleware_or_a_subclass(settings, middleware, installed):
    from competition.middleware import locale_middleware_installed

    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", middleware]

    assert locale_middleware_installed() is installed


@pytest.mark.demo
def test_without_the_cache_pages_are_still_served(competition, cached, client):
    cached.CACHES = {
        "default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}
    }

    health = client.get("/health/")
    login = client.get("/admin/login/")

    assert (health.status_code, health.json()["cache"]) == (503, "failing")
    assert login.status_code == 200


def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_compressed_copies_for_readers_who_accept_gzip(competition, client):
    import gzip

    warm(client, JSON)

    plain = client.get(JSON)
    compressed = client.get(JSON, headers={"accept-encoding": "gzip, deflate, br"})
    refused = client.get(JSON, headers={"accept-encoding": "gzip;q=0, identity"})

    assert [response["X-Cache"] for response in (plain, compressed, refused)] == ["hit", "hit", "hit"]
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert int(compressed["Content-Length"]) == len(compressed.content) < len(plain.content)
    assert not plain.has_header("Content-Encoding") and not refused.has_header("Content-Encoding")
    assert refused.content == plain.content
    assert all("accept-encoding" in vary_of(response) for response in (plain, compressed, refused))


def test_a_reader_who_has_the_kept_copy_gets_not_modified(competition, client, django_capture_on_commit_callbacks):
    first = warm(client, JSON)
    compressed = client.get(JSON, headers={"accept-encoding": "gzip"})

    again = client.get(JSON, headers={"if-none-match": first["ETag"]})
    again_compressed = client.get(JSON, headers={"if-none-match": compressed["ETag"], "accept-encoding": "gzip"})
    other = client.get(JSON, headers={"if-none-match": '"something-else"'})
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(CommitmentLine.objects.get(), 75, date(2025, 7, 1))
    changed = client.get(JSON, headers={"if-none-match": first["ETag"]})

    assert first["ETag"] != compressed["ETag"]
    assert (again.status_code, again.content, again["X-Cache"]) == (304, b"", "hit")
    assert again["ETag"] == first["ETag"] and "accept-encoding" in vary_of(again)
    assert again_compressed.status_code == 304
    assert (other.status_code, value_of_a(other)) == (200, 40)
    assert (changed.status_code, value_of_a(changed)) == (200, 75)
    assert changed["ETag"] != first["ETag"]


def test_the_reader_whose_request_keeps_a_copy_gets_it_compressed_too(competition, client):
    import gzip

    client.get(JSON)  # learns the URL's competition
    keeping = client.get(JSON, headers={"accept-encoding": "gzip"})
    plain = client.get(JSON)

    assert (keeping["X-Cache"], keeping["Content-Encoding"]) == ("miss", "gzip")
    assert gzip.decompress(keeping.content) == plain.content
    assert keeping["ETag"] == plain["ETag"][:-1] + '-gzip"'


def test_spreadsheets_are_not_compressed_again(competition, client):
    warm(client, "/comp/scoreboard.xlsx")

    response = client.get("/comp/scoreboard.xlsx", headers={"accept-encoding": "gzip"})

    assert response["X-Cache"] == "hit"
    assert not response.has_header("Content-Encoding")


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=nonsense", False),
        ("deflate, br", False),
        ("*", False),
        ("", False),
        ("gzipped", False),
    ],
)
def test_accepts_gzip(header, accepted):
    from competition.middleware import accepts_gzip

    assert accepts_gzip(header) is accepted


# Figures derived from a board (the headline figures of competition listings).


def test_listing_figures_are_kept_and_follow_the_board(competition, django_capture_on_commit_callbacks, monkeypatch):
    from competition.domain import presentation

    first = presentation.headline_of(competition)
    loads = []
    monkeypatch.setattr(scoreboard, "get_board", lambda *args, **kwargs: loads.append(1) or None)

    again = presentation.headline_of(competition)  # kept: no board loaded
    assert again == first and loads == []
    monkeypatch.undo()

    # A committed change: the next listing shows the new figures.
    line = CommitmentLine.objects.get(commitment__agency__code="A")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 100, date(2025, 7, 15))
    changed = presentation.headline_of(competition)
    assert (first["achieved"], changed["achieved"]) == (0, 1)


def test_listing_figures_made_from_a_stale_board_are_not_kept_and_are_noted(competition):
    from competition.domain import presentation

    board = scoreboard.get_board(competition)
    board_key = scoreboard.board_key(competition, board.as_of)
    scoreboard.invalidate(competition.pk)
    scoreboard.board_cache().add(f"{board_key}:computing", 1)

    with scoreboard.noting_stale_boards() as stale:
        presentation.headline_of(competition)

    # The enclosing response learns that a stale board was used, and nothing was kept.
    assert stale == [board_key]
    version = scoreboard.board_version(competition.pk)
    key = scoreboard.figures_key(competition, "headline")
    kept = scoreboard.board_cache().get(key)
    assert kept is None or kept[0] != version
    # Once the board is fresh again, the figures made from it are kept under its version.
    scoreboard.board_cache().delete(f"{board_key}:computing")
    with scoreboard.noting_stale_boards() as stale:
        presentation.headline_of(competition)
    assert stale == [] and scoreboard.board_cache().get(key)[0] == version
