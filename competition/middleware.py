"""Response headers the competition app adds around Wagtail's views."""

from django.utils.http import content_disposition_header

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
