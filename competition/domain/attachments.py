"""Evidence files: checked on upload (type, content and size), stored as Wagtail documents in
one collection per agency, and served only to those allowed to see them."""

import os
import re
import unicodedata
import zipfile

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from wagtail.documents import get_document_model
from wagtail.models import Collection

from .. import conf

# What the file's first bytes must say for each extension (CSV is text and has no signature).
ZIP_BASED = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
# A zip-based document unpacking to more than this, or holding more entries, is refused (a
# genuine report with photographs unpacks to a few times its size; a zip bomb to gigabytes).
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ENTRIES = 10_000
OLE_BASED = {"doc", "xls", "ppt"}
EVIDENCE_COLLECTION = "Evidence"
# What a browser may take for markup if it ever sniffs a file: the start of an HTML, SVG or XML
# element, a comment or a processing instruction. Downloads are sent with nosniff and a sandbox
# policy anyway; refusing such files on upload is the second line of defence. Binary formats are
# checked for the distinctive names only: compressed image data holds "<p>" by chance now and then.
_DISTINCTIVE = rb"!doctype|!--|\?xml|html|head|body|script|iframe|object|embed|svg|math|style|xsl"
MARKUP_IN_BINARY = re.compile(rb"<\s*(?:" + _DISTINCTIVE + rb")(?=[\s/>])", re.IGNORECASE)
MARKUP_IN_TEXT = re.compile(
    rb"<\s*(?:" + _DISTINCTIVE + rb"|img|title|a|b|p|br|div|font|table|h[1-6]|link|meta|base|form)(?=[\s/>])",
    re.IGNORECASE,
)


def max_upload_size():
    return getattr(settings, "WAGTAILDOCS_MAX_UPLOAD_SIZE", 20 * 1024 * 1024)


def _head(upload, size=2048):
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def check_upload(upload):
    """Refuse a file whose name, type, content or size is not allowed (ValidationError)."""
    name = upload.name or ""
    if "/" in name or "\\" in name or name.strip(". ") == "":
        raise ValidationError(
            _("The file name %(name)r is not allowed: give the file a plain name without folders.")
            % {"name": upload.name}
        )
    # Line breaks, NUL and other control or invisible formatting characters (such as the
    # right-to-left override that disguises an extension) have no place in a file name.
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ValidationError(
            _("The file name %(name)r contains control characters; rename the file.") % {"name": name}
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in conf.get("EVIDENCE_EXTENSIONS"):
        raise ValidationError(
            _("%(name)s: files of this type are not accepted; use PDF, Office or OpenDocument files, CSV, PNG or JPEG.")
            % {"name": name}
        )
    if upload.size > max_upload_size():
        raise ValidationError(too_large(name, upload.size, max_upload_size()))
    head = _head(upload)
    kind = filetype.guess(head)
    if extension == "csv":
        if kind is not None or b"\x00" in head or MARKUP_IN_TEXT.search(head):
            raise ValidationError(_("%(name)s does not look like a CSV text file.") % {"name": name})
        return
    expected = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "pdf": "pdf"}.get(extension)
    if extension in ZIP_BASED:
        ok = kind is not None and kind.extension in {"zip", extension}
    elif extension in OLE_BASED:
        ok = head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    else:
        ok = kind is not None and kind.extension == expected
    if ok and extension in {"png", "jpg", "jpeg", "pdf"} and MARKUP_IN_BINARY.search(head):
        ok = False  # a valid header followed by markup: refuse what a browser might sniff as HTML
    if not ok:
        raise ValidationError(_("%(name)s: its content does not match its extension.") % {"name": name})
    if extension in ZIP_BASED:
        check_unpacked_size(upload, name)


def too_large(name, size, limit):
    """The message for a file over the size limit, with its real size: "150.0 MB; the limit is
    20.0 MB", or "larger than the limit of 20.0 MB" when both would read the same."""
    if filesizeformat(size) == filesizeformat(limit):
        return _("%(name)s is larger than the limit of %(limit)s.") % {"name": name, "limit": filesizeformat(limit)}
    return _("%(name)s is %(size)s; the limit is %(limit)s.") % {
        "name": name,
        "size": filesizeformat(size),
        "limit": filesizeformat(limit),
    }


