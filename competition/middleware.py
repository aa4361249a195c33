"""Middleware of the competition app.

EvidenceDownloadMiddleware: response headers around Wagtail's document serve view, so that
evidence is always a sandboxed download.

PageChooserMiddleware: Wagtail's page chooser never names an unpublished competition to those
who may not see it.

SpreadsheetExportMiddleware: no cell of a CSV export of the Wagtail admin (the site history
report, listings, other reports) is read as a formula by a spreadsheet program.

PublicPageCacheMiddleware: whole responses of the public competition pages and open data, kept
in the cache for anonymous readers.

A view opts in by naming its competition (`mark_cacheable`); the competition page, target and
commitment pages and scoreboard.json/.csv/.xlsx do. A kept response is keyed by the URL with
its query string, the scheme and host, the language, today's date and the competition, and is
fresh while the competition's cache version (bumped on every committed change, see
`competition.signals`) is the one it was made at. A stale response is served while one process
renders its successor (stale-while-revalidate), except after an unpublication or deletion.

Never kept: anything for a request carrying a session or messages cookie or credentials (so never
for logged-in users) or a query parameter the views do not read, a request whose query the
view did not find in its one canonical form (`note_query`: `?as_of=x123`, a date outside the
period, `page=abc` are rendered, never kept), a response that sets cookies,
holds a CSRF token, changed the session, is not a 200, is private, or was built from a stale
board. A kept response is also kept gzip-compressed when that is smaller (served so to readers
who accept it) and carries an ETag of its content (304 for readers who have it). Each process
keeps the responses it serves in its memory too, and remembers the versions
(`competition.domain.versions`), so that a hit needs neither the shared cache nor the database.
Should the cache fail, requests are rendered as if there were none.

Put the page cache early in MIDDLEWARE, right after SecurityMiddleware (and WhiteNoise): a kept
response is then answered before the session, CSRF, authentication and messages middleware run,
which it needs none of, and is kept as they and LocaleMiddleware finished it (its Vary and
Content-Language headers included). It asks LocaleMiddleware for the reader's language itself.
It also works further down the list (after CsrfViewMiddleware, say), only less quickly."""

import gzip
import hashlib
import logging
import threading
import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from . import conf
from .domain.scoreboard import board_cache, cache_state, noting_stale_boards
from .validators import integer_key

logger = logging.getLogger(__name__)

MESSAGES_COOKIE = "messages"
SKIPPED_HEADERS = {"content-length", "set-cookie", "x-cache", "etag"}
CONDITIONAL_HEADERS = {"HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE"}
# Kept responses of these types are also kept compressed, and served so to readers who accept
# gzip (every browser does): a national scoreboard.json is 16.6 MB, 1.2 MB compressed. Nothing
# kept holds a secret (no CSRF token, nothing of a session), so compression reveals nothing.
COMPRESSED_TYPES = ("text/", "application/json")
MIN_COMPRESSED_SIZE = 200
MAX_ROUTES = 10_000
# The query parameters the public views read (the date of a board; the ranking's cluster, the
# table's sort and pages, django-tables2's names; the open data's group or agency). A URL with any
# other (a search, `q`) is rendered, never kept.
KEPT_QUERY_PARAMETERS = {"as_of", "cluster", "sort", "page", "per_page", "group", "agency"}
# Kept responses also stay in each process's memory (at most this many, of at most this many
# bytes in all), so that a hit needs nothing from the shared cache (see domain.versions).
MAX_LOCAL_ENTRIES = 200
MAX_LOCAL_BYTES = 64 * 1024 * 1024
local_entries = {}
local_bytes = 0
local_lock = threading.Lock()
# (host, URL path) -> competition, learnt from the views, shared by the process's threads and,
# through the cache, with the other processes: a URL's first request, which no process has yet
# answered, is neither served from the cache nor stored (its competition, whose version must be
# read before its data, is not known yet). `unrouted`: URLs of this process's requests that no
# process had learnt then (so that the cache is not asked again for each).
routes = {}
unrouted = set()


def entry_size(entry):
    _version, _status, _headers, body, compressed, _etag, _expires = entry
    return len(body) + len(compressed or b"")


def forget_in_process():
    """Empty this process's memory of routes and kept responses (the shared cache keeps them)."""
    from .domain import slices

    global local_bytes
    routes.clear()
    slices.routes.clear()
    unrouted.clear()
    with local_lock:
        local_entries.clear()
        local_bytes = 0


