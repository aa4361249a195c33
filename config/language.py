"""The readers' language switch (the form in templates/base.html)."""

from django.http import HttpResponseForbidden
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def set_language(request):
    """Django's `set_language` (a language of LANGUAGES kept in the language cookie, then back
    to `next` when it is a URL of this site), without the CSRF token check.

    The check would put a CSRF token, and a cookie to match it, into every public page, and a
    page holding one reader's token cannot be kept whole and served to the next reader
    (`competition.middleware.PublicPageCacheMiddleware`). A forged request could only choose one
    of the site's languages for the reader, as a link could; it reads nothing and changes no
    data, account or permission. Even so, a request that the browser says comes from another
    site (the `Origin` or `Sec-Fetch-Site` header, which browsers send with every form post) is
    refused."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (
        origin is not None and origin != f"{request.scheme}://{request.get_host()}"
    ):
        return HttpResponseForbidden()
    return i18n.set_language(request)
