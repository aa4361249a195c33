"""Settings for the test suite: fast hashing, in-memory cache, media in a temporary folder
(removed when the process ends)."""

import atexit
import os
import shutil
import tempfile

from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="competition-test-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Tests that need the search index build it themselves; page saves stay fast.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}}
# Other tests see every response rendered and boards computed on demand; tests/test_serving.py
# turns the public page cache and the background rebuild on.
COMPETITION_RESPONSE_CACHE = False
COMPETITION_REBUILD_BOARDS = ""
# Sign-in lockout: Django's test client signs in without a request, which django-axes refuses;
# tests/test_lockout.py turns it on and tries it for real.
AXES_ENABLED = False
# One process per test run: the per-process cache cannot go stale here (tests/test_checks.py tests
# the warning itself).
SILENCED_SYSTEM_CHECKS = ["competition.W004"]
# `make mutation` runs the same tests once per mutant: on SQLite it keeps the test database in a
# file between runs (pytest --reuse-db) instead of migrating a new one in memory every time.
if os.environ.get("COMPETITION_TEST_DB_FILE") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.environ["COMPETITION_TEST_DB_FILE"]}  # noqa: F405
