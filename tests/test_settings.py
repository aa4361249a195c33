"""Configuration from the environment (README, Configuration) and the production checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.base import cache_from_url

# The demo site's settings, serving or benchmark: run by `make test`, skipped under the package's settings.
pytestmark = pytest.mark.demo

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x7Jq-2vLp9#Rt4mZ0wK8sYb3NcVf6HgD1aEoUiPlQkWjXzTr5y",
        ALLOWED_HOSTS="competitions.example.org",
        DATABASE_URL="sqlite:////tmp/deploy-check.sqlite3",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_shared_cache_is_warned_about():
    """Without REDIS_URL the demo falls back to a per-process cache: workers would serve stale boards."""
    result = run_manage(
        "check",
        "--deploy",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x7Jq-2vLp9#Rt4mZ0wK8sYb3NcVf6HgD1aEoUiPlQkWjXzTr5y",
        ALLOWED_HOSTS="competitions.example.org",
        DATABASE_URL="sqlite:////tmp/deploy-check.sqlite3",
        REDIS_URL="",
        CACHE_URL="",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "competition.W004" in result.stderr and "competition.W006" not in result.stderr


def test_production_refuses_a_missing_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("", "django.core.cache.backends.locmem.LocMemCache"),
        ("redis://127.0.0.1:6379/1", "config.redis_cache.RedisCache"),
        ("locmem://boards", "django.core.cache.backends.locmem.LocMemCache"),
        ("dummy://", "django.core.cache.backends.dummy.DummyCache"),
    ],
)
def test_cache_url(url, backend):
    assert cache_from_url(url)["BACKEND"] == backend


def test_cache_url_refuses_unknown_schemes():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        cache_from_url("memcached://127.0.0.1")


def test_database_url_selects_postgresql():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        DATABASE_URL="postgres://user:pw@127.0.0.1:5999/db",
    )

    assert result.stdout.strip().endswith("django.db.backends.postgresql")


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x7Jq-2vLp9#Rt4mZ0wK8sYb3NcVf6HgD1aEoUiPlQkWjXzTr5y",
    "ALLOWED_HOSTS": "competitions.example.org",
    "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
}
UPLOAD_SETTINGS = (
    "DEBUG",
    "WAGTAILDOCS_SERVE_METHOD",
    "WAGTAILDOCS_EXTENSIONS",
    "WAGTAILDOCS_INLINE_CONTENT_TYPES",
    "WAGTAILDOCS_MAX_UPLOAD_SIZE",
    "DATA_UPLOAD_MAX_MEMORY_SIZE",
    "FILE_UPLOAD_PERMISSIONS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
)


def production_settings(**env):
    import json

    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {UPLOAD_SETTINGS!r}}}))"
    )
    result = run_manage("shell", "-c", code, **(PRODUCTION | env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_serves_documents_safely_and_limits_uploads():
    values = production_settings()

    assert values["DEBUG"] is False
    # Documents go through Django's view (permission hook, attachment headers), never a plain
    # redirect to the storage, and are never shown inline.
    assert values["WAGTAILDOCS_SERVE_METHOD"] == "serve_view"
    assert values["WAGTAILDOCS_INLINE_CONTENT_TYPES"] == []
    # An allowlist of office and image formats: nothing a browser would run.
    assert values["WAGTAILDOCS_EXTENSIONS"]
    assert not {"html", "htm", "xhtml", "svg", "js", "xml", "swf", "exe"} & set(values["WAGTAILDOCS_EXTENSIONS"])
    assert values["WAGTAILDOCS_MAX_UPLOAD_SIZE"] == 20 * 1024 * 1024
    assert values["WAGTAILDOCS_MAX_UPLOAD_SIZE"] < values["DATA_UPLOAD_MAX_MEMORY_SIZE"] <= 32 * 1024 * 1024
    assert values["FILE_UPLOAD_PERMISSIONS"] == 0o640
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_CONTENT_TYPE_NOSNIFF"]


def test_the_upload_limit_comes_from_the_environment():
    values = production_settings(COMPETITION_MAX_UPLOAD_SIZE=str(5 * 1024 * 1024))

    assert values["WAGTAILDOCS_MAX_UPLOAD_SIZE"] == 5 * 1024 * 1024


def test_redis_cache_is_djangos_reusing_its_client():
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    from config.redis_cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/1", {})
    client = cache._cache.get_client("key")  # redis-py connects on the first command only

    assert isinstance(cache, DjangoRedisCache)
    assert cache._cache.get_client("other", write=True) is client


def test_no_gravatar_requests():
    from django.conf import settings

    assert settings.WAGTAIL_GRAVATAR_PROVIDER_URL is None
