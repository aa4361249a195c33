from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

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
    import posixpath
    import re

    from django.contrib.staticfiles.urls import staticfiles_urlpatterns
    from django.http import Http404
    from django.urls import re_path
    from django.views.static import serve

    def serve_media_image(request, path):
        """Images only: evidence documents go through Wagtail's document view, which checks who
        may download them, and pending import files are never served. (Serving all of MEDIA_ROOT
        would let anyone who guesses a file name download unpublished evidence.)"""
        path = posixpath.normpath(path).lstrip("/")
        if not path.startswith(("images/", "original_images/")):
            raise Http404
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += [re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", serve_media_image)]

urlpatterns += [path("", include(wagtail_urls))]