def locale_middleware_installed():
    """Whether MIDDLEWARE holds Django's LocaleMiddleware or a subclass of it."""
    for path in settings.MIDDLEWARE:
        try:
            if issubclass(import_string(path), LocaleMiddleware):
                return True
        except (ImportError, TypeError):
            continue
    return False


def quietly(operation, *args, **kwargs):
    """A cache write the response does not depend on: should the cache be down, the reader
    still gets the response."""
    try:
        operation(*args, **kwargs)
    except Exception:  # noqa: BLE001 (whatever the cache backend raises)
        cache_unavailable()


_last_warning = [0.0]


def cache_unavailable():
    """Log that the cache failed, at most once a minute per process."""
    now = time.monotonic()
    if now - _last_warning[0] >= 60:
        _last_warning[0] = now
        logger.warning("The cache is unavailable: public pages are rendered for every reader.", exc_info=True)


def mark_cacheable(request, competition_id):
    """Tell the cache that this request's response shows only public data of this competition
    (and whatever its pages share with every reader)."""
    request.competition_cache_id = competition_id


def mark_listing_cacheable(request):
    """Tell the cache that this request's response shows public data of several competitions
    (a listing of them, such as a site's home page) and reads no query parameter: it is kept
    until any competition changes (domain.scoreboard.LISTINGS)."""
    from .domain.scoreboard import LISTINGS

    mark_cacheable(request, LISTINGS)
    note_query(request, {})


def note_query(request, query):
    """Tell the cache the canonical form of the query parameters the view read, a dict of
    KEPT_QUERY_PARAMETERS to their one value (None: the query is invalid). A response is kept
    only when the request's query is exactly that (the order of the parameters aside)."""
    request.competition_query = query


