"""The package's own test settings: the competition app inside a bare Wagtail site, as a host site
would have it (docs/integration.md), with none of the demo's apps, templates, URLs or settings.

`tox` runs the package's tests with these against each supported Python, Django and Wagtail
(`make test-matrix`); tests that exercise the demo site are marked `demo` and skipped here
(tests/conftest.py)."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import dj_database_url

HERE = Path(__file__).resolve().parent

SECRET_KEY = "package-tests-only-key-never-use-in-production"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "competition",
    "wagtail.contrib.routable_page",
    "django_tables2",
    "import_export",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.locales",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
]

ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
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

# SQLite in memory unless DATABASE_URL names another database (tox passes PostgreSQL's through).
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or "sqlite://:memory:")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "package-tests"}}
# The per-process cache is right for one test process; the check that warns about it has its own tests.
SILENCED_SYSTEM_CHECKS = ["competition.W004"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# Wagtail's admin JavaScript texts in Vietnamese, as docs/integration.md (Languages) tells a site.
LOCALE_PATHS = [HERE.parent / "competition" / "locale_js"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = tempfile.mkdtemp(prefix="competition-package-static-")
MEDIA_URL = "/media/"
MEDIA_ROOT = tempfile.mkdtemp(prefix="competition-package-media-")
for folder in (STATIC_ROOT, MEDIA_ROOT):
    atexit.register(shutil.rmtree, folder, ignore_errors=True)

WAGTAIL_SITE_NAME = "Package tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_INLINE_CONTENT_TYPES = []
WAGTAILDOCS_EXTENSIONS = [
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "odt",
    "ods",
    "odp",
    "csv",
    "png",
    "jpg",
    "jpeg",
]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Django 6.1 replaces EMAIL_BACKEND with MAILERS (and warns when mail is sent without it); the test
# runner swaps in its in-memory backend either way. Earlier versions ignore the setting.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

COMPETITION_BASE_TEMPLATE = "base.html"
# As in the demo's test settings: every response rendered, boards computed on demand; the tests of
# the page cache and of the background rebuild turn them on.
COMPETITION_RESPONSE_CACHE = False
COMPETITION_REBUILD_BOARDS = ""
# As docs/integration.md asks of a host site: the app's upload handler before Django's.
FILE_UPLOAD_HANDLERS = [
    "competition.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
