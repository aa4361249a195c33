from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from competition.media import media_urlpatterns
from config.health import health
from config.language import set_language

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("health/", health, name="health"),
    path("documents/", include(wagtaildocs_urls)),
    path("", include("competition.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    # Images only: evidence documents go through Wagtail's document view (competition/media.py).
    urlpatterns += staticfiles_urlpatterns() + media_urlpatterns()

urlpatterns += [path("", include(wagtail_urls))]
