"""The site's URLs plus the yardsticks of the serving benchmark (bench.serving): a
bare Django view (answering 2 bytes, or as many as asked for, to compare with large responses of
the same size), and a plain Wagtail page (the site's home page routed and rendered as
`wagtail start`'s would be: Wagtail's own context, a template extending base.html, nothing of the
competitions). Used by config.settings.bench only."""

from functools import lru_cache

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from wagtail.models import Page, Site

from .urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


MAX_BARE_SIZE = 64 * 1024 * 1024


@lru_cache(maxsize=8)
def filler(size):
    return b"x" * size


def bare_of_size(request, size):
    if size > MAX_BARE_SIZE:
        raise Http404
    return HttpResponse(filler(size), content_type="application/octet-stream")


def plain_wagtail_page(request):
    site = Site.find_for_request(request)
    page, _args, _kwargs = site.root_page.localized.specific.route(request, [])
    return TemplateResponse(request, "bench/plain_page.html", Page.get_context(page, request))


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare/<int:size>/", bare_of_size),
    path("bench/wagtail/", plain_wagtail_page),
    *site_urlpatterns,
]
