"""The document library's bulk actions without evidence: Wagtail's confirmation page lists the
selected documents the user may not act on by title ("no access"), so selecting an evidence
file by id would name it to any admin user. Evidence is left out of that page for everyone but
superusers, and a selection of nothing else is a 404 (docs/security.md). Which documents a user
may act on is the document permission policy's answer
(`competition.permission_policies.DocumentPermissionPolicy`)."""

from django.http import Http404
from wagtail.documents import get_document_model
from wagtail.documents.views.bulk_actions import AddTagsBulkAction, AddToCollectionBulkAction, DeleteBulkAction

from .domain.attachments import evidence_documents_filter


class WithoutEvidenceMixin:
    def get_actionable_objects(self):
        # Asked again after the action (for the hooks): answer from the first lookup.
        if not hasattr(self, "_without_evidence"):
            self._without_evidence = self._objects_without_evidence()
        return self._without_evidence

    def _objects_without_evidence(self):
        objects, extra = super().get_actionable_objects()
        user = self.request.user
        if user.is_active and user.is_superuser:
            return objects, extra
        without_access = extra["items_with_no_access"]
        evidence = set(
            get_document_model()
            .objects.filter(evidence_documents_filter(), pk__in=[obj.pk for obj in objects + without_access])
            .values_list("pk", flat=True)
        )
        objects = [obj for obj in objects if obj.pk not in evidence]
        without_access = [obj for obj in without_access if obj.pk not in evidence]
        if not objects and not without_access:
            raise Http404
        return objects, {**extra, "items_with_no_access": without_access}


class DocumentDeleteBulkAction(WithoutEvidenceMixin, DeleteBulkAction):
    pass


class DocumentAddTagsBulkAction(WithoutEvidenceMixin, AddTagsBulkAction):
    pass


class DocumentAddToCollectionBulkAction(WithoutEvidenceMixin, AddToCollectionBulkAction):
    pass


BULK_ACTIONS = (DocumentDeleteBulkAction, DocumentAddTagsBulkAction, DocumentAddToCollectionBulkAction)
