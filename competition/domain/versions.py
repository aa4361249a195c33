"""Each process's memory of the competitions' cache versions, kept right by Redis
publish/subscribe.

Every response the page cache serves needs its competition's cache version (has anything
changed since this response was kept?). Asking Redis on every request was a round trip per
request, about a third of what a kept page cost. Instead, `scoreboard.invalidate` announces
every change on one channel, each process listens to that channel in a thread of its own, and a
version read from Redis is remembered until an announcement says it changed:

- nothing is remembered before the subscription is confirmed, nor while it is lost (a broken
  connection forgets everything; versions are read from Redis on every request until the
  thread has subscribed again, retrying every second);
- a version read before the latest announcement or subscription is not remembered (the read
  notes `generation` first; announcements and subscriptions advance it), so that an
  announcement that crossed the read is never lost;
- the process that makes a change forgets the version at once itself, without waiting for its
  own announcement;
- a remembered version is trusted for at most TRUST_SECONDS, then read again: should the
  connection die without the thread noticing, a change reaches every process within that time
  anyway.

Only with Django's Redis cache backend (`django.core.cache.backends.redis.RedisCache` or a
subclass) as the app's cache, and `COMPETITION_VERSION_WATCH` on (the default); with any other
cache, versions are read on every request, as before."""

import contextlib
import logging
import os
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from .. import conf

logger = logging.getLogger(__name__)

CHANNEL = "competition:changed"
TRUST_SECONDS = 1.0
RETRY_SECONDS = 1.0
# How long the thread waits for a message before looking again (also how quickly it stops).
POLL_SECONDS = 1.0
# Any announcement that names no competition makes the process forget every version.
EVERY_COMPETITION = b"*"

_watch = None
_watch_lock = threading.Lock()


def channel(cache):
    return cache.make_key(CHANNEL)


def announce(cache, competition_id):
    """Tell every process that the competition's version changed (after the change is made)."""
    if conf.get("VERSION_WATCH") and isinstance(cache, RedisCache):
        cache._cache.get_client(write=True).publish(channel(cache), str(competition_id))
    watch = current()
    if watch is not None:
        watch.forget(competition_id)


def current():
    """This process's watch, started on first use (and again in a forked child, where the
    parent's thread does not run), or None when versions are not watched."""
    global _watch
    watch = _watch
    if watch is not None and watch.pid == os.getpid() and watch.alias == conf.get("CACHE_ALIAS"):
        return watch
    alias = conf.get("CACHE_ALIAS")
    if not conf.get("VERSION_WATCH") or not isinstance(caches[alias], RedisCache):
        return None
    with _watch_lock:
        if _watch is None or _watch.pid != os.getpid() or _watch.alias != alias:
            if _watch is not None and _watch.pid == os.getpid():
                _watch.stop()
            _watch = VersionWatch(alias)
            _watch.start()
        return _watch


def stop_watching():
    """Stop this process's watch (it starts again on the next use), e.g. when the cache is
    replaced."""
    global _watch
    with _watch_lock:
        watch, _watch = _watch, None
    if watch is not None and watch.pid == os.getpid():
        watch.stop()


class VersionWatch:
    def __init__(self, alias):
        self.alias = alias
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.known = {}
        self.generation = 0
        self.subscribed = False
        self.failing = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="competition-version-watch", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self, timeout=5):
        self.stopping.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def recall(self, competition_id):
        """(version, floor) of the competition, if remembered and still trusted, else None."""
        known = self.known.get(competition_id)
        if known is None or time.monotonic() - known[2] > TRUST_SECONDS:
            return None
        return known[0], known[1]

    def reading(self):
        """What to pass to `remember` about a read of Redis starting now."""
        return self.generation, time.monotonic()

    def remember(self, competition_id, version, floor, reading):
        generation, read_at = reading
        with self.lock:
            if self.subscribed and generation == self.generation:
                self.known[competition_id] = (version, floor, read_at)

    def forget(self, competition_id=None):
        with self.lock:
            self.generation += 1
            if competition_id is None:
                self.known.clear()
            else:
                self.known.pop(competition_id, None)

    def lost(self):
        with self.lock:
            self.subscribed = False
            self.generation += 1
            self.known.clear()

    def run(self):
        while not self.stopping.is_set():
            pubsub = None
            try:
                cache = caches[self.alias]
                # The primary, where announcements are published.
                pubsub = cache._cache.get_client(write=True).pubsub()
                pubsub.subscribe(channel(cache))
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None:
                        self.receive(message)
            except Exception as error:  # noqa: BLE001 (any failure: forget, and subscribe again)
                # Said once until subscribed again, not every second while Redis is away.
                log = logger.debug if self.failing else logger.warning
                log("No subscription to cache version changes (%s); reading versions from the cache.", error)
                self.failing = True
            finally:
                self.lost()
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        pubsub.close()
            self.stopping.wait(RETRY_SECONDS)

    def receive(self, message):
        kind = message["type"]
        if kind == "subscribe":
            with self.lock:
                self.subscribed = True
                self.generation += 1
                self.known.clear()
            if self.failing:
                logger.warning("Subscribed to cache version changes again.")
                self.failing = False
        elif kind == "message":
            data = message["data"]
            try:
                competition_id = None if data == EVERY_COMPETITION else int(data)
            except (TypeError, ValueError):
                competition_id = None
            self.forget(competition_id)
        elif kind == "unsubscribe":
            self.lost()
