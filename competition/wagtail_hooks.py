"""Registration only: the competition app's admin menu, viewsets and page rules."""

import copy

from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem as LinkMenuItemComponent
from wagtail.snippets.models import register_snippet

from . import permissions
from .document_actions import BULK_ACTIONS
from .middleware import mark_cacheable
from .models import CommitmentPage, CompetitionPage, Submission, TargetPage
from .page_actions import GuardedDeleteBulkAction, GuardedPublishBulkAction
from .viewsets import (
    CompetitionViewSetGroup,
    FeedTokenRevokeBulkAction,
    SaveDraftMenuItem,
    SaveMenuItem,
    ScopedDeleteBulkAction,
)

register_snippet(CompetitionViewSetGroup)
# After Wagtail's own snippet deletion (order 0), which it replaces for the app's models.
hooks.register("register_bulk_action", ScopedDeleteBulkAction, order=100)
# Feed tokens are revoked, never deleted: the listing's bulk action revokes them.
hooks.register("register_bulk_action", FeedTokenRevokeBulkAction, order=101)
# The document library's bulk actions, after Wagtail's own (order 0), which they replace: their
# confirmation page never names an evidence file (competition/document_actions.py).
for document_bulk_action in BULK_ACTIONS:
    hooks.register("register_bulk_action", document_bulk_action, order=100)

# After Wagtail's own page actions (order 0), which they replace: they refuse with a reason.
hooks.register("register_bulk_action", GuardedPublishBulkAction, order=100)
hooks.register("register_bulk_action", GuardedDeleteBulkAction, order=100)


class ReviewQueueMenuItem(MenuItem):
    """The review queue, with the number of submissions waiting for the user."""

    def is_shown(self, request):
        from .domain import jury

        return jury.seats_of(request.user).exists() or permissions.is_manager(request.user)

    def render_component(self, request):
        from .domain import jury

        count = jury.queue_for(request.user).count()
        return LinkMenuItemComponent(
            self.name, f"{self.label} ({count})", self.url, icon_name=self.icon_name, attrs=self.attrs
        )


def scope_admin_api(router):
    """Replace Wagtail's document and image endpoints of the admin API with scoped ones
    (competition.admin_api), and its pages endpoint with one whose `delete` action asks the
    page rules (competition.page_actions); registered after Wagtail's own hooks."""
    from .admin_api import ScopedDocumentsAdminAPIViewSet, ScopedImagesAdminAPIViewSet
    from .page_actions import GuardedPagesAdminAPIViewSet

    router.register_endpoint("documents", ScopedDocumentsAdminAPIViewSet)
    router.register_endpoint("images", ScopedImagesAdminAPIViewSet)
    router.register_endpoint("pages", GuardedPagesAdminAPIViewSet)


hooks.register("construct_admin_api", scope_admin_api, order=100)


@hooks.register("register_admin_urls")
def register_review_urls():
    from .admin_views import DeclareConflictView, ReviewQueueView, ReviewView
    from .import_views import ConfirmImportView, ImportJobView, ImportView, export_view, template_view
    from .judging_views import CommendationsView, JudgingView, JuryBoardView, jury_board_download
    from .panel_views import JuryProgressView, ProposePanelsView

    return [
        path("competition/<int:pk>/judging/", JudgingView.as_view(), name="competition_judging"),
        path("competition/<int:pk>/jury-board/", JuryBoardView.as_view(), name="competition_jury_board"),
        path("competition/<int:pk>/commendations/", CommendationsView.as_view(), name="competition_commendations"),
        path(
            "competition/<int:pk>/jury-board.<str:file_format>",
            jury_board_download,
            name="competition_jury_board_download",
        ),
        path("review/", ReviewQueueView.as_view(), name="competition_review_queue"),
        path("review/<int:pk>/", ReviewView.as_view(), name="competition_review"),
        path("review/<int:pk>/conflict/", DeclareConflictView.as_view(), name="competition_declare_conflict"),
        path("competition/<int:pk>/jury/", JuryProgressView.as_view(), name="competition_jury_progress"),
        path("competition/<int:pk>/jury/propose/", ProposePanelsView.as_view(), name="competition_propose_panels"),
        path("competition-import/", ImportView.as_view(), name="competition_import"),
        path("competition-import/confirm/", ConfirmImportView.as_view(), name="competition_import_confirm"),
        path("competition-import/jobs/<str:job_id>/", ImportJobView.as_view(), name="competition_import_job"),
        path("competition-export/<str:kind>.<str:file_format>", export_view, name="competition_export"),
        path("competition-import/template/<str:kind>.<str:file_format>", template_view, name="competition_template"),
    ]


