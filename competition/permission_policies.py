"""The permission policies of the competition's snippets: Wagtail's snippet views, bulk actions
and listings ask them, and they answer from `competition.permissions` per object."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from wagtail.documents import get_document_model, get_document_model_string
from wagtail.permission_policies.base import BaseDjangoAuthPermissionPolicy, ModelPermissionPolicy
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy

from . import permissions
from .domain import attachments


class SubmissionPermissionPolicy(BaseDjangoAuthPermissionPolicy):
    def user_has_permission(self, user, action):
        if not permissions._active(user):
            return False
        if user.is_superuser:
            return True
        if action == "add":
            return permissions.is_editor(user)
        # Model-wide, managers may reach the generic views (history, revisions); what they may
        # do to each submission is decided per object by `competition.permissions`.
        if action in ("change", "delete", "view", "choose"):
            return permissions.is_editor(user) or permissions.is_manager(user)
        return False

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions):
        from .models import AgencyMembership

        editors = AgencyMembership.objects.values("user_id")
        return get_user_model().objects.filter(Q(is_superuser=True) | Q(pk__in=editors), is_active=True)

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "choose":
            action = "view"
        return permissions.can(user, action, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        from .models import Submission

        queryset = Submission.objects.filter(permissions.visible_submissions_filter(user))
        if set(actions) <= {"change", "submit"}:
            queryset = queryset.filter(status__in=permissions.EDITABLE, line__commitment__competition__closed=False)
        return queryset

    def users_with_any_permission_for_instance(self, actions, instance):
        from .models import AgencyMembership

        agency_id = instance.line.commitment.agency_id
        editors = AgencyMembership.objects.filter(agency_id=agency_id).values("user_id")
        return get_user_model().objects.filter(Q(is_superuser=True) | Q(pk__in=editors), is_active=True)


class ScopedModelPermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, and on top of them a scope per user: a Q (from
    `competition.permissions`) selecting the instances the user may act on. Actions listed in
    `unscoped_actions` need the model permission only."""

    def __init__(self, model, scope, unscoped_actions=(), frozen=None):
        super().__init__(model)
        self.scope = scope
        self.unscoped_actions = frozenset(unscoped_actions)
        # A Q selecting the instances nobody may change or delete (those of a competition whose
        # results are published), or None.
        self.frozen = frozen

    def in_scope(self, user, instance):
        return self.model._default_manager.filter(self.scope(user), pk=instance.pk).exists()

    def is_frozen(self, instance):
        return self.frozen is not None and self.model._default_manager.filter(self.frozen, pk=instance.pk).exists()

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action in ("change", "delete") and self.is_frozen(instance):
            return False
        return action in self.unscoped_actions or self.in_scope(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        queryset = super().instances_user_has_any_permission_for(user, actions)
        if self.frozen is not None and set(actions) <= {"change", "delete"}:
            queryset = queryset.exclude(self.frozen)
        if any(action in self.unscoped_actions and self.user_has_permission(user, action) for action in actions):
            return queryset
        return queryset.filter(self.scope(user))


def scoped_policies():
    """The policies of the competition's snippets other than submissions, by model."""
    from .models import Adjustment, Agency, AgencyMembership, DeclaredConflict, FeedToken, Juror, ReviewPanel

    return {
        Agency: ScopedModelPermissionPolicy(Agency, permissions.agency_scope, unscoped_actions=("view", "add")),
        AgencyMembership: ScopedModelPermissionPolicy(
            AgencyMembership, lambda user: permissions.agency_scope(user, "agency__")
        ),
        Juror: ScopedModelPermissionPolicy(Juror, permissions.competition_scope),
        Adjustment: ScopedModelPermissionPolicy(
            Adjustment, permissions.competition_scope, frozen=Q(competition__closed=True)
        ),
        # Data feed tokens: the competition's managers issue ("add"), revoke ("delete") and list them.
        FeedToken: ScopedModelPermissionPolicy(FeedToken, permissions.competition_scope),
        ReviewPanel: ScopedModelPermissionPolicy(
            ReviewPanel, permissions.competition_scope, frozen=Q(competition__closed=True)
        ),
        DeclaredConflict: ScopedModelPermissionPolicy(
            DeclaredConflict, lambda user: permissions.competition_scope(user, "juror__")
        ),
    }


class DocumentPermissionPolicy(CollectionOwnershipPermissionPolicy):
    """Wagtail's document policy (collection permissions, ownership), with evidence taken out of
    it for everyone but active superusers: collection permissions, whether inherited from an
    ancestor collection (Wagtail's default "Editors" and "Moderators" groups hold add, change
    and choose on the root collection) or granted on the Evidence collections themselves, give
    no action on an evidence file (`attachments.evidence_documents_filter`) and no upload into
    the Evidence collections. Every document screen asks this policy (the library and its
    search, edit and file replacement, delete, usage, the chooser, the bulk actions, the
    multiple upload, the admin API through `competition.admin_api.choosable`); downloads are
    decided by `attachments.can_download`. Other documents keep Wagtail's rules."""

    def __init__(self):
        super().__init__(
            get_document_model_string(), auth_model="wagtaildocs.Document", owner_field_name="uploaded_by_user"
        )

    @staticmethod
    def _unrestricted(user):
        return user.is_active and user.is_superuser

    def user_has_permission(self, user, action):
        # Model-wide: only if some collection outside the Evidence ones allows it, so that no
        # screen opens for a user whose permissions reach nothing but evidence.
        if not super().user_has_permission(user, action):
            return False
        return self._unrestricted(user) or self.collections_user_has_any_permission_for(user, [action]).exists()

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if not self._unrestricted(user) and attachments.is_evidence_document(instance):
            return False
        if "delete" in actions and self._attached(instance):
            # A file a submission holds or held is never deleted, not even by a superuser (the
            # database refuses it: its delete screens ended in a server error).
            actions = [action for action in actions if action != "delete"]
            if not actions:
                return False
        return super().user_has_any_permission_for_instance(user, actions, instance)

    @staticmethod
    def _attached(instance):
        return (
            instance.pk is not None
            and get_document_model().objects.filter(attachments.attached_documents_filter(), pk=instance.pk).exists()
        )

    def instances_user_has_any_permission_for(self, user, actions):
        queryset = super().instances_user_has_any_permission_for(user, actions)
        if set(actions) == {"delete"}:
            queryset = queryset.exclude(attachments.attached_documents_filter())
        if self._unrestricted(user):
            return queryset
        return queryset.exclude(attachments.evidence_documents_filter())

    def users_with_any_permission_for_instance(self, actions, instance):
        if attachments.is_evidence_document(instance):
            return get_user_model().objects.filter(is_active=True, is_superuser=True)
        return super().users_with_any_permission_for_instance(actions, instance)

    def collections_user_has_any_permission_for(self, user, actions):
        collections = super().collections_user_has_any_permission_for(user, actions)
        if self._unrestricted(user):
            return collections
        return collections.exclude(pk__in=attachments.evidence_collections().values("pk"))