def check_unpacked_size(upload, name):
    """Refuse an Office or OpenDocument file (a zip archive) that would unpack to more than
    MAX_UNPACKED bytes (a zip bomb), as its directory says; only the directory is read."""
    upload.seek(0)
    try:
        entries = zipfile.ZipFile(upload).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationError(_("%(name)s: its content does not match its extension.") % {"name": name}) from None
    finally:
        upload.seek(0)
    if len(entries) > MAX_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED:
        raise ValidationError(
            _("%(name)s would unpack to more than %(limit)s; save it again or split it.")
            % {"name": name, "limit": filesizeformat(MAX_UNPACKED)}
        )


def agency_collection(agency):
    """The collection of an agency's evidence, under a shared "Evidence" collection."""
    root = Collection.get_first_root_node()
    evidence = root.get_children().filter(name=EVIDENCE_COLLECTION).first()
    if evidence is None:
        evidence = root.add_child(name=EVIDENCE_COLLECTION)
    name = f"{agency.code} {agency.name}"[:255]
    collection = evidence.get_children().filter(name=name).first()
    if collection is None:
        collection = evidence.add_child(name=name)
    return collection


def attach(submission, upload, user):
    """Store `upload` as a document in the agency's collection and attach it to `submission`."""
    from ..models import SubmissionAttachment

    agency = submission.line.commitment.agency
    document = get_document_model()(
        title=os.path.basename(upload.name), collection=agency_collection(agency), uploaded_by_user=user
    )
    document.file = upload
    document.file_size = upload.size
    document._set_document_file_metadata()
    document.save()
    return SubmissionAttachment.objects.create(submission=submission, document=document)


def evidence_collections():
    """The shared "Evidence" collection and its agencies' collections (none before the first
    upload)."""
    root = Collection.get_first_root_node()
    evidence = root.get_children().filter(name=EVIDENCE_COLLECTION).first() if root else None
    if evidence is None:
        return Collection.objects.none()
    return Collection.objects.filter(path__startswith=evidence.path)


def is_evidence_collection(collection_id):
    """Whether the collection is the shared "Evidence" collection or one of its agencies'."""
    return evidence_collections().filter(pk=collection_id).exists()


def evidence_documents_filter():
    """A Q selecting the documents that are evidence: those in the Evidence collections, and
    those ever attached to a submission wherever they sit now (`EvidenceFile`, kept for good;
    `SubmissionAttachment` as well, should a row predate it)."""
    from django.db.models import Q

    return Q(collection__in=evidence_collections()) | attached_documents_filter()


def attached_documents_filter():
    """A Q selecting the documents a submission holds or held (`EvidenceFile`, kept for good, and
    `SubmissionAttachment`): the database protects them, and nobody deletes them."""
    from django.db.models import Q

    from ..models import EvidenceFile, SubmissionAttachment

    return Q(pk__in=EvidenceFile.objects.values("document_id")) | Q(
        pk__in=SubmissionAttachment.objects.values("document_id")
    )


def is_evidence_document(document):
    """Whether `document` is evidence (see `evidence_documents_filter`)."""
    return (
        document.pk is not None
        and get_document_model().objects.filter(evidence_documents_filter(), pk=document.pk).exists()
    )


def can_download(user, document):
    """Who may download a document: True or False for evidence, None for other documents
    (Wagtail's own rules apply to them).

    Evidence is public once attached (as public) to an accepted submission. Otherwise it is for
    those who may see a submission holding it or review it (the scoring screen links the files),
    and, for good, for the editors of the agency and the managers of the competition it was
    first uploaded for (EvidenceFile): a file taken off a draft, or left by a deleted draft, is
    never public. A file in the Evidence collections whose origin is unknown is for superusers
    only."""
    from .. import permissions
    from ..enums import SubmissionStatus
    from ..models import EvidenceFile, SubmissionAttachment
    from .jury import REVIEWABLE, can_review

    active = permissions._active(user)
    attachments = SubmissionAttachment.objects.filter(document=document).select_related("submission__line__commitment")
    found = False
    for attachment in attachments:
        found = True
        submission = attachment.submission
        if submission.status == SubmissionStatus.ACCEPTED and attachment.is_public:
            return True
        if permissions.can_view_submission(user, submission):
            return True
        if active and submission.status in REVIEWABLE and can_review(user, submission):
            return True
    origin = EvidenceFile.objects.filter(document_id=document.pk).first()
    if origin is not None:
        return bool(
            active
            and (
                user.is_superuser
                or (origin.agency_id is not None and origin.agency_id in permissions.editor_agency_ids(user))
                or (origin.competition_id is not None and permissions.manages(user, origin.competition_id))
            )
        )
    if found or is_evidence_collection(document.collection_id):
        return bool(active and user.is_superuser)
    return None  # not evidence: Wagtail's own rules apply
