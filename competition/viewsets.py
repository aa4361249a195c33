"""Admin screens of the competition app: snippet viewsets grouped under one menu."""

from datetime import datetime
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, ProtectedError, RestrictedError, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property, classproperty
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.permissions import policy_registry
from wagtail.snippets.action_menu import SaveMenuItem
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
    SnippetChosenMultipleView,
    SnippetChosenView,
)
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    HistoryView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from . import permissions
from .collation import vietnamese_key
from .domain import audit, evidence, feed_tokens
from .domain.pages import referring_kinds
from .forms import IdChoiceFilter, SubmissionForm
from .models import (
    Adjustment,
    Agency,
    AgencyMembership,
    CompetitionPage,
    FeedToken,
    Juror,
    ReviewPanel,
    Submission,
    TargetPage,
)
from .models.evidence import STATE_FIELDS
from .panels import LineContextPanel
from .spreadsheets import neutralise
from .templatetags.competition_tags import measured, signed_points
from .validators import integer_key

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
            # A key that is not a submission's id (abc, or a number no database column holds,
            # from a mangled link) names no submission: a 404, as for an id that does not exist.
            pk = integer_key(unquote(str(kwargs["pk"])))
            if pk is None:
                raise Http404
            kwargs["pk"] = str(pk)
            queryset = Submission.objects.filter(permissions.visible_submissions_filter(request.user))
            submission = queryset.select_related("line__commitment").filter(pk=pk).first()
            if submission is None:
                raise Http404
            action = URL_ACTIONS.get(url_name, "view")
            if not permissions.can(request.user, action, submission):
                if (
                    url_name == "edit"
                    and request.method == "GET"
                    and permissions.can_view_submission(request.user, submission)
                ):
                    # Someone who may see it but not change it (submitted, decided, or judging
                    # closed) is shown it read-only, with why, rather than a bare refusal.
                    # Written now, in the user's admin language (the message is stored after the
                    # admin's language is switched back).
                    messages.info(request, str(read_only_reason(submission)))
                    return redirect("wagtailsnippets_competition_submission:inspect", submission.pk)
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def read_only_reason(submission):
    """Why a submission's edit form is not offered, in words its editor understands."""
    from .enums import SubmissionStatus

    if submission.line.commitment.competition.closed:
        return _(
            "Judging of this competition is closed, so its submissions can no longer change. "
            "It is shown here read-only."
        )
    reasons = {
        SubmissionStatus.SUBMITTED: _(
            "This submission was submitted for review, so it can no longer be edited while the managers "
            "decide on it. It is shown here read-only; if they return it, you can edit it again."
        ),
        SubmissionStatus.ACCEPTED: _(
            "This submission was accepted, so it can no longer change. It is shown here read-only; "
            "to report a newer value, add a new submission."
        ),
        SubmissionStatus.REJECTED: _(
            "This submission was rejected, so it can no longer change. It is shown here read-only; "
            "to report again, add a new submission."
        ),
    }
    return reasons.get(submission.status, _("You cannot edit this submission; it is shown here read-only."))


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


def line_label(submission):
    """A submission's line by names, as people know it ("Sài Gòn Ward · T6 Online payments"), not by codes."""
    line = submission.line
    return f"{line.commitment.agency.name} · {line.target.code} {line.target.title}"


def submission_title(submission):
    """A submission as its screens name it: the line by names, the date and the value in the
    reader's language ("Sài Gòn Ward · T6 Online payments · 31/12/2025 · 76,9")."""
    day = date_format(submission.reported_on, "SHORT_DATE_FORMAT")
    return f"{line_label(submission)} · {day} · {measured(submission.value)}"


class SubmissionTitleMixin:
    """The header and breadcrumbs name the submission by names, in the reader's language."""

    def get_page_subtitle(self):
        return submission_title(self.object)


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
                # Nothing is saved: the evidence files chosen are kept for that next save, and this
                # form (not a fresh one, which would drop them) is the one shown again.
                form.keep_chosen_files()
                self.form = form
                return self.render_to_response(self.get_context_data(form=form))
            for name in STATE_FIELDS:
                setattr(form.instance, name, getattr(current, name))
            return super().form_valid(form)


