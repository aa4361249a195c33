"""Admin screens of the competition app: snippet viewsets grouped under one menu."""

from functools import wraps

import django_filters
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
    SnippetChosenMultipleView,
    SnippetChosenView,
)
from wagtail.snippets.views.snippets import EditView, IndexView, InspectView, SnippetViewSet, SnippetViewSetGroup

from . import permissions
from .domain import evidence
from .forms import SubmissionForm
from .models import Adjustment, Agency, AgencyMembership, CompetitionPage, Juror, Submission
from .models.evidence import STATE_FIELDS
from .spreadsheets import neutralise

# What each URL of the submission viewset does to the submission named in it.
URL_ACTIONS = {
    "edit": "change",
    "revisions_revert": "change",
    "preview_on_edit": "change",
    "delete": "delete",
    "submit": "submit",
    "decide": "view",  # the decision itself is checked by the domain action, with a message
}


def scoped_submission_view(view, url_name):
    """Every URL with a submission in it loads that submission through the user's scope: a
    submission the user may not see is a 404, an action they may not take a 403. Wagtail's
    generic views check model-wide permissions only."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if "pk" in kwargs:
            queryset = Submission.objects.filter(permissions.visible_submissions_filter(request.user))
            submission = queryset.select_related("line__commitment").filter(pk=unquote(str(kwargs["pk"]))).first()
            if submission is None:
                raise Http404
            action = URL_ACTIONS.get(url_name, "view")
            if not permissions.can(request.user, action, submission):
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def chooser_guard(view):
    """Only editors, managers and superusers open the submission chooser at all."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        from .permission_policies import SubmissionPermissionPolicy

        if not SubmissionPermissionPolicy(Submission).user_has_permission(request.user, "view"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class ScopedChooserMixin:
    """The submission chooser lists and returns only what the user may see."""

    def get_object_list(self):
        return Submission.objects.filter(permissions.visible_submissions_filter(self.request.user))


class SubmissionChooseView(ScopedChooserMixin, ChooseView):
    pass


class SubmissionChooseResultsView(ScopedChooserMixin, ChooseResultsView):
    pass


class SubmissionChosenView(SnippetChosenView):
    def get_object(self, pk):
        return Submission.objects.filter(permissions.visible_submissions_filter(self.request.user)).get(pk=pk)


class SubmissionChosenMultipleView(SnippetChosenMultipleView):
    def get_objects(self, pks):
        return Submission.objects.filter(permissions.visible_submissions_filter(self.request.user), pk__in=pks)


class SubmissionChooserViewSet(SnippetChooserViewSet):
    choose_view_class = SubmissionChooseView
    choose_results_view_class = SubmissionChooseResultsView
    chosen_view_class = SubmissionChosenView
    chosen_multiple_view_class = SubmissionChosenMultipleView

    def get_urlpatterns(self):
        # Evidence is entered in its own form, never created inside a chooser.
        patterns = [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]
        for pattern in patterns:
            pattern.callback = chooser_guard(pattern.callback)
        return patterns


class GuardedSaveMixin:
    """Saving the edit form never undoes what happened to the submission since it was opened.

    The submission's row is locked while the form is saved. If it was submitted or decided in
    the meantime it cannot change any more; if someone else saved it in the meantime (a newer
    revision than the one the form was loaded from), the form is shown again with the user's
    input and a warning, and saving it once more overwrites deliberately. The state fields
    (status, who submitted or decided and when, the decision note) are always taken from the
    database, never from the form's possibly stale copy, so a revert cannot change them either.
    """

    def form_valid(self, form):
        with transaction.atomic():
            current = Submission.objects.select_for_update(of=("self",)).filter(pk=self.object.pk).first()
            if current is None:
                raise Http404
            if not current.is_editable:
                messages.error(
                    self.request,
                    _("This submission was %(status)s while you were editing it, so it can no longer change.")
                    % {"status": current.get_status_display().lower()},
                )
                return redirect("wagtailsnippets_competition_submission:inspect", current.pk)
            loaded = self.request.POST.get("loaded_revision_id")
            if loaded and loaded != str(current.latest_revision_id):
                # Shown again with the newer revision as the loaded one: a second save is a
                # deliberate overwrite.
                self.object.latest_revision_id = current.latest_revision_id
                messages.error(
                    self.request,
                    _(
                        "Someone else saved this submission while you were editing it. Your changes are "
                        "not saved yet: compare them with the history, then save again to keep yours."
                    ),
                )
                return self.render_to_response(self.get_context_data(form=form))
            for name in STATE_FIELDS:
                setattr(form.instance, name, getattr(current, name))
            return super().form_valid(form)


class SubmissionEditView(GuardedSaveMixin, EditView):
    """The edit form (Wagtail derives the revert view from it, so reverts are guarded too)."""


class SafeExportIndexView(IndexView):
    """Listings whose CSV export never starts a cell with a formula (Wagtail already keeps such
    XLSX cells as text)."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise(value) if export_format == self.FORMAT_CSV else value


class SubmissionInspectView(InspectView):
    template_name = "competition/admin/submission_inspect.html"
    # Labels of the fields that have no verbose name (adding one needs a migration).
    field_labels = {"created_by": _("created by"), "submitted_by": _("submitted by"), "decided_by": _("decided by")}

    def get_field_label(self, field_name, field):
        if field_name in self.field_labels:
            return capfirst(self.field_labels[field_name])
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        return "—" if value is None else value

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        submission = self.object
        user = self.request.user
        context.update(
            {
                "submission": submission,
                "attachments": submission.attachments.select_related("document"),
                "links": submission.links.all(),
                "can_submit": permissions.can_submit_submission(user, submission),
                "can_decide": permissions.can_decide_submission(user, submission),
                "can_change": permissions.can_change_submission(user, submission),
                "submit_url": self.viewset_url("submit", submission),
                "decide_url": self.viewset_url("decide", submission),
            }
        )
        return context

    def viewset_url(self, name, submission):
        from django.urls import reverse

        return reverse(f"wagtailsnippets_competition_submission:{name}", args=[submission.pk])


class SubmissionFilterSet(WagtailFilterSet):
    # Named as before (the query parameter stays), labelled in the domain's word.
    line__commitment__competition = django_filters.ModelChoiceFilter(
        label=_("Competition"), queryset=CompetitionPage.objects.order_by("title")
    )

    class Meta:
        model = Submission
        fields = ["status", "line__commitment__competition"]


class SubmissionViewSet(SnippetViewSet):
    index_view_class = SafeExportIndexView
    model = Submission
    icon = "doc-full-inverse"
    menu_label = _("Submissions")
    list_display = ["line", "reported_on", "value", "status", "updated_at"]
    filterset_class = SubmissionFilterSet
    list_export = ["line", "reported_on", "value", "status", "narrative", "decision_note"]
    search_fields = [
        "narrative",
        "line__commitment__agency__code",
        "line__commitment__agency__name",
        "line__target__code",
    ]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = SubmissionInspectView
    edit_view_class = SubmissionEditView
    chooser_viewset_class = SubmissionChooserViewSet
    ordering = ["-updated_at"]
    edit_handler = ObjectList(
        [
            FieldPanel("line"),
            FieldRowPanel([FieldPanel("reported_on"), FieldPanel("value")]),
            FieldPanel("narrative"),
            FieldPanel("new_attachments"),
            FieldPanel("remove_attachments"),
            InlinePanel("links", label=_("Links")),
        ],
        base_form_class=SubmissionForm,
    )

    def get_queryset(self, request):
        return Submission.objects.filter(permissions.visible_submissions_filter(request.user)).select_related(
            "line__commitment__agency", "line__commitment__competition", "line__target"
        )

    def get_urlpatterns(self):
        patterns = super().get_urlpatterns() + [
            path("submit/<str:pk>/", require_POST(self.submit_view), name="submit"),
            path("decide/<str:pk>/", require_POST(self.decide_view), name="decide"),
        ]
        for pattern in patterns:
            pattern.callback = scoped_submission_view(pattern.callback, pattern.name)
        return patterns

    def submit_view(self, request, pk):
        submission = get_object_or_404(Submission, pk=unquote(pk))
        try:
            evidence.submit(submission, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Submitted: the managers will review it."))
        return redirect("wagtailsnippets_competition_submission:inspect", submission.pk)

    def decide_view(self, request, pk):
        submission = get_object_or_404(Submission, pk=unquote(pk))
        try:
            evidence.decide(submission, request.user, request.POST.get("decision", ""), request.POST.get("note", ""))
        except PermissionDenied:
            messages.error(request, _("You cannot decide on this submission now."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Decision recorded."))
        return redirect("wagtailsnippets_competition_submission:inspect", submission.pk)


class AgencyViewSet(SnippetViewSet):
    index_view_class = SafeExportIndexView
    model = Agency
    icon = "group"
    menu_label = _("Agencies")
    list_display = ["code", "name", "short_name", "parent", "level"]
    list_filter = ["level"]
    list_export = ["code", "name", "short_name", "parent", "level"]
    search_fields = ["code", "name", "short_name"]
    search_backend_name = None
    ordering = ["code"]

    def get_queryset(self, request):
        return Agency.objects.select_related("parent")


class AgencyMembershipViewSet(SnippetViewSet):
    model = AgencyMembership
    icon = "user"
    menu_label = _("Agency editors")
    list_display = ["user", "agency"]
    search_fields = ["user__username", "agency__code", "agency__name"]
    search_backend_name = None

    def get_queryset(self, request):
        return AgencyMembership.objects.select_related("user", "agency")


class JurorViewSet(SnippetViewSet):
    model = Juror
    icon = "crosshairs"
    menu_label = _("Jurors")
    list_display = ["user", "competition", "agency"]
    list_filter = ["competition"]
    search_fields = ["user__username", "agency__code"]
    search_backend_name = None

    def get_queryset(self, request):
        return Juror.objects.select_related("user", "competition", "agency")


class AdjustmentViewSet(SnippetViewSet):
    index_view_class = SafeExportIndexView
    model = Adjustment
    icon = "plus-inverse"
    menu_label = _("Adjustments")
    list_display = ["agency", "points", "reason", "competition"]
    list_filter = ["competition"]
    list_export = ["competition", "agency", "points", "reason"]
    search_fields = ["reason", "agency__code", "agency__name"]
    search_backend_name = None

    def get_queryset(self, request):
        return Adjustment.objects.select_related("agency", "competition")


class CompetitionViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Competitions")
    menu_icon = "trophy"
    menu_order = 200
    items = (SubmissionViewSet, AgencyViewSet, AgencyMembershipViewSet, JurorViewSet, AdjustmentViewSet)
