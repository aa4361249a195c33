"""Wagtail's admin API (`/admin/api/main/documents/`, `/images/`) lists only what the user may
choose: the same documents and images as the choosers and libraries, as the registered
permission policy says (for documents `competition.permission_policies.DocumentPermissionPolicy`,
which leaves evidence out for everyone but superusers). Wagtail's own endpoints list every one of
them to any admin user, evidence files of every agency included."""

from wagtail.documents import get_document_model
from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
from wagtail.images import get_image_model
from wagtail.images.api.admin.views import ImagesAdminAPIViewSet
from wagtail.permissions import policy_registry


def choosable(model, user):
    """Ids of the instances of `model` (documents, images) that `user` may choose."""
    policy = policy_registry.get_by_type(model)
    return policy.instances_user_has_any_permission_for(user, ["choose"]).values("pk")


class ScopedDocumentsAdminAPIViewSet(DocumentsAdminAPIViewSet):
    def get_queryset(self):
        return super().get_queryset().filter(pk__in=choosable(get_document_model(), self.request.user))


class ScopedImagesAdminAPIViewSet(ImagesAdminAPIViewSet):
    def get_queryset(self):
        return super().get_queryset().filter(pk__in=choosable(get_image_model(), self.request.user))