class NoAutosaveMixin:
    """Evidence is saved when its editor says so. Wagtail 8 autosaves forms of models with
    revisions every half second; on the add form an autosave creates the submission, and a click
    on Save racing it could create a second one (seen once in a browser test). An editor's
    explicit Save draft / Submit keeps what is reported unambiguous."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.autosave_enabled = False


class SaveDraftMenuItem(SaveMenuItem):
    """A submission's Save: it stays a draft until its editor submits it."""

    label = _("Save draft")
    template_name = "competition/admin/includes/save_draft.html"


class SubmitFromFormMixin:
    """ "Save draft" and "Submit for review" side by side on the form: the second saves the draft
    and then asks for confirmation (the submit URL's confirmation screen), so that nothing is
    handed to the managers by a slip of the finger."""

    SUBMIT = "action-submit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        instance = getattr(self, "object", None)
        if instance is not None and instance.pk:
            offered = permissions.can_submit_submission(user, instance)
        else:
            offered = user.is_superuser or permissions.is_editor(user)
        context["offer_submit"] = offered
        return context

    def get_success_url(self):
        if self.SUBMIT in self.request.POST and permissions.can_submit_submission(self.request.user, self.object):
            return reverse("wagtailsnippets_competition_submission:submit", args=[self.object.pk])
        return super().get_success_url()


class SavedMessageMixin:
    """The message after saving names the submission as its screens do, in the editor's
    language (Wagtail's "Submission 'A · T1 · 2025-06-30 · 55.5' created." used codes, an ISO
    date and a verb its Vietnamese catalogue lacks)."""

    saved_message = None

    def get_success_message(self, instance=None):
        return self.saved_message % {"title": submission_title(instance or self.object)}


class SubmissionCreateView(SavedMessageMixin, SubmitFromFormMixin, NoAutosaveMixin, CreateView):
    saved_message = _("Submission “%(title)s” saved as a draft.")


class SubmissionEditView(
    SavedMessageMixin, SubmissionTitleMixin, SubmitFromFormMixin, NoAutosaveMixin, GuardedSaveMixin, EditView
):
    """The edit form (Wagtail derives the revert view from it, so reverts are guarded too)."""

    saved_message = _("Submission “%(title)s” saved.")


class SafeExportIndexView(IndexView):
    """Listings whose CSV export never starts a cell with a formula (Wagtail already keeps such
    XLSX cells as text)."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise(value) if export_format == self.FORMAT_CSV else value


class SubmissionIndexView(SafeExportIndexView):
    """The submissions listed by the agency's name and the target's title, values without
    needless trailing zeros in the reader's language."""

    @cached_property
    def columns(self):
        columns = super().columns
        for column in columns:
            if column.name == "line":
                column.accessor = line_label
            elif column.name == "value":
                column.accessor = lambda submission: measured(submission.value)
        return columns


class AdjustmentIndexView(SafeExportIndexView):
    """Bonus and deduction points with their sign, without trailing zeros, in the reader's
    language ("1.0000" was listed raw)."""

    @cached_property
    def columns(self):
        columns = super().columns
        for column in columns:
            if column.name == "points":
                column.accessor = lambda adjustment: signed_points(adjustment.points)
        return columns


