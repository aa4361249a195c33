"""Settings shared by every environment of the demo site; everything site-specific comes from the
environment (README, Configuration) with working defaults for the demo."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from competition.conf import DEFAULTS as COMPETITION_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def cache_from_url(url):
    """A CACHES entry from CACHE_URL/REDIS_URL: redis://, rediss://, locmem://, dummy://."""
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "competition"}
    scheme = url.split(":", 1)[0].lower()
    if scheme in {"redis", "rediss"}:
        # Django's RedisCache, reusing its client (config/redis_cache.py says why).
        return {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": url}
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": url[9:] or "competition"}
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(f"Unsupported cache URL scheme {scheme!r}: use redis://, locmem:// or dummy://.")


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "competition",
    "home",
    "bench",  # the benchmark commands of docs/performance.md (not part of the package)
    "wagtail.contrib.settings",
    "wagtail.locales",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tables2",
    "import_export",
    # Background work (docs/deployment.md, "Tasks"): Django's task framework (the django-tasks
    # backport Wagtail 8 uses) and its database backend with the `db_worker` command.
    "django_tasks",
    "django_tasks_db",
    # Purging a CDN or caching proxy in front of the site (WAGTAILFRONTENDCACHE below).
    "wagtail.contrib.frontend_cache",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers kept public pages before the rest runs (see its docstring).
    "competition.middleware.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "competition.middleware.EvidenceDownloadMiddleware",
    "competition.middleware.SpreadsheetExportMiddleware",
    "competition.middleware.PageChooserMiddleware",
    # Last: turns a sign-in refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's database takes simultaneous requests (tests/test_sqlite_demo.py): every
    # transaction takes the write lock when it begins (with SQLite's default, one that has read
    # and then writes while another connection writes fails at once with "database is locked"),
    # a connection waits up to 20 s for the lock, and the WAL journal lets readers go on while
    # one connection writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL"))}

# Background work (competition/tasks.py): board rebuilds and CDN purges after a change, decision
# and reminder e-mails, large imports from the admin; Wagtail's own tasks too. TASK_BACKEND
# "immediate" runs each task at once in the process that enqueued it (development, tests, the
# demo: nothing to start); "database" keeps them in the database for `manage.py db_worker`
# (production: docs/deployment.md).
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}


def tasks_from_env(default):
    name = os.environ.get("TASK_BACKEND") or default
    if name not in TASK_BACKENDS:
        raise ImproperlyConfigured(f"TASK_BACKEND must be one of {', '.join(TASK_BACKENDS)}, not {name!r}.")
    return {"default": {"BACKEND": TASK_BACKENDS[name]}}


TASKS = tasks_from_env("immediate")

# A CDN or caching proxy in front of the site (docs/deployment.md, "A CDN in front"): every change
# that makes a board stale also purges the public URLs that show it, in a task. FRONTEND_CACHE_URL
# names a proxy that takes HTTP PURGE requests (Varnish, nginx with a purge module), e.g.
# http://cache.internal:6081; CLOUDFLARE_ZONEID with CLOUDFLARE_BEARER_TOKEN, or
# CLOUDFRONT_DISTRIBUTION_ID, use those CDNs' APIs. None set: nothing to purge.
WAGTAILFRONTENDCACHE = {}
if os.environ.get("FRONTEND_CACHE_URL"):
    WAGTAILFRONTENDCACHE["proxy"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": os.environ["FRONTEND_CACHE_URL"],
    }
if os.environ.get("CLOUDFLARE_ZONEID"):
    WAGTAILFRONTENDCACHE["cloudflare"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
        "ZONEID": os.environ["CLOUDFLARE_ZONEID"],
        "BEARER_TOKEN": os.environ.get("CLOUDFLARE_BEARER_TOKEN", ""),
    }
if os.environ.get("CLOUDFRONT_DISTRIBUTION_ID"):
    WAGTAILFRONTENDCACHE["cloudfront"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudfrontBackend",
        "DISTRIBUTION_ID": os.environ["CLOUDFRONT_DISTRIBUTION_ID"],
    }
# Pages are the same in every language (the language is a cookie, not a URL): one URL each.
WAGTAILFRONTENDCACHE_LANGUAGES = []

# Password guessing (django-axes, config/lockout.py, docs/security.md "Sign-in"): after
# LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, every sign-in form
# (/admin/login/ and /_util/login/ of private pages) refuses that user name from that address for
# LOGIN_LOCKOUT_MINUTES after the last of them, saying until when. A successful sign-in starts the
# count again; `manage.py axes_reset_username NAME` lifts a lockout.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
# By user name and address together: an office behind one address is not locked out by one of
# its users, and nobody elsewhere can lock a user out of their own office.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries while locked out do not push the time given to the user further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_ip"
# Django's own admin is not served: attempts are listed with `manage.py axes_list_attempts`.
AXES_ENABLE_ADMIN = False
# The proxies whose X-Forwarded-For is believed (as gunicorn's FORWARDED_ALLOW_IPS; "*": any).
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and Vietnamese. Readers switch with the form in templates/base.html (Django's
# set_language view without the CSRF check, config/language.py, and a cookie, so no URL moves:
# README); admin users pick their language
# in their account preferences. Page content may be translated per locale (WAGTAIL_I18N_ENABLED).
LANGUAGE_CODE = "en"
# Each language named in itself, as the switcher shows it.
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# Wagtail offers only its languages translated at 90% or more by default; its Vietnamese admin
# translation is less complete, the competition screens are complete in both.
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# The demo site's own texts; then the Vietnamese of Wagtail's admin JavaScript that the app ships
# (docs/integration.md, Languages: Django reads JavaScript catalogues only from LOCALE_PATHS).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "competition" / "locale_js"]
# Dates as "3 tháng 3 năm 2025" rather than Django's "Ngày 03 tháng 3 năm 2025" mid-sentence.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_ROOT = BASE_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or str(BASE_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_PERMISSIONS = 0o640

WAGTAIL_SITE_NAME = "Emulation competitions"
# No Gravatar: the admin would send a hash of every user's e-mail address to a third party, and
# the site must work offline.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")

# Evidence files: an allowlist of types, a size cap, and downloads through Wagtail's serve view
# (never straight from MEDIA_URL, so permissions and Content-Disposition apply).
WAGTAILDOCS_EXTENSIONS = list(COMPETITION_DEFAULTS["EVIDENCE_EXTENSIONS"])
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_MAX_UPLOAD_SIZE = int(os.environ.get("COMPETITION_MAX_UPLOAD_SIZE", 20 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A file larger than the app accepts is not kept past that size (competition/upload_handlers.py).
FILE_UPLOAD_HANDLERS = [
    "competition.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = WAGTAILDOCS_MAX_UPLOAD_SIZE + 1024 * 1024

COMPETITION_BASE_TEMPLATE = "base.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
# Evidence is always downloaded, never displayed inline by the browser.
WAGTAILDOCS_INLINE_CONTENT_TYPES = []
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "competitions@localhost")
