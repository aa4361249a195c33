"""An upload handler that stops keeping a file once it is larger than anything the app accepts.

Put it first in FILE_UPLOAD_HANDLERS (the demo's settings do). Django's own handlers keep every
byte of an upload (in memory, then in a temporary file) before any form looks at its size: a
150 MB file was written whole to disk, then refused. With this handler nothing past the limit is
kept: the rest of the file is only counted, and the form receives an empty file that carries the
real size, which it refuses with that size in its message. (The reverse proxy's request body cap,
docs/deployment.md, stops the bytes themselves.)"""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from . import conf


class OversizedUpload(UploadedFile):
    """A file that was not kept because it is too large: no content, its real size."""

    oversized = True

    def __init__(self, name, content_type, size, charset):
        super().__init__(io.BytesIO(b""), name, content_type, size, charset)


def largest_accepted_size():
    """The largest file any form of the app accepts: an evidence file or an import file."""
    return max(getattr(settings, "WAGTAILDOCS_MAX_UPLOAD_SIZE", 20 * 1024 * 1024), conf.get("MAX_IMPORT_SIZE"))


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.limit = largest_accepted_size()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.received - len(raw_data) <= self.limit:
                self.drop_what_the_next_handlers_kept()
            return None  # the handlers after this one never see it
        return raw_data

    def drop_what_the_next_handlers_kept(self):
        """Close (and so delete) the beginning of the file that Django's own handlers hold."""
        handlers = list(getattr(self.request, "upload_handlers", ()))
        for handler in handlers[handlers.index(self) + 1 :] if self in handlers else ():
            kept = getattr(handler, "file", None)
            if kept is not None and hasattr(kept, "close"):
                kept.close()

    def file_complete(self, file_size):
        if self.received > self.limit:
            return OversizedUpload(self.file_name, self.content_type, self.received, self.charset)
        return None  # kept by the next handler
