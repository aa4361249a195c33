"""Each process's memory of the competitions' cache versions (competition.domain.versions),
against a real Redis: told of every change by publish/subscribe, never remembering a version a
change crossed, forgetting everything when the subscription is lost. A second `VersionWatch`
stands for another process (another worker, or another application server)."""

import time
from contextlib import contextmanager
from datetime import date

import pytest
import redis

from competition import middleware
from competition.domain import scoreboard, versions
from competition.models import CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

ALIAS = "shared"
COMPETITION = 7


@pytest.fixture(autouse=True)
def _quick_to_stop_slow_to_doubt(monkeypatch):
    monkeypatch.setattr(versions, "POLL_SECONDS", 0.05)
    # A remembered version is trusted this long here, so that a slow machine cannot make a
    # test read Redis again (the test of the trust bound sets its own).
    monkeypatch.setattr(versions, "TRUST_SECONDS", 60)


@pytest.fixture
def shared_cache(settings, redis_url):
    settings.CACHES = {**settings.CACHES, ALIAS: {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": redis_url}}
    settings.COMPETITION_CACHE_ALIAS = ALIAS
    versions.stop_watching()
    watches = []
    yield watches
    versions.stop_watching()
    for watch in watches:
        watch.stop()


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.01)


def subscribed(watches):
    watch = versions.VersionWatch(ALIAS)
    watches.append(watch)
    watch.start()
    wait_for(lambda: watch.subscribed)
    return watch


@contextmanager
def in_process(watch):
    """Run as the process whose watch this is."""
    saved = versions._watch
    versions._watch = watch
    try:
        yield
    finally:
        versions._watch = saved


def mget_calls(url):
    """How many MGETs Redis has answered (Django's `get_many`, which reads a version)."""
    client = redis.Redis.from_url(url)
    try:
        return client.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
    finally:
        client.close()


def test_a_change_reaches_every_process_at_once(shared_cache):
    ours, theirs = subscribed(shared_cache), subscribed(shared_cache)
    with in_process(theirs):
        before = scoreboard.board_version(COMPETITION)
    assert theirs.recall(COMPETITION) == (before, 0)

    with in_process(ours):
        scoreboard.invalidate(COMPETITION, drop_stale=True, mark=False)  # no database: no summary to mark
        # The process that made the change forgets at once, without waiting for Redis.
        assert ours.recall(COMPETITION) is None
    wait_for(lambda: theirs.recall(COMPETITION) is None)

    with in_process(theirs):
        assert scoreboard.cache_state(COMPETITION)[:2] == (before + 1, before + 1)


def test_a_remembered_version_is_not_asked_of_redis_again(shared_cache, redis_url):
    watch = subscribed(shared_cache)
    with in_process(watch):
        version = scoreboard.board_version(COMPETITION)
        calls = mget_calls(redis_url)

        again = [scoreboard.board_version(COMPETITION) for _ in range(50)]

    assert again == [version] * 50
    assert mget_calls(redis_url) == calls


def test_without_a_subscription_every_read_asks_redis(shared_cache, redis_url):
    watch = versions.VersionWatch(ALIAS)  # never started: never subscribed
    with in_process(watch):
        calls = mget_calls(redis_url)
        for _ in range(3):
            scoreboard.board_version(COMPETITION)

    assert mget_calls(redis_url) == calls + 3
    assert watch.recall(COMPETITION) is None


def test_a_version_read_before_an_announcement_is_not_remembered(shared_cache):
    watch = subscribed(shared_cache)
    reading = watch.reading()
    watch.forget(COMPETITION)  # the announcement of a change arrives while the read is under way

    watch.remember(COMPETITION, 1, 0, reading)
    assert watch.recall(COMPETITION) is None

    watch.remember(COMPETITION, 2, 0, watch.reading())
    assert watch.recall(COMPETITION) == (2, 0)


def test_an_announcement_naming_no_competition_forgets_them_all(shared_cache, redis_url):
    watch = subscribed(shared_cache)
    for competition in (1, 2):
        watch.remember(competition, 5, 0, watch.reading())

    client = redis.Redis.from_url(redis_url)
    client.publish(versions.channel(scoreboard.board_cache()), versions.EVERY_COMPETITION)
    client.close()

    wait_for(lambda: watch.recall(1) is None and watch.recall(2) is None)


def test_a_remembered_version_is_trusted_for_a_short_time_only(shared_cache, monkeypatch):
    monkeypatch.setattr(versions, "TRUST_SECONDS", 0.05)
    watch = subscribed(shared_cache)
    watch.remember(COMPETITION, 3, 0, watch.reading())
    assert watch.recall(COMPETITION) == (3, 0)

    time.sleep(0.1)

    assert watch.recall(COMPETITION) is None


def test_a_lost_subscription_forgets_everything_and_subscribes_again(shared_cache, redis_url, monkeypatch, caplog):
    monkeypatch.setattr(versions, "TRUST_SECONDS", 60)
    monkeypatch.setattr(versions, "RETRY_SECONDS", 0.2)
    watch = subscribed(shared_cache)
    watch.remember(COMPETITION, 3, 0, watch.reading())
    generation = watch.generation

    client = redis.Redis.from_url(redis_url)
    client.client_kill_filter(_type="pubsub")
    client.close()

    wait_for(lambda: watch.generation > generation and watch.recall(COMPETITION) is None)
    wait_for(lambda: watch.subscribed and not watch.failing)
    watch.remember(COMPETITION, 4, 0, watch.reading())
    assert watch.recall(COMPETITION) == (4, 0)
    said = [record.getMessage() for record in caplog.records if record.name == "competition.domain.versions"]
    assert said[0].startswith("No subscription to cache version changes")
    assert said[-1] == "Subscribed to cache version changes again."


def test_a_process_watches_only_a_redis_cache_and_only_when_asked(settings, redis_url):
    versions.stop_watching()
    assert versions.current() is None  # the tests' cache keeps each process's own memory
    settings.CACHES = {**settings.CACHES, ALIAS: {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": redis_url}}
    settings.COMPETITION_CACHE_ALIAS = ALIAS
    settings.COMPETITION_VERSION_WATCH = False
    assert versions.current() is None

    settings.COMPETITION_VERSION_WATCH = True
    try:
        watch = versions.current()
        assert watch is not None and versions.current() is watch
        # A forked worker does not run its parent's thread: it starts its own watch.
        watch.pid = -1
        assert versions.current() is not watch
    finally:
        watch.stop()
        versions.stop_watching()


@pytest.mark.django_db
def test_kept_pages_are_served_without_asking_redis_and_change_at_once(
    shared_cache, settings, redis_url, client, django_capture_on_commit_callbacks
):
    settings.COMPETITION_RESPONSE_CACHE = True
    settings.COMPETITION_REBUILD_BOARDS = ""
    middleware.forget_in_process()
    competition = make_competition(slug="comp")
    target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="A"), [target])
    line = CommitmentLine.objects.get()
    make_submission(line, 40, date(2025, 6, 30))
    url = "/comp/scoreboard.json?as_of=2025-07-01"
    client.get(url)
    assert client.get(url)["X-Cache"] == "miss"
    wait_for(lambda: versions.current().subscribed)
    client.get(url)  # remembers the version
    calls = mget_calls(redis_url)

    hits = [client.get(url) for _ in range(20)]
    calls_after_hits = mget_calls(redis_url)
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 75, date(2025, 7, 1))
    after = client.get(url)

    assert [response["X-Cache"] for response in hits] == ["hit"] * 20
    assert calls_after_hits == calls
    assert after["X-Cache"] == "miss"
    assert after.json()["agencies"][0]["targets"][0]["value"] == 75
    middleware.forget_in_process()
