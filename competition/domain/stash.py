"""Evidence files chosen on a form that was refused for another reason, kept on the server until
the form is sent again: the browser cannot put a chosen file back into a file input, so without
this the editor's file silently disappeared with the first validation error.

A kept file lives in a private folder (never under MEDIA_ROOT: evidence is served only through
the permission checks) and is named in the form by a signed token that holds its place, its name
and the user who chose it: nobody else can claim it, and a token is good for a day. Files older
than that are removed whenever a new one is kept; a file that is used is removed at once."""

import os
import tempfile
import time
import uuid

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

SALT = "competition.stash"
MAX_AGE = 24 * 60 * 60  # seconds a kept file stays usable


def storage():
    root = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or tempfile.gettempdir()
    return FileSystemStorage(location=os.path.join(root, "competition-stash"))


def keep(upload, user):
    """Keep `upload` (already checked) for `user`; returns the token naming it."""
    store = storage()
    forget_old(store)
    upload.seek(0)
    path = store.save(f"{uuid.uuid4().hex}/file", upload)
    return signing.dumps({"path": path, "name": upload.name, "user": user.pk}, salt=SALT, compress=True)


def name_of(token, user):
    """The file name a token stands for, or None when it is not (or no longer) usable."""
    try:
        return _read(token, user)["name"]
    except ValidationError:
        return None


def _read(token, user):
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(_("A file kept from your last try has expired; choose it again.")) from None
    if not isinstance(data, dict) or data.get("user") != user.pk or not storage().exists(data.get("path", "")):
        raise ValidationError(_("A file kept from your last try has expired; choose it again."))
    return data


def take(token, user):
    """The kept file as an upload (its original name), for the form to check and attach."""
    data = _read(token, user)
    store = storage()
    upload = UploadedFile(store.open(data["path"], "rb"), name=data["name"], size=store.size(data["path"]))
    upload.stash_path = data["path"]
    return upload


def discard(upload):
    """Remove a kept file once it has been attached."""
    path = getattr(upload, "stash_path", None)
    if path:
        upload.close()
        store = storage()
        store.delete(path)
        folder = os.path.dirname(store.path(path))
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)


def forget_old(store):
    """Remove kept files older than a day (their tokens have expired)."""
    if not os.path.isdir(store.location):
        return
    limit = time.time() - MAX_AGE
    for entry in os.scandir(store.location):
        if entry.is_dir() and entry.stat().st_mtime < limit:
            for child in os.scandir(entry.path):
                os.remove(child.path)
            os.rmdir(entry.path)