@hooks.register("register_admin_urls")
def register_registration_urls():
    from .registration_views import (
        RegistrationIndexView,
        RegistrationOverviewView,
        RegistrationView,
        registration_decide,
        registration_export,
    )

    return [
        path("registrations/", RegistrationIndexView.as_view(), name="competition_registrations"),
        path(
            "registrations/<int:competition>/<int:agency>/",
            RegistrationView.as_view(),
            name="competition_registration",
        ),
        path(
            "registrations/<int:competition>/<int:agency>/decide/",
            registration_decide,
            name="competition_registration_decide",
        ),
        path(
            "competition/<int:pk>/registrations/",
            RegistrationOverviewView.as_view(),
            name="competition_registration_overview",
        ),
        path(
            "competition/<int:pk>/registrations.<str:file_format>",
            registration_export,
            name="competition_registration_export",
        ),
    ]


class RegistrationMenuItem(MenuItem):
    def is_shown(self, request):
        user = request.user
        return user.is_superuser or permissions.is_editor(user) or permissions.is_manager(user)


@hooks.register("register_admin_menu_item")
def register_registration_menu_item():
    return RegistrationMenuItem(_("Registrations"), reverse("competition_registrations"), icon_name="form", order=205)


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser or permissions.is_manager(request.user)


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(_("Import and export"), reverse("competition_import"), icon_name="upload", order=220)


@hooks.register("register_admin_menu_item")
def register_review_menu_item():
    return ReviewQueueMenuItem(_("Review queue"), reverse("competition_review_queue"), icon_name="tasks", order=210)


@hooks.register("construct_snippet_action_menu")
def save_submissions_as_drafts(menu_items, request, context):
    """A submission's Save keeps it a draft: say so, beside "Submit for review"."""
    if context.get("model") is Submission and context.get("view") in ("create", "edit"):
        menu_items[:] = [
            SaveDraftMenuItem(order=item.order) if type(item) is SaveMenuItem else item for item in menu_items
        ]


@hooks.register("insert_global_admin_css")
def competition_admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("competition/admin.css"))


@hooks.register("construct_homepage_panels")
def add_competition_panels(request, panels):
    from .dashboard import panels_for

    panels.extend(panels_for(request.user))


@hooks.register("register_log_actions")
def register_submission_log_actions(actions):
    from .domain.audit import logged_models
    from .models import CompetitionLogEntry

    # The competition's own log (competition.domain.audit says who reads which entries).
    for model in logged_models():
        actions.register_model(model, CompetitionLogEntry)
    actions.register_action("competition.submit", _("Submit evidence"), _("Evidence submitted"))
    actions.register_action("competition.accept", _("Accept evidence"), _("Evidence accepted"))
    actions.register_action("competition.return", _("Return evidence"), _("Evidence returned to the agency"))
    actions.register_action("competition.reject", _("Reject evidence"), _("Evidence rejected"))
    actions.register_action("competition.score", _("Score evidence"), _("Jury score recorded"))
    actions.register_action(
        "competition.score_withdraw", _("Withdraw a score"), _("Jury score withdrawn (conflict of interest declared)")
    )
    actions.register_action(
        "competition.conflict_declare", _("Declare a conflict of interest"), _("Conflict of interest declared")
    )
    actions.register_action("competition.judging_close", _("Close judging"), _("Judging closed"))
    actions.register_action("competition.judging_reopen", _("Reopen judging"), _("Judging reopened"))
    actions.register_action("competition.award_remove", _("Take an award off"), _("Award taken off the proposal"))
    actions.register_action("competition.award_add", _("Add an award"), _("Award added to the proposal"))
    actions.register_action("competition.award_propose", _("Propose again"), _("Awards proposed again"))
    actions.register_action(
        "competition.commendation_decision", _("Record the decision"), _("Commendation decision recorded")
    )
    actions.register_action(
        "competition.registration_submit", _("Submit the registration"), _("Registration submitted")
    )
    actions.register_action(
        "competition.registration_approve", _("Approve the registration"), _("Registration approved and published")
    )
    actions.register_action(
        "competition.registration_return", _("Return the registration"), _("Registration returned to the agency")
    )
    actions.register_action(
        "competition.feed_value", _("Receive a value by data feed"), _("Value received by data feed")
    )
    actions.register_action("competition.feed_token_issue", _("Issue a feed token"), _("Feed token issued"))
    actions.register_action("competition.feed_token_revoke", _("Revoke a feed token"), _("Feed token revoked"))
    actions.register_action(
        "competition.registration_change",
        _("Change an approved registration"),
        _("Approved registration changed by a manager"),
    )


class CompetitionPageMenuItem(PageMenuItem):
    """An entry of a competition page's "More" menu for the competition's managers."""

    def is_shown(self, user):
        return self.page.specific_class is CompetitionPage and (
            user.is_superuser or permissions.manages(user, self.page.pk)
        )

    @cached_property
    def url(self):
        return reverse(self.url_name, args=[self.page.pk])


class JuryBoardMenuItem(CompetitionPageMenuItem):
    label = _("Board with the jury's points")
    icon_name = "table"
    url_name = "competition_jury_board"


class JuryProgressMenuItem(CompetitionPageMenuItem):
    label = _("Jury progress and panels")
    icon_name = "tasks"
    url_name = "competition_jury_progress"


