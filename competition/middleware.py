"""Middleware of the competition app.

EvidenceDownloadMiddleware: response headers around Wagtail's document serve view, so that
evidence is always a sandboxed download.

PublicPageCacheMiddleware: whole responses of the public competition pages and open data, kept
in the cache for anonymous readers.

A view opts in by naming its competition (`mark_cacheable`); the competition page, target and
commitment pages and scoreboard.json/.csv/.xlsx do. A kept response is keyed by the URL with
its query string, the scheme and host, the language, today's date and the competition, and is
fresh while the competition's cache version (bumped on every committed change, see
`competition.signals`) is the one it was made at. A stale response is served while one process
renders its successor (stale-while-revalidate), except after an unpublication or deletion.

Never kept: anything for a request carrying a session or messages cookie or credentials (so never
for logged-in users), a response that sets cookies, is not a 200, is private, or was built from a
stale board. CSRF tokens are never kept: the form fields carrying one are kept with a
placeholder, and each reader gets a token of their own when the response is served.

Add the page cache to MIDDLEWARE after CsrfViewMiddleware, AuthenticationMiddleware and
MessageMiddleware."""

import hashlib
import re
import secrets

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, _unmask_cipher_token, get_token
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import get_language

from . import conf
from .domain.scoreboard import board_cache, cache_state, noting_stale_boards

CSRF_PLACEHOLDER = b"\x00competition-csrf-token\x00"
CSRF_FIELD = re.compile(rb'(<input type="hidden" name="csrfmiddlewaretoken" value=")([A-Za-z0-9]{64})(">)')
TOKEN_LIKE = re.compile(rb"[A-Za-z0-9]{64}")
MESSAGES_COOKIE = "messages"
SKIPPED_HEADERS = {"content-length", "set-cookie", "vary", "x-cache"}
MAX_ROUTES = 10_000
# Kept responses also stay in each process's memory (at most this many), so that a hit asks the
# shared cache only for the competition's version, not for the whole body again.
MAX_LOCAL_ENTRIES = 200
local_entries = {}
# (host, URL path) -> competition, learnt from the views, shared by the process's threads: the
# first request of a URL in each process is neither served from the cache nor stored (it could
# not read the competition's version before its data).
routes = {}


_CSRF_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# Random bytes at or above this are dropped, so that every character is equally likely.
_CSRF_BYTE_LIMIT = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def random_csrf_string(length=CSRF_SECRET_LENGTH):
    """A random string of CSRF characters, as Django's `get_random_string` makes, from one read
    of the system's random source instead of one per character."""
    chars = []
    while len(chars) < length:
        size = len(CSRF_ALLOWED_CHARS)
        chars += [
            CSRF_ALLOWED_CHARS[byte % size] for byte in secrets.token_bytes(2 * length) if byte < _CSRF_BYTE_LIMIT
        ]
    return "".join(chars[:length])


def csrf_token(request):
    """The reader's masked CSRF token, exactly as Django's `get_token` makes it (a secret kept in
    the CSRF cookie, masked anew for each response) but minted faster: on a kept page the tokens
    were most of the work left (64 reads of the random source per new reader)."""
    if settings.CSRF_USE_SESSIONS:
        return get_token(request)
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_csrf_string()
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_csrf_string()
    size = len(CSRF_ALLOWED_CHARS)
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_CSRF_INDEX[s] + _CSRF_INDEX[m]) % size] for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


def mark_cacheable(request, competition_id):
    """Tell the cache that this request's response shows only public data of this competition
    (and whatever its pages share with every reader)."""
    request.competition_cache_id = competition_id


def strip_csrf_tokens(body, secret):
    """`body` with every CSRF form field's token replaced by the placeholder, or None if a token
    of `secret` would remain anywhere (say, in a script) after that."""
    found = []

    def placeholder(match):
        found.append(match.group(2).decode())
        return match.group(1) + CSRF_PLACEHOLDER + match.group(3)

    stripped = CSRF_FIELD.sub(placeholder, body)
    if not found or any(_unmask_cipher_token(token) != secret for token in found):
        return None
    if any(_unmask_cipher_token(match.group().decode()) == secret for match in TOKEN_LIKE.finditer(stripped)):
        return None
    return stripped


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self.may_use_cache(request):
            return self.get_response(request)
        host = request.get_host()
        route = (host, request.path)
        competition_id = routes.get(route)
        if competition_id is None:
            response = self.get_response(request)
            learnt = getattr(request, "competition_cache_id", None)
            if learnt is not None and response.status_code == 200:
                if len(routes) >= MAX_ROUTES:
                    routes.clear()
                routes[route] = learnt
                patch_vary_headers(response, ("Cookie",))
            return response

        cache = board_cache()
        key = self.key(request, competition_id, host)
        # The version is read before anything the response is built from.
        local = local_entries.get(key)
        version, floor, entry = cache_state(competition_id, None if local else key)
        if local is not None:
            if local[0] == version:
                return self.replay(request, local, "hit")
            entry = cache.get(key) or local
        rendering_lock = None
        if entry is not None:
            if entry[0] == version:
                self.keep_locally(key, entry)
                return self.replay(request, entry, "hit")
            if entry[0] >= floor:
                rendering_lock = f"{key}:rendering"
                if not cache.add(rendering_lock, 1, timeout=conf.get("COMPUTE_LOCK_SECONDS")):
                    return self.replay(request, entry, "stale")
        try:
            with noting_stale_boards() as stale_boards:
                response = self.get_response(request)
            if getattr(request, "competition_cache_id", None) != competition_id:
                # The URL now shows something else (moved, unpublished, another competition).
                routes.pop(route, None)
                return response
            patch_vary_headers(response, ("Cookie",))
            if stale_boards:
                response["X-Cache"] = "stale"
                return response
            stored = self.storable(request, response)
            if stored is not None:
                cache.set(key, (version, *stored), timeout=conf.get("RESPONSE_CACHE_SECONDS"))
                self.keep_locally(key, (version, *stored))
            response["X-Cache"] = "miss"
            return response
        finally:
            if rendering_lock is not None:
                cache.delete(rendering_lock)

    @staticmethod
    def keep_locally(key, entry):
        if len(local_entries) >= MAX_LOCAL_ENTRIES:
            local_entries.clear()
        local_entries[key] = entry

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
        url = f"{request.scheme}://{host or request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        return f"competition:page:{competition_id}:{get_language()}:{timezone.localdate().isoformat()}:{digest}"

    @staticmethod
    def storable(request, response):
        """(status, headers, body, has CSRF placeholder) to keep, or None if this response must
        not be kept."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        if response.status_code != 200 or response.streaming or response.cookies:
            return None
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return None
        body = response.content
        has_placeholder = False
        if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            # The response holds a CSRF token (the language form of the base template, say).
            body = strip_csrf_tokens(body, request.META.get("CSRF_COOKIE"))
            if body is None:
                return None
            has_placeholder = True
        headers = [(name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS]
        return response.status_code, headers, body, has_placeholder

    @staticmethod
    def replay(request, entry, state):
        _version, status, headers, body, has_placeholder = entry
        if has_placeholder:
            body = body.replace(CSRF_PLACEHOLDER, csrf_token(request).encode())
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        patch_vary_headers(response, ("Cookie",))
        response["X-Cache"] = state
        return response


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
