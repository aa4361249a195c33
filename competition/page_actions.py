"""Wagtail's page actions outside the single page screens, where the app's page rules would
otherwise end in a server error: the page listing's bulk "Publish" and "Delete", and the admin
API's `publish` and `delete` (`/admin/api/main/pages/<id>/action/<name>/`). A refused action
changes nothing (the bulk action runs in one transaction) and says why.

- Publishing validates the page (`CommitmentPage.clean`: reported values never change hands);
  the bulk action turns the refusal into a message, the admin API into a 400 with the reason.
- Deleting asks `domain.pages.deletion_refusal` first, as the Delete screen's hook does.
- Moving needs nothing here: Wagtail asks the page's own `can_move_to` on every path."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as APIValidationError
from wagtail.admin.api.actions.create_alias import CreatePageAliasAPIAction
from wagtail.admin.api.actions.delete import DeletePageAPIAction
from wagtail.admin.api.views import PagesAdminAPIViewSet
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.pages.bulk_actions.delete import DeleteBulkAction
from wagtail.admin.views.pages.bulk_actions.publish import PublishBulkAction

from .domain.pages import deletion_refusal


class PageActionRefused(Exception):
    """One page of a bulk action refused: the whole action is rolled back and `message` shown."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def reasons(error):
    return " ".join(error.messages)


class RefusingBulkActionMixin:
    def form_valid(self, form):
        # Wagtail runs the action in a transaction: the refusal rolls back every page before it.
        try:
            return super().form_valid(form)
        except PageActionRefused as refusal:
            messages.error(self.request, refusal.message)
            # Back where the user came from, or else to the confirmation, which lists the pages.
            return redirect(get_valid_next_url_from_request(self.request) or self.request.get_full_path())


class GuardedPublishBulkAction(RefusingBulkActionMixin, PublishBulkAction):
    """The page listing's bulk "Publish": a page whose latest revision breaks a page rule is
    refused by name, and nothing is published."""

    @classmethod
    def execute_action(cls, objects, include_descendants=False, user=None, **kwargs):
        parents = children = 0
        for page in objects:
            try:
                done = super().execute_action([page], include_descendants=include_descendants, user=user, **kwargs)
            except ValidationError as error:
                raise PageActionRefused(
                    _("“%(title)s” cannot be published: %(reasons)s Nothing was published.")
                    % {"title": page.get_admin_display_title(), "reasons": reasons(error)}
                ) from error
            parents, children = parents + done[0], children + done[1]
        return parents, children


class GuardedDeleteBulkAction(RefusingBulkActionMixin, DeleteBulkAction):
    """The page listing's bulk "Delete": a page others depend on is refused with the reason the
    Delete screen gives, and nothing is deleted."""

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        for page in objects:
            refusal = deletion_refusal(page)
            if refusal:
                raise PageActionRefused(refusal + " " + _("Nothing was deleted."))
        try:
            return super().execute_action(objects, user=user, **kwargs)
        except (ProtectedError, RestrictedError) as error:  # written by someone meanwhile
            raise PageActionRefused(_("Other records still refer to these pages. Nothing was deleted.")) from error


class GuardedDeletePageAPIAction(DeletePageAPIAction):
    def execute(self, instance, data):
        self._action_from_data(instance, data).check()  # a user who may not delete learns no reason
        refusal = deletion_refusal(instance)
        if refusal:
            raise APIValidationError({"detail": refusal})
        return super().execute(instance, data)


class GuardedCreateAliasAPIAction(CreatePageAliasAPIAction):
    def execute(self, instance, data):
        from .models import CompetitionPage

        if issubclass(instance.specific_class, CompetitionPage):
            # As on the Copy screen (CompetitionCopyForm): a competition is copied, never aliased.
            raise APIValidationError({"detail": _("A competition has no aliases: copy it instead.")})
        return super().execute(instance, data)


class GuardedPagesAdminAPIViewSet(PagesAdminAPIViewSet):
    """Wagtail's pages endpoint of the admin API, its `delete` action asking the page rules and
    its `create_alias` refusing competitions."""

    actions = {
        **PagesAdminAPIViewSet.actions,
        "delete": GuardedDeletePageAPIAction,
        "create_alias": GuardedCreateAliasAPIAction,
    }
