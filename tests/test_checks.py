"""The system checks that tell a host site what its settings get wrong (issue 18): a cache each
process keeps for itself leaves boards stale, a media route hands out unaccepted evidence; and
the public response cache stays out of a developer's way under DEBUG."""

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.http import Http404
from django.urls import re_path
from django.views.static import serve

from competition import conf
from competition.checks import check_evidence_not_served_as_media, check_shared_cache
from competition.media import media_urlpatterns, serve_media_image

REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}


class LocalSubclass(LocMemCache):
    pass


def ids(messages):
    return [message.id for message in messages]


@pytest.mark.parametrize(
    ("caches", "alias", "expected"),
    [
        ({"default": LOCMEM}, "default", ["competition.W004"]),
        ({"default": DUMMY}, "default", ["competition.W005"]),
        ({"default": REDIS}, "default", []),
        ({"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}}, "default", []),
        # The app's own alias is the one that counts, not the site's default.
        ({"default": LOCMEM, "boards": REDIS}, "boards", []),
        ({"default": REDIS, "boards": LOCMEM}, "boards", ["competition.W004"]),
        ({"default": REDIS}, "boards", ["competition.E001"]),
    ],
)
def test_the_cache_of_the_boards_must_be_shared_by_every_process(settings, caches, alias, expected):
    settings.CACHES = caches
    settings.COMPETITION_CACHE_ALIAS = alias
    assert ids(check_shared_cache(None)) == expected


def test_a_subclass_of_the_local_memory_cache_is_still_per_process(settings):
    settings.CACHES = {"default": {"BACKEND": "tests.test_checks.LocalSubclass"}}
    assert ids(check_shared_cache(None)) == ["competition.W004"]


def test_the_warning_shows_in_manage_py_check(settings, capsys):
    settings.CACHES = {"default": LOCMEM}
    settings.SILENCED_SYSTEM_CHECKS = []
    call_command("check")
    assert "competition.W004" in capsys.readouterr().err


class URLConf:
    """A URLconf module's stand-in (hashable, as Django's resolver cache needs)."""

    def __init__(self, urlpatterns):
        self.urlpatterns = urlpatterns


def wagtail_start_urls(media_root):
    """What Wagtail's project template adds under DEBUG: `static(settings.MEDIA_URL, document_root=...)`."""
    return URLConf([re_path(r"^media/(?P<path>.*)$", serve, {"document_root": media_root})])


def test_a_media_route_serving_the_documents_is_warned_about(settings, tmp_path):
    settings.MEDIA_URL = "/media/"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.ROOT_URLCONF = wagtail_start_urls(str(tmp_path))
    assert ids(check_evidence_not_served_as_media(None)) == ["competition.W006"]


def test_what_the_check_leaves_alone(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEDIA_URL = "/media/"
    # The images-only route of competition.media.
    settings.DEBUG = True
    settings.ROOT_URLCONF = URLConf(media_urlpatterns())
    assert ids(check_evidence_not_served_as_media(None)) == []
    # A static route over another folder than MEDIA_ROOT.
    other = tmp_path / "other"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ROOT_URLCONF = wagtail_start_urls(str(other))
    assert ids(check_evidence_not_served_as_media(None)) == []
    # Media on another server: this site's URLs cannot tell.
    settings.MEDIA_URL = "https://media.example.org/"
    assert ids(check_evidence_not_served_as_media(None)) == []


def test_the_site_under_test_serves_no_evidence_as_media():
    assert check_evidence_not_served_as_media(None) == []


def test_media_urlpatterns_serve_images_and_never_documents(db, settings, tmp_path, rf):
    # (db: closing a response signals request_finished, which Django 5.2.0 answers with the database.)
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "evidence.pdf").write_bytes(b"%PDF-1.4")
    response = serve_media_image(rf.get("/media/images/logo.png"), "images/logo.png")
    assert (response.status_code, b"".join(response.streaming_content)) == (200, b"\x89PNG\r\n\x1a\n")
    response.close()
    for path in ("documents/evidence.pdf", "images/../documents/evidence.pdf", "/documents/evidence.pdf"):
        with pytest.raises(Http404):
            serve_media_image(rf.get("/media/" + path), path)
    settings.DEBUG = False
    assert media_urlpatterns() == []
    settings.DEBUG = True
    [pattern] = media_urlpatterns()
    assert pattern.resolve("media/images/logo.png").kwargs == {"path": "images/logo.png"}


@pytest.mark.parametrize(("debug", "expected"), [(True, False), (False, True)])
def test_the_response_cache_is_off_under_debug_unless_asked_for(settings, debug, expected):
    del settings.COMPETITION_RESPONSE_CACHE
    settings.DEBUG = debug
    assert conf.get("RESPONSE_CACHE") is expected
    settings.COMPETITION_RESPONSE_CACHE = True
    assert conf.get("RESPONSE_CACHE") is True


def test_a_setting_read_once_is_read_again_after_it_changes(settings):
    """competition.conf remembers each setting it read (run P); any change of settings (tests'
    overrides) makes it read them again, defaults and derived values included."""
    from competition import conf

    assert conf.get("RANKING_PER_PAGE") == 50
    settings.COMPETITION_RANKING_PER_PAGE = 7
    assert conf.get("RANKING_PER_PAGE") == 7
    settings.DEBUG = False
    settings.COMPETITION_RESPONSE_CACHE = None
    assert conf.get("RESPONSE_CACHE") is True
    settings.DEBUG = True
    assert conf.get("RESPONSE_CACHE") is False
    del settings.COMPETITION_RANKING_PER_PAGE
    assert conf.get("RANKING_PER_PAGE") == 50
