"""Settings for the test suite: fast hashing, in-memory cache, media in a temporary folder."""

import tempfile

from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="competition-test-media-")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Tests that need the search index build it themselves; page saves stay fast.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}}