def is_canonical(request, query):
    """Whether the request's kept parameters are `query`'s, each given once."""
    given = {name: request.GET.getlist(name) for name in KEPT_QUERY_PARAMETERS if name in request.GET}
    return given == {name: [value] for name, value in query.items()}


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Only its process_request, to choose the language as it will further in.
        self.locale = LocaleMiddleware(get_response) if locale_middleware_installed() else None

    def __call__(self, request):
        if not self.may_use_cache(request):
            response = self.get_response(request)
            if getattr(request, "competition_cache_id", None) is not None:
                # What anonymous readers get from the cache, others must not get from a proxy's.
                patch_vary_headers(response, ("Cookie",))
            return response
        cache = board_cache()
        try:
            found = self.look_up(request, cache)
        except Exception:  # noqa: BLE001 (the cache is down: serve as if there were none)
            cache_unavailable()
            return self.get_response(request)
        if isinstance(found, HttpResponse):
            return found
        route, competition_id, key, version, rendering_lock = found
        try:
            with noting_stale_boards() as stale_boards:
                response = self.get_response(request)
            if competition_id is None:
                learnt = getattr(request, "competition_cache_id", None)
                if learnt is not None and response.status_code == 200:
                    self.learn(cache, route, learnt)
                    patch_vary_headers(response, ("Cookie",))
                return response
            if getattr(request, "competition_cache_id", None) != competition_id:
                # The URL now shows something else (moved, unpublished, another competition).
                routes.pop(route, None)
                quietly(cache.delete, self.route_key(route))
                return response
            patch_vary_headers(response, ("Cookie",))
            if stale_boards:
                response["X-Cache"] = "stale"
                return response
            stored = None if key is None or not self.canonical_query(request) else self.storable(request, response)
            if stored is not None:
                timeout = conf.get("RESPONSE_CACHE_SECONDS")
                entry = (version, *stored, time.time() + timeout)
                quietly(cache.set, key, entry, timeout=timeout)
                self.keep_locally(key, entry)
                # As the next readers will get it: compressed if accepted, with its tag.
                return self.replay(request, entry, "miss")
            response["X-Cache"] = "miss"
            return response
        finally:
            if rendering_lock is not None:
                quietly(cache.delete, rendering_lock)

    def look_up(self, request, cache):
        """The kept response to serve, or what rendering needs: (route, its competition or None
        when not known yet, key, version, the rendering lock taken or None)."""
        host = request.get_host()
        route = (host, request.path)
        competition_id = routes.get(route) or self.learnt_elsewhere(cache, route)
        if competition_id is None:
            return route, None, None, None, None
        if not self.keepable_query(request):
            return route, competition_id, None, None, None
        if self.locale is not None:
            self.locale.process_request(request)
        key = self.key(request, competition_id, host)
        # The version is read before anything the response is built from.
        local = local_entries.get(key)
        if local is not None and local[-1] <= time.time():
            local = None
        version, floor, entry = cache_state(competition_id, None if local else key)
        if local is not None:
            if local[0] >= version:
                return self.replay(request, local, "hit")
            entry = cache.get(key) or local
        if entry is not None:
            # A copy newer than the version this process remembers is fresher still.
            if entry[0] >= version:
                self.keep_locally(key, entry)
                return self.replay(request, entry, "hit")
            if entry[0] >= floor:
                rendering_lock = f"{key}:rendering"
                if not cache.add(rendering_lock, 1, timeout=conf.get("COMPUTE_LOCK_SECONDS")):
                    return self.replay(request, entry, "stale")
                return route, competition_id, key, version, rendering_lock
        return route, competition_id, key, version, None

    @staticmethod
    def route_key(route):
        host, path = route
        return "competition:route:" + hashlib.sha256(f"{host}{path}".encode()).hexdigest()[:32]

    def learnt_elsewhere(self, cache, route):
        """The competition of a URL another process has learnt, or None."""
        if route in unrouted:
            return None
        competition_id = cache.get(self.route_key(route))
        if competition_id is None:
            if len(unrouted) >= MAX_ROUTES:
                unrouted.clear()
            unrouted.add(route)
        else:
            routes[route] = competition_id
        return competition_id

    def learn(self, cache, route, competition_id):
        if len(routes) >= MAX_ROUTES:
            routes.clear()
        routes[route] = competition_id
        unrouted.discard(route)
        quietly(cache.set, self.route_key(route), competition_id, timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))

    @staticmethod
    def keepable_query(request):
        """Whether the query string holds only parameters the public views read (so that made-up
        parameters cannot fill the cache with copies of the same page)."""
        return all(name in KEPT_QUERY_PARAMETERS for name in request.GET)

    @staticmethod
    def canonical_query(request):
        """Whether the view found the query in its canonical form (see `note_query`): only then
        is the response kept, so that invalid or differently written values (`?as_of=x123`,
        a date outside the period, `page=abc`) cannot fill the cache with copies."""
        query = getattr(request, "competition_query", None)
        return query is not None and is_canonical(request, query)

    @staticmethod
    def keep_locally(key, entry):
        global local_bytes
        size = entry_size(entry)
        if size > MAX_LOCAL_BYTES // 2:
            return
        with local_lock:
            replaced = local_entries.pop(key, None)
            if replaced is not None:
                local_bytes -= entry_size(replaced)
            if len(local_entries) >= MAX_LOCAL_ENTRIES or local_bytes + size > MAX_LOCAL_BYTES:
                local_entries.clear()
                local_bytes = 0
            local_entries[key] = entry
            local_bytes += size

    @staticmethod
    def may_use_cache(request):
        if request.method != "GET" or not conf.get("RESPONSE_CACHE"):
            return False
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies:
            return False
        return "HTTP_AUTHORIZATION" not in request.META

    @staticmethod
    def key(request, competition_id, host=None):
        # The parameters in a fixed order: `?page=2&sort=name` and `?sort=name&page=2` are one page.
        query = urlencode(sorted(request.GET.lists()), doseq=True)
        url = f"{request.scheme}://{host or request.get_host()}{request.path}?{query}"
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        return f"competition:response:{competition_id}:{get_language()}:{timezone.localdate().isoformat()}:{digest}"

    @staticmethod
    def storable(request, response):
        """(status, headers, body, gzip-compressed body or None, entity tag) to keep, or None if
        this response must not be kept."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        if response.status_code != 200 or response.streaming or response.cookies:
            return None
        # A CSRF token or a session change of this reader's, whose cookie a middleware further
        # out would set (when the page cache is placed after it).
        if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return None
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return None
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return None
        body = response.content
        compressed = None
        if (
            len(body) >= MIN_COMPRESSED_SIZE
            and response.get("Content-Type", "").startswith(COMPRESSED_TYPES)
            and not response.has_header("Content-Encoding")
        ):
            compressed = gzip.compress(body, compresslevel=6, mtime=0)
            if len(compressed) < len(body):
                # This response varies too: the next reader may get the compressed copy.
                patch_vary_headers(response, ("Accept-Encoding",))
            else:
                compressed = None
        headers = [(name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS]
        # The same content has the same tag in every process and at every version.
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return response.status_code, headers, body, compressed, etag

    @staticmethod
    def replay(request, entry, state):
        _version, status, headers, body, compressed, etag, _expires = entry
        if compressed is not None and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            body = compressed
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        if body is compressed:
            response["Content-Encoding"] = "gzip"
            etag = etag[:-1] + '-gzip"'
        response["Content-Length"] = str(len(body))
        response["ETag"] = etag
        if CONDITIONAL_HEADERS.intersection(request.META):
            # A reader who has this copy already gets "304 Not Modified" and no body.
            response = get_conditional_response(request, etag=etag, response=response)
        response["X-Cache"] = state
        return response


def accepts_gzip(accept_encoding):
    """Whether an Accept-Encoding header accepts gzip (named, with a quality above zero)."""
    for coding in accept_encoding.split(","):
        name, _semicolon, parameters = coding.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip"):
            continue
        for parameter in parameters.split(";"):
            attribute, _equals, value = parameter.partition("=")
            if attribute.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


# Evidence is never displayed by the browser: always a download, never sniffed as another type,
# and sandboxed with nothing allowed to load should a browser render it after all.
EVIDENCE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, no-cache",
}


class EvidenceDownloadMiddleware:
    """Make every download of an evidence document (marked by the before_serve_document hook in
    wagtail_hooks.py) an attachment with EVIDENCE_HEADERS, whatever WAGTAILDOCS_INLINE_CONTENT_TYPES
    says. Wagtail's serve view already sends nosniff and `default-src 'none'`; this adds the
    sandbox and keeps private evidence out of shared caches. Other responses pass untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        document = getattr(request, "competition_evidence", None)
        if document is not None and response.status_code in (200, 206, 304):
            if not response.get("Content-Disposition", "").startswith("attachment"):
                response["Content-Disposition"] = content_disposition_header(True, document.filename)
            for header, value in EVIDENCE_HEADERS.items():
                response[header] = value
        return response


