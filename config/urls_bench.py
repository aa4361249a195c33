"""The site's URLs plus a bare Django view, the yardstick of the serving benchmark
(competition.bench.serving); used by config.settings.bench only."""

from django.http import HttpResponse
from django.urls import path

from .urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
