"""Media files in development, without making evidence public.

Wagtail's project template serves all of MEDIA_ROOT under DEBUG
(`urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)`). Evidence files are
Wagtail documents under MEDIA_ROOT/documents/, so that route lets anyone who guesses a file name
download evidence that was never accepted, past the checks of Wagtail's document view. A site uses
`media_urlpatterns()` instead: image files only, as a web server should serve them in production
(docs/deployment.md). The system check `competition.W006` warns when a route serves the documents.
"""

import posixpath
import re

from django.conf import settings
from django.http import Http404
from django.urls import re_path
from django.views.static import serve

# Where Wagtail keeps image files and their renditions under MEDIA_ROOT.
IMAGE_FOLDERS = ("images/", "original_images/")


def serve_media_image(request, path):
    """An image file of MEDIA_ROOT; anything else (documents, pending import files) is a 404."""
    path = posixpath.normpath(path).lstrip("/")
    if not path.startswith(IMAGE_FOLDERS):
        raise Http404
    return serve(request, path, document_root=settings.MEDIA_ROOT)


def media_urlpatterns():
    """URL patterns serving MEDIA_URL's images under DEBUG (none otherwise, or when MEDIA_URL is
    another server's)."""
    prefix = settings.MEDIA_URL or ""
    if not settings.DEBUG or not prefix.startswith("/") or prefix == "/":
        return []
    return [re_path(rf"^{re.escape(prefix.lstrip('/'))}(?P<path>.+)$", serve_media_image)]