class SubmissionInspectView(SubmissionTitleMixin, InspectView):
    template_name = "competition/admin/submission_inspect.html"
    # Labels of the fields that have no verbose name (adding one needs a migration).
    field_labels = {"created_by": _("created by"), "submitted_by": _("submitted by"), "decided_by": _("decided by")}

    def get_field_label(self, field_name, field):
        if field_name in self.field_labels:
            return capfirst(self.field_labels[field_name])
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        if field_name == "line":
            return line_label(self.object)
        if field_name == "value":
            return measured(self.object.value)
        if field_name == "latest_revision":
            revision = self.object.latest_revision
            if revision is None:
                return "—"
            return date_format(localtime(revision.created_at), "DATETIME_FORMAT") + (
                f" · {revision.user.get_username()}" if revision.user else ""
            )
        value = super().get_field_display_value(field_name, field)
        if isinstance(value, datetime):  # in the site's time zone, as the listing shows it
            return date_format(localtime(value), "DATETIME_FORMAT")
        return "—" if value is None else value

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        submission = self.object
        user = self.request.user
        from .domain.line_context import annotate_last_accepted, earlier_values, facts

        line = annotate_last_accepted(
            type(submission.line).objects.select_related("commitment__competition", "target")
        ).get(pk=submission.line_id)
        context.update(
            {
                "submission": submission,
                "line_facts": facts(line),
                "earlier": earlier_values(submission),
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


class SubmissionHistoryView(SubmissionTitleMixin, HistoryView):
    """A submission's history, where reviewers' actions (who scored it) are shown only to the
    managers of its competition: its agency's editors never learn who scored them, neither in the
    list nor in the user filter."""

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if not audit.sees_reviewers(self.request.user, self.object):
            queryset = queryset.exclude(action__in=audit.REVIEWER_ACTIONS)
        return queryset


def filter_competitions(request):
    """The competitions offered by the listing's filter: never an unpublished one the user may
    not see."""
    user = request.user if request is not None else None
    return CompetitionPage.objects.exclude(pk__in=permissions.hidden_competitions(user).values("pk")).order_by("title")


def competition_filterset(model):
    """The filter set of a listing of `model` by its `competition`: `filter_competitions`' choices
    (Wagtail's `list_filter = ["competition"]` would offer every competition page)."""
    meta = type("Meta", (), {"model": model, "fields": ["competition"]})
    competition = IdChoiceFilter(label=_("Competition"), queryset=filter_competitions)
    return type(f"{model.__name__}FilterSet", (WagtailFilterSet,), {"competition": competition, "Meta": meta})


class SubmissionFilterSet(WagtailFilterSet):
    # Named as before (the query parameter stays), labelled in the domain's word.
    line__commitment__competition = IdChoiceFilter(
        label=_("Competition"), queryset=lambda request: filter_competitions(request)
    )

    class Meta:
        model = Submission
        fields = ["status", "source", "line__commitment__competition"]


class SubmissionViewSet(SnippetViewSet):
    index_view_class = SubmissionIndexView
    model = Submission
    icon = "doc-full-inverse"
    menu_label = _("Submissions")
    list_display = ["line", "reported_on", "value", "status", "source", "updated_at"]
    filterset_class = SubmissionFilterSet
    list_export = ["line", "reported_on", "value", "status", "source", "narrative", "decision_note"]
    search_fields = [
        "narrative",
        "line__commitment__agency__code",
        "line__commitment__agency__name",
        "line__target__code",
    ]
    search_backend_name = None
    copy_view_enabled = False
    # The table scrolls sideways on a phone (its Status column was out of reach).
    index_results_template_name = "competition/admin/index_results.html"
    inspect_view_enabled = True
    inspect_view_class = SubmissionInspectView
    add_view_class = SubmissionCreateView
    create_template_name = "competition/admin/submission_create.html"
    edit_template_name = "competition/admin/submission_edit.html"
    edit_view_class = SubmissionEditView
    history_view_class = SubmissionHistoryView
    chooser_viewset_class = SubmissionChooserViewSet
    ordering = ["-updated_at"]
    edit_handler = ObjectList(
        [
            FieldPanel("line"),
            LineContextPanel(),
            FieldRowPanel([FieldPanel("reported_on"), FieldPanel("value")]),
            FieldPanel("narrative"),
            # A structured update and the agency's own points (docs/registration.md).
            MultiFieldPanel(
                [FieldPanel("done"), FieldPanel("next_steps"), FieldPanel("obstacles")],
                heading=_("Structured update (optional)"),
            ),
            MultiFieldPanel(
                [FieldPanel("self_points"), FieldPanel("self_justification")],
                heading=_("Self-assessment (optional)"),
            ),
            FieldPanel("kept_attachments"),
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
            # Wagtail's own converter for the model's key (int): submit/abc/ is no address (404).
            path(f"submit/<{self.pk_path_converter}:pk>/", self.submit_view, name="submit"),
            path(f"decide/<{self.pk_path_converter}:pk>/", require_POST(self.decide_view), name="decide"),
        ]
        for pattern in patterns:
            pattern.callback = scoped_submission_view(pattern.callback, pattern.name)
        return patterns

    def submit_view(self, request, pk):
        """GET: the confirmation screen (what will be handed to the managers); POST: submit."""
        submission = get_object_or_404(
            Submission.objects.select_related(
                "line__commitment__agency", "line__commitment__competition", "line__target"
            ),
            pk=integer_key(unquote(pk)),
        )
        if request.method != "POST":
            return self.confirm_submit_response(request, submission)
        try:
            evidence.submit(submission, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, gettext("Submitted: the managers will review it."))
        return redirect("wagtailsnippets_competition_submission:inspect", submission.pk)

    def confirm_submit_response(self, request, submission):
        from django.template.response import TemplateResponse

        from .domain.line_context import annotate_last_accepted, facts

        line = annotate_last_accepted(
            type(submission.line).objects.select_related("commitment__competition", "target")
        ).get(pk=submission.line_id)
        title = _("Submit for review?")
        context = {
            "page_title": title,
            "header_title": title,
            "header_icon": self.icon,
            "breadcrumbs_items": [
                {"url": reverse("wagtailadmin_home"), "label": _("Home")},
                {"url": reverse(self.get_url_name("list")), "label": capfirst(self.model._meta.verbose_name_plural)},
                {
                    "url": reverse(self.get_url_name("inspect"), args=[submission.pk]),
                    "label": submission_title(submission),
                },
                {"url": "", "label": title},
            ],
            "submission": submission,
            "facts": facts(line),
            "line_label": line_label(submission),
            "attachments": submission.attachments.select_related("document"),
            "links": submission.links.all(),
            "edit_url": reverse(self.get_url_name("edit"), args=[submission.pk]),
        }
        return TemplateResponse(request, "competition/admin/submit_confirm.html", context)

    def decide_view(self, request, pk):
        submission = get_object_or_404(Submission, pk=integer_key(unquote(pk)))
        try:
            evidence.decide(submission, request.user, request.POST.get("decision", ""), request.POST.get("note", ""))
        except PermissionDenied:
            messages.error(request, gettext("You cannot decide on this submission now."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, gettext("Decision recorded."))
            following = evidence.next_pending(request.user, after=submission)
            if following is None:
                messages.info(request, gettext("No more submissions are waiting for your decision."))
                return redirect(f"{reverse(self.get_url_name('list'))}?status=submitted")
            return redirect("wagtailsnippets_competition_submission:inspect", following.pk)
        return redirect("wagtailsnippets_competition_submission:inspect", submission.pk)


# What each URL of the other snippet viewsets does to the object named in it.
SNIPPET_URL_ACTIONS = {"edit": "change", "delete": "delete"}


def policy_of(model):
    return policy_registry.get_by_type(model)


def scoped_object_view(view, url_name, model):
    """Every URL with an object in it checks the user's permission on that object (the model's
    policy knows their scope): one they may not see is a 404, an action they may not take a
    403. Wagtail's generic views check model-wide permissions only."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if "pk" in kwargs:
            policy = policy_of(model)
            instance = model._default_manager.filter(pk=unquote(str(kwargs["pk"]))).first()
            if instance is None or not policy.user_has_permission_for_instance(request.user, "view", instance):
                raise Http404
            action = SNIPPET_URL_ACTIONS.get(url_name, "view")
            if not policy.user_has_permission_for_instance(request.user, action, instance):
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class ScopedSnippetChooseMixin:
    """A chooser listing and returning only what the user may see."""

    def get_object_list(self):
        return policy_of(self.model_class).instances_user_has_any_permission_for(self.request.user, ["view"])


class ScopedChooseView(ScopedSnippetChooseMixin, ChooseView):
    pass


class ScopedChooseResultsView(ScopedSnippetChooseMixin, ChooseResultsView):
    pass


class ScopedChosenView(SnippetChosenView):
    def get_object(self, pk):
        return policy_of(self.model_class).instances_user_has_any_permission_for(self.request.user, ["view"]).get(pk=pk)


class ScopedChosenMultipleView(SnippetChosenMultipleView):
    def get_objects(self, pks):
        policy = policy_of(self.model_class)
        return policy.instances_user_has_any_permission_for(self.request.user, ["view"]).filter(pk__in=pks)


class ScopedSnippetChooserViewSet(SnippetChooserViewSet):
    """Choosers of agencies, editors, jurors and adjustments: only for those who may view the
    model, scoped like its listing; without the creation tab, which these snippets do not
    offer (its URL would fail on a POST)."""

    choose_view_class = ScopedChooseView
    choose_results_view_class = ScopedChooseResultsView
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView

    def get_urlpatterns(self):
        patterns = [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]
        for pattern in patterns:
            pattern.callback = model_permission_guard(pattern.callback, self.model)
        return patterns


def model_permission_guard(view, model):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not policy_of(model).user_has_permission(request.user, "view"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class GuardedDeleteView(DeleteView):
    """Wagtail refuses to delete what its reference index shows other rows depend on; rows the
    index does not follow (registrations, rows written in bulk by imports) still protect an object
    in the database. Their refusal is said to the user, and nothing is deleted or logged."""

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except (ProtectedError, RestrictedError) as error:
            messages.error(
                self.request,
                _("“%(object)s” cannot be deleted: %(kinds)s still refer to it.")
                % {"object": self.object, "kinds": referring_kinds(error)},
            )
            return redirect(self.get_delete_url())


class ScopedSnippetViewSet(SnippetViewSet):
    """A snippet viewset whose listing and object URLs follow the model's scoped policy."""

    chooser_viewset_class = ScopedSnippetChooserViewSet
    delete_view_class = GuardedDeleteView
    list_select_related = ()
    # Wagtail's copy view saves its form on the original object (a POST to it changes the row
    # being copied, with only "add" and "view" permissions); copies are of no use here anyway.
    copy_view_enabled = False
    # Wide listings scroll sideways on a phone, in a region the keyboard reaches.
    index_results_template_name = "competition/admin/index_results.html"

    def get_queryset(self, request):
        queryset = policy_of(self.model).instances_user_has_any_permission_for(request.user, ["view"])
        return queryset.select_related(*self.list_select_related)

    def get_urlpatterns(self):
        patterns = super().get_urlpatterns()
        for pattern in patterns:
            pattern.callback = scoped_object_view(pattern.callback, pattern.name, self.model)
        return patterns


class ScopedForm(WagtailAdminModelForm):
    """Offers only the competitions the user manages, and only the agencies they look after
    where the form chooses the agency whose data it changes (an editor's membership)."""

    scoped_agency = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if user is None or user.is_superuser:
            return
        if "competition" in self.fields:
            self.fields["competition"].queryset = self.fields["competition"].queryset.filter(
                pk__in=permissions.managed_competition_ids(user)
            )
        if self.scoped_agency and "agency" in self.fields:
            self.fields["agency"].queryset = self.fields["agency"].queryset.filter(permissions.agency_scope(user))


class MembershipForm(ScopedForm):
    scoped_agency = True


class AgencyViewSet(ScopedSnippetViewSet):
    index_view_class = AdjustmentIndexView
    model = Agency
    icon = "group"
    menu_label = _("Agencies")
    list_display = ["code", "name", "short_name", "parent", "level"]
    list_filter = ["level"]
    list_export = ["code", "name", "short_name", "parent", "level"]
    search_fields = ["code", "name", "short_name"]
    search_backend_name = None
    ordering = ["code"]
    list_select_related = ("parent",)


class AgencyMembershipViewSet(ScopedSnippetViewSet):
    model = AgencyMembership
    icon = "user"
    menu_label = _("Agency editors")
    list_display = ["user", "agency"]
    search_fields = ["user__username", "agency__code", "agency__name"]
    search_backend_name = None
    list_select_related = ("user", "agency")
    edit_handler = ObjectList(AgencyMembership.panels, base_form_class=MembershipForm)


class JurorViewSet(ScopedSnippetViewSet):
    model = Juror
    icon = "crosshairs"
    menu_label = _("Jurors")
    list_display = ["user", "competition", "agency"]
    filterset_class = competition_filterset(Juror)
    search_fields = ["user__username", "agency__code"]
    search_backend_name = None
    list_select_related = ("user", "competition", "agency")
    edit_handler = ObjectList(Juror.panels, base_form_class=ScopedForm)


class ReviewPanelForm(ScopedForm):
    """Targets, clusters and reviewers of the competitions the user manages (of the panel's own
    competition once it has one), each checked against the competition chosen; saving works out
    again which of the competition's scores count (domain.panels)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if self.instance.competition_id:
            ids = [self.instance.competition_id]
        elif user is not None and user.is_superuser:
            ids = list(CompetitionPage.objects.values_list("pk", flat=True))
        else:
            ids = list(permissions.managed_competition_ids(user)) if user is not None else []
        several = len(ids) > 1
        targets = TargetPage.objects.filter(competition_id__in=ids).select_related("competition").order_by("code")
        self.fields["targets"].queryset = targets
        self.fields["targets"].label_from_instance = lambda target: (
            f"{target.code} {target.title}" + (f" ({target.competition.title})" if several else "")
        )
        # The clusters in the Vietnamese alphabet of their names (the database sorts by code point).
        clusters = Agency.objects.filter(children__commitments__competition_id__in=ids).values_list("pk", "name")
        ordered = [pk for pk, _name in sorted(set(clusters), key=lambda row: (vietnamese_key(row[1]), row[0]))]
        self.fields["clusters"].queryset = Agency.objects.filter(pk__in=ordered).order_by(
            Case(*(When(pk=pk, then=Value(index)) for index, pk in enumerate(ordered)), default=Value(len(ordered)))
        )
        self.fields["clusters"].label_from_instance = lambda agency: f"{agency.name} ({agency.code})"
        self.fields["members"].queryset = (
            Juror.objects.filter(competition_id__in=ids)
            .select_related("user", "competition")
            .order_by("user__username")
        )
        self.fields["members"].label_from_instance = lambda juror: (
            juror.user.get_username() + (f" ({juror.competition.title})" if several else "")
        )

    def clean(self):
        cleaned = super().clean()
        competition = cleaned.get("competition")
        if competition is None:
            return cleaned
        if any(target.competition_id != competition.pk for target in cleaned.get("targets") or ()):
            self.add_error("targets", _("Choose targets of the panel's competition only."))
        if any(juror.competition_id != competition.pk for juror in cleaned.get("members") or ()):
            self.add_error("members", _("Choose reviewers of the panel's competition only."))
        clusters = cleaned.get("clusters") or ()
        if (
            clusters
            and Agency.objects.filter(pk__in=[agency.pk for agency in clusters])
            .exclude(children__commitments__competition=competition)
            .exists()
        ):
            self.add_error("clusters", _("Choose groups of agencies taking part in the panel's competition only."))
        return cleaned

    def save(self, commit=True):
        previous = None
        if self.instance.pk:
            previous = ReviewPanel.objects.filter(pk=self.instance.pk).values_list("competition_id", flat=True).first()
        panel = super().save(commit=commit)
        if commit:
            from .domain import panels

            panels.recount(panel.competition)
            if previous and previous != panel.competition_id:
                panels.recount(CompetitionPage.objects.get(pk=previous))
        return panel


class ReviewPanelViewSet(ScopedSnippetViewSet):
    model = ReviewPanel
    icon = "group"
    menu_label = _("Review panels")
    list_display = ["name", "competition"]
    filterset_class = competition_filterset(ReviewPanel)
    search_fields = ["name"]
    search_backend_name = None
    list_select_related = ("competition",)
    edit_handler = ObjectList(
        [
            FieldPanel("competition"),
            FieldPanel("name"),
            FieldPanel("targets", widget=forms.CheckboxSelectMultiple),
            FieldPanel("clusters", widget=forms.CheckboxSelectMultiple),
            FieldPanel("members", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=ReviewPanelForm,
    )


class AdjustmentViewSet(ScopedSnippetViewSet):
    index_view_class = AdjustmentIndexView
    model = Adjustment
    icon = "plus-inverse"
    menu_label = _("Adjustments")
    list_display = ["agency", "points", "reason", "effective_on", "competition"]
    filterset_class = competition_filterset(Adjustment)
    list_export = ["competition", "agency", "points", "reason", "on"]
    search_fields = ["reason", "agency__code", "agency__name"]
    search_backend_name = None
    list_select_related = ("agency", "competition")
    edit_handler = ObjectList(Adjustment.panels, base_form_class=ScopedForm)


class FeedTokenForm(ScopedForm):
    """A new token chooses its competition (one the user manages), its agency and its expiry; an
    issued token keeps its competition and agency for good (only its name and expiry change)."""

    scoped_agency = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("competition", "agency"):
            # Plain lists (the choosers of pages and snippets would offer other pages and agencies).
            field = self.fields[name]
            field.widget = forms.Select(choices=field.choices)
            field.disabled = bool(self.instance.pk)
        if not self.instance.pk:
            self.fields["expires_on"].initial = feed_tokens.default_expiry()


class FeedTokenCreateView(CreateView):
    """Issuing a token shows it once, in the answer to the form (never in a URL, a message or the
    session), and never again."""

    def form_valid(self, form):
        token = form.save(commit=False)
        secret = feed_tokens.issue(token, self.request.user)
        self.object = token
        context = self.get_context_data(form=form)
        context.update(
            {
                "token": secret,
                "feed_token": token,
                "page_title": _("Feed token issued"),
                "header_title": _("Feed token issued"),
                "index_url": self.get_success_url(),
            }
        )
        # The header says what happened, not "New: …" (the form is gone).
        items = context.get("breadcrumbs_items") or []
        context["breadcrumbs_items"] = [*items[:-1], {"url": "", "label": _("Feed token issued")}]
        response = TemplateResponse(self.request, "competition/admin/feed_token_issued.html", context)
        response["Cache-Control"] = "no-store"
        return response


class FeedTokenRevokeView(DeleteView):
    """Revoking a token keeps it listed, for the record (as Wagtail revokes its API tokens)."""

    page_title = _("Revoke")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if feed_tokens.revoke(self.object, request.user):
            messages.success(request, _("Feed token “%(token)s” revoked.") % {"token": self.object})
        return redirect(self.get_success_url())


class FeedTokenViewSet(ScopedSnippetViewSet):
    model = FeedToken
    icon = "key"
    menu_label = _("Feed tokens")
    list_display = ["name", "agency", "competition", "prefix", "expires_on", "get_state_display", "last_used_at"]
    filterset_class = competition_filterset(FeedToken)
    search_fields = ["name", "agency__code", "agency__name", "prefix"]
    search_backend_name = None
    list_select_related = ("agency", "competition")
    add_view_class = FeedTokenCreateView
    delete_view_class = FeedTokenRevokeView
    delete_template_name = "competition/admin/feed_token_revoke.html"
    edit_handler = ObjectList(FeedToken.panels, base_form_class=FeedTokenForm)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-pk")


class ScopedDeleteBulkAction(DeleteBulkAction):
    """Bulk deletion of the app's snippets: objects the user may not see are left out of the
    confirmation page altogether (Wagtail lists them by title as "no access", which would show
    another agency's values or another competition's jury), and none visible is a 404."""

    @classproperty
    def models(cls):
        return [Submission, Agency, AgencyMembership, Juror, Adjustment, ReviewPanel]

    def form_valid(self, form):
        # Wagtail deletes the chosen rows in one query, in a transaction: a row other rows still
        # refer to stops it, and with it the whole deletion. Said as the single delete view says it.
        try:
            return super().form_valid(form)
        except (ProtectedError, RestrictedError) as error:
            messages.error(
                self.request,
                _("Nothing was deleted: %(kinds)s still refer to some of the chosen items.")
                % {"kinds": referring_kinds(error)},
            )
            return redirect(self.next_url)

    def get_actionable_objects(self):
        # Asked again after the deletion (for the hooks): answer from the first lookup.
        if not hasattr(self, "_scoped_objects"):
            self._scoped_objects = self._visible_objects()
        return self._scoped_objects

    def _visible_objects(self):
        objects, extra = super().get_actionable_objects()
        without_access = extra["items_with_no_access"]
        candidates = [obj.pk for obj in objects + without_access]
        visible = set(
            policy_of(self.model)
            .instances_user_has_any_permission_for(self.request.user, ["view"])
            .filter(pk__in=candidates)
            .values_list("pk", flat=True)
        )
        if not visible:
            raise Http404
        return [obj for obj in objects if obj.pk in visible], {
            "items_with_no_access": [obj for obj in without_access if obj.pk in visible]
        }


class CompetitionViewSetGroup(SnippetViewSetGroup):
    # Its own context: a host site's catalogue translating "Competitions" for its pages (the
    # demo's home page) would otherwise replace the menu's short label, which the sidebar cuts.
    menu_label = pgettext_lazy("admin menu", "Competitions")
    menu_icon = "trophy"
    menu_order = 200
    items = (
        SubmissionViewSet,
        AgencyViewSet,
        AgencyMembershipViewSet,
        JurorViewSet,
        ReviewPanelViewSet,
        AdjustmentViewSet,
        FeedTokenViewSet,
    )


class FeedTokenRevokeBulkAction(ScopedDeleteBulkAction):
    """Feed tokens selected in the listing are revoked, never deleted (replacing the deletion)."""

    display_name = _("Revoke")
    aria_label = _("Revoke the selected feed tokens")
    template_name = "competition/admin/feed_token_bulk_revoke.html"

    @classproperty
    def models(cls):
        return [FeedToken]

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        revoked = sum(1 for token in objects if feed_tokens.revoke(token, user))
        return revoked, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d feed token revoked.", "%(count)d feed tokens revoked.", num_parent_objects) % {
            "count": num_parent_objects
        }