class CommendationsMenuItem(CompetitionPageMenuItem):
    label = _("Commendations")
    icon_name = "pick"
    url_name = "competition_commendations"


class RegistrationsMenuItem(CompetitionPageMenuItem):
    label = _("Registrations")
    icon_name = "form"
    url_name = "competition_registration_overview"


class JudgingMenuItem(CompetitionPageMenuItem):
    icon_name = "lock"
    url_name = "competition_judging"

    @cached_property
    def label(self):
        page = self.page
        if isinstance(page, CompetitionPage):
            closed = page.closed
        else:
            closed = CompetitionPage.objects.filter(pk=page.pk).values_list("closed", flat=True).first()
        return _("Reopen judging…") if closed else _("Close judging…")


@hooks.register("register_page_header_buttons")
def competition_header_buttons(page, user, view_name, next_url=None):
    yield JuryBoardMenuItem(page=page, priority=80)
    yield JudgingMenuItem(page=page, priority=81)
    yield CommendationsMenuItem(page=page, priority=82)
    yield RegistrationsMenuItem(page=page, priority=83)
    yield JuryProgressMenuItem(page=page, priority=84)


@hooks.register("register_page_listing_more_buttons")
def competition_listing_buttons(page, user, next_url=None):
    yield JuryBoardMenuItem(page=page, priority=80)
    yield JudgingMenuItem(page=page, priority=81)
    yield CommendationsMenuItem(page=page, priority=82)
    yield RegistrationsMenuItem(page=page, priority=83)
    yield JuryProgressMenuItem(page=page, priority=84)


@hooks.register("before_serve_page")
def keep_public_pages_for_anonymous_readers(page, request, serve_args, serve_kwargs):
    """Competition, target and commitment pages open to everyone show only their competition's
    public data: their responses may be kept for anonymous readers (competition.middleware)."""
    specific_class = page.specific_class
    if specific_class is CompetitionPage:
        competition_id = page.pk
    elif specific_class in (TargetPage, CommitmentPage):
        competition_id = page.specific_deferred.competition_id
    else:
        return
    if not page.get_view_restrictions().exists():
        mark_cacheable(request, competition_id)


@hooks.register("construct_page_chooser_queryset")
def hide_unpublished_competitions_from_choosers(pages, request):
    """Page choosers (browse and search) never list an unpublished competition, nor a page
    below it, to those who may not see it (competition.permissions.hidden_competitions);
    PageChooserMiddleware refuses them when asked for by id."""
    return pages.exclude(permissions.hidden_pages_filter(request.user))


@hooks.register("before_serve_document")
def serve_evidence_only_to_those_allowed(document, request):
    """Evidence files are public once accepted; before that only their agency's editors and the
    competition's managers may download them. The request is marked as an evidence download so
    that EvidenceDownloadMiddleware makes the response a sandboxed attachment."""
    from .domain.attachments import can_download

    allowed = can_download(request.user, document)
    if allowed is False:
        raise PermissionDenied
    if allowed:
        request.competition_evidence = document


@hooks.register("before_move_page")
def keep_children_in_their_competition(request, page, destination, pos=None):
    """Targets and commitments belong to their competition: moving them elsewhere would detach
    their reported values and scores."""
    specific_class = page.specific_class
    if specific_class in (TargetPage, CommitmentPage) and destination.pk != page.get_parent().pk:
        raise PermissionDenied(_("Targets and commitments cannot move to another competition."))


@hooks.register("before_delete_page")
def keep_pages_others_depend_on(request, page):
    """A page whose targets carry reported values, or that other rows still refer to, cannot be
    deleted: nothing entered is lost, and the user is told why (domain.pages.deletion_refusal,
    which the page listing's bulk "Delete" and the admin API's `delete` ask too)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from .domain.pages import deletion_refusal

    refusal = deletion_refusal(page)
    if refusal:
        messages.error(request, refusal)
        return redirect("wagtailadmin_explore", page.get_parent().pk)


WHATS_NEW = "whats-new-in-wagtail-"


@hooks.register("construct_help_menu")
def whats_new_in_the_readers_language(request, menu_items):
    """Wagtail formats the label of its "What's new in Wagtail X" item when it first builds the
    help menu, once per process, in the language of that first admin request: every user after it
    read that language. Each request gets a copy of the item labelled in its own language (a copy:
    the item Wagtail keeps is shared by every request)."""
    for position, item in enumerate(menu_items):
        if item.name.startswith(WHATS_NEW):
            own = copy.copy(item)
            own.attrs = dict(item.attrs)  # rendering a dismissible item writes into its attrs
            own.label = gettext("What's new in Wagtail %(version)s") % {"version": item.name[len(WHATS_NEW) :]}
            menu_items[position] = own


@hooks.register("register_admin_viewset")
def register_child_page_viewsets():
    """Target and commitment pages' admin views (competition.page_viewsets)."""
    from .page_viewsets import commitment_page_viewset, target_page_viewset

    return [target_page_viewset, commitment_page_viewset]
