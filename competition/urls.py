"""Open data and the report's PDF under each competition page's URL, each agency's record of
achievements (`agencies/<code>/`, which gives way to a page of the site at the same address) and
the address of a cluster's page that Wagtail's page routing cannot take (a code with dots).
Include these before Wagtail's own URLs, since Wagtail's page routes do not take file names with
a dot."""

from django.urls import path, re_path

from . import views
from .feed_api import api as feed_api

app_name = "competition"

urlpatterns = [
    re_path(
        r"^(?P<page_path>(?:[\w\-]+/)*)scoreboard\.(?P<file_format>json|csv|xlsx)$",
        views.scoreboard_data,
        name="scoreboard_data",
    ),
    re_path(r"^(?P<page_path>(?:[\w\-]+/)*)awards\.(?P<file_format>json|csv)$", views.awards_data, name="awards_data"),
    re_path(r"^(?P<page_path>(?:[\w\-]+/)*)report\.pdf$", views.report_pdf, name="report_pdf"),
    path("agencies/<str:code>/", views.agency_record, name="agency_record"),
    # A cluster's page, the route `clusters/<code>/` of a competition page, where the code may
    # have dots (000.00.31.H29), which Wagtail's page addresses do not take.
    re_path(
        r"^(?P<page_path>(?:[\w\-]+/)*)clusters/(?P<code>[A-Za-z0-9][A-Za-z0-9._\-]*)/$",
        views.cluster_page,
        name="cluster_page",
    ),
    # The data feed API (docs/feeds.md): agencies' systems send values; its OpenAPI schema.
    path("api/feed/", feed_api.urls),
]