class SpreadsheetExportMiddleware:
    """The CSV exports of Wagtail's admin views (`?export=csv`: the site history report and its
    audit log, page and snippet listings, other reports) write names and titles as they were
    entered, so an agency named `=HYPERLINK(...)` would be a formula in a spreadsheet program.
    Every cell of such an export gets the app's neutralisation (competition.spreadsheets): text
    starting like a formula is prefixed with an apostrophe. XLSX exports already keep such cells
    as text (Wagtail does), and the app's own exports are neutralised where they are written
    (neutralising twice changes nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.GET.get("export") != "csv" or not response.get("Content-Type", "").startswith("text/csv"):
            return response
        from .spreadsheets import neutralise_csv

        charset = response.charset or settings.DEFAULT_CHARSET
        if response.streaming:
            response.streaming_content = neutralise_csv(response.streaming_content, charset)
        else:
            response.content = b"".join(neutralise_csv([response.content], charset))
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


class PageChooserMiddleware:
    """Wagtail's page chooser lists pages through the `construct_page_chooser_queryset` hook
    (which hides unpublished competitions, see wagtail_hooks.py), but two of its views load the
    pages named in the URL without it: browsing into a page (its title heads the list) and
    returning chosen pages (with their titles). For those, a page that is hidden from the user
    is a 404, as if it did not exist."""

    VIEWS = {"wagtailadmin_choose_page_child", "wagtailadmin_choose_page_chosen_multiple"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.url_name not in self.VIEWS:
            return None
        if match.url_name == "wagtailadmin_choose_page_child":
            ids = [view_kwargs.get("parent_page_id")]
        else:
            ids = request.GET.getlist("id")
        ids = [integer_key(pk) for pk in ids if str(pk).isdigit()]
        if None in ids:
            # A number no database integer holds names no page (SQLite cannot even look it up).
            raise Http404
        if not ids:
            return None
        from wagtail.models import Page

        from . import permissions

        if Page.objects.filter(permissions.hidden_pages_filter(request.user), pk__in=ids).exists():
            raise Http404
        return None
