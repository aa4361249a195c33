"""Managers' admin screens of a competition's judging (docs/scoring.md, section 6): closing and
reopening it with a confirmation, and the board with the jury's points, which nobody else may
see before judging closes. Every screen is a 404 for a user who does not manage the competition,
as the app's other screens are for objects out of reach."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import permissions
from .domain import commendations, judging
from .domain.opendata import board_table
from .domain.presentation import InvalidDate, parse_as_of
from .domain.scoreboard import get_board
from .enums import SubmissionStatus
from .models import CommendationDecision, CompetitionPage, Submission
from .spreadsheets import export_dataset
from .validators import MAX_REASON


def managed_competition(user, pk):
    """The competition page `pk` when `user` manages it; 404 otherwise (even when it exists)."""
    page = CompetitionPage.objects.filter(pk=pk).first()
    if page is None or not (user.is_superuser or permissions.manages(user, page.pk)):
        raise Http404
    return page


class CompetitionAdminMixin(WagtailAdminTemplateMixin):
    """A screen about one competition a manager manages, with breadcrumbs back to its page."""

    def dispatch(self, request, pk, *args, **kwargs):
        self.competition = managed_competition(request.user, pk)
        return super().dispatch(request, pk, *args, **kwargs)

    def get_page_subtitle(self):
        return self.competition.title

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("wagtailadmin_explore", args=[self.competition.pk]), "label": self.competition.title},
            {"url": "", "label": self.get_page_title()},
        ]


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_REASON,
        help_text=gettext_lazy("Kept in the competition's history, with your name and the time."),
    )


def judging_facts(competition):
    """What a manager weighs before closing: submissions still awaiting a decision, and accepted
    ones nobody on the jury has scored (their lines stay on computed points)."""
    submissions = Submission.objects.filter(line__commitment__competition=competition)
    return {
        "awaiting_decision": submissions.filter(status=SubmissionStatus.SUBMITTED).count(),
        "accepted_unscored": submissions.filter(status=SubmissionStatus.ACCEPTED, scores__isnull=True).count(),
    }


class JudgingView(CompetitionAdminMixin, TemplateView):
    """Confirm closing judging (the jury's points become public, scores lock) or reopening it
    (with a reason for the history)."""

    template_name = "competition/admin/judging.html"
    header_icon = "lock"

    def get_page_title(self):
        return _("Reopen judging") if self.competition.closed else _("Close judging")

    # Rows of the board to publish shown on the confirmation; the whole board is a link away.
    preview_rows = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        competition = self.competition
        preview = None
        if not competition.closed:
            preview = get_board(competition, competition.end_date, with_jury=True)
        board_url = reverse("competition_jury_board", args=[competition.pk])
        context.update(
            {
                "competition": competition,
                "facts": judging_facts(competition),
                "preview": preview,
                "preview_rows": preview.agencies[: self.preview_rows] if preview else (),
                "form": kwargs.get("form") or ReopenForm(),
                "errors": kwargs.get("errors", []),
                "board_url": board_url,
                "end_board_url": f"{board_url}?as_of={competition.end_date.isoformat()}",
                "history": competition.official_results.select_related("published_by", "withdrawn_by"),
                "decision": CommendationDecision.objects.filter(competition=competition).first(),
                "commendations_url": reverse("competition_commendations", args=[competition.pk]),
            }
        )
        return context

    def post(self, request, pk):
        competition = self.competition
        expected = "reopen" if competition.closed else "close"
        if request.POST.get("action") != expected:
            # The form was shown before someone else closed or reopened judging.
            message = (
                _("Judging was closed meanwhile; nothing was changed.")
                if competition.closed
                else _("Judging was reopened meanwhile; nothing was changed.")
            )
            return self.render_to_response(self.get_context_data(errors=[message]))
        form = ReopenForm(request.POST) if competition.closed else None
        if form is not None and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            if competition.closed:
                judging.reopen_judging(competition, request.user, form.cleaned_data["reason"])
                messages.success(
                    request,
                    _("Judging of “%(title)s” is open again: the public boards no longer count the jury's points.")
                    % {"title": competition.title},
                )
            else:
                judging.close_judging(competition, request.user)
                messages.success(
                    request,
                    _(
                        "Judging of “%(title)s” is closed and its official results are published: the public "
                        "boards now count the jury's points."
                    )
                    % {"title": competition.title},
                )
                return redirect("competition_commendations", competition.pk)
        except ValidationError as error:
            # Someone else closed or reopened it meanwhile: say so, change nothing.
            self.competition.refresh_from_db()
            return self.render_to_response(self.get_context_data(form=form, errors=error.messages))
        return redirect("competition_jury_board", competition.pk)


class JuryBoardView(CompetitionAdminMixin, TemplateView):
    """The board with the jury's points beside the board the public sees, at any date."""

    template_name = "competition/admin/jury_board.html"
    header_icon = "table"
    page_title = gettext_lazy("Board with the jury's points")
    per_page = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        competition = self.competition
        errors = []
        try:
            as_of = parse_as_of(self.request)
        except InvalidDate as error:
            errors.append(str(error))
            as_of = None
        board = get_board(competition, as_of, with_jury=True)
        public = board if competition.closed else get_board(competition, board.as_of)
        published = {agency.code: agency for agency in public.agencies}
        paginator = Paginator(board.agencies, self.per_page)
        page = paginator.get_page(self.request.GET.get("p"))
        context.update(
            {
                "competition": competition,
                "board": board,
                "as_of_errors": errors,
                "rows": [
                    {
                        "result": agency,
                        "public": published.get(agency.code),
                        "scored_lines": sum(1 for line in agency.lines if line.jury_points is not None),
                    }
                    for agency in page.object_list
                ],
                "items": page,
                "elided_page_range": paginator.get_elided_page_range(page.number),
                "judging_url": reverse("competition_judging", args=[competition.pk]),
            }
        )
        return context


@require_safe
def jury_board_download(request, pk, file_format):
    """The board with the jury's points as CSV or XLSX (one row per agency and target), for the
    competition's managers only; never kept by a shared cache."""
    competition = managed_competition(request.user, pk)
    if file_format not in ("csv", "xlsx"):
        raise Http404
    try:
        as_of = parse_as_of(request)
    except InvalidDate:
        as_of = None
    board = get_board(competition, as_of, with_jury=True)
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(
        export_dataset(board_table(board, dates=file_format == "xlsx"), file_format), content_type=content_type
    )
    filename = f"{competition.slug}-scoreboard-with-jury-{board.as_of.isoformat()}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class TakeOffForm(forms.Form):
    award = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=MAX_REASON)


class AddAwardForm(forms.Form):
    agency = forms.ChoiceField(label=gettext_lazy("Agency"))
    name = forms.CharField(label=gettext_lazy("Award"), max_length=255)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept with the award and in the competition's history."),
    )

    def __init__(self, *args, board=None, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        agencies = board.agencies if board is not None else ()
        self.fields["agency"].choices = [("", "—")] + [
            (agency.code, f"{agency.rank}. {agency.name} ({agency.code})") for agency in agencies
        ]
        names = [rule.name for rule in rules]
        if names:
            self.fields["name"].initial = names[-1]
            self.fields["name"].widget.attrs["list"] = "award-names"


class DecisionForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Decision number"), max_length=100)
    issued_on = forms.DateField(
        label=gettext_lazy("Date of the decision"), widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_by = forms.CharField(
        label=gettext_lazy("Issued by"),
        max_length=255,
        help_text=gettext_lazy("The body that issues the decision, e.g. the City People's Committee."),
    )
    signed_by = forms.CharField(label=gettext_lazy("Signed by"), max_length=255, required=False)
    document = forms.FileField(label=gettext_lazy("Signed decision (PDF)"))


class CommendationsView(CompetitionAdminMixin, TemplateView):
    """The awards proposed from the published result: take one off or add one (each with a
    reason), propose again after changing the rules, and record the decision that grants them."""

    template_name = "competition/admin/commendations.html"
    header_icon = "pick"
    page_title = gettext_lazy("Commendations")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        competition = self.competition
        result = judging.current_result(competition)
        board = result.scoreboard() if result is not None else None
        rules = list(competition.award_rules.all())
        awards = list(commendations.awards_of(competition))
        decision = getattr(competition, "commendation_decision", None) if result is not None else None
        context.update(
            {
                "competition": competition,
                "result": result,
                "rules": rules,
                "awards": awards,
                "over_the_limit": commendations.over_the_limit(competition, awards),
                "decision": decision,
                "add_form": kwargs.get("add_form") or AddAwardForm(board=board, rules=rules),
                "decision_form": kwargs.get("decision_form") or DecisionForm(),
                "take_off_errors": kwargs.get("take_off_errors", {}),
                "errors": kwargs.get("errors", []),
                "judging_url": reverse("competition_judging", args=[competition.pk]),
                "edit_url": reverse("wagtailadmin_pages:edit", args=[competition.pk]),
            }
        )
        return context

    def post(self, request, pk):
        competition = self.competition
        action = request.POST.get("action")
        result = judging.current_result(competition)
        board = result.scoreboard() if result is not None else None
        rules = list(competition.award_rules.all())
        try:
            if action == "take_off":
                form = TakeOffForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(
                        self.get_context_data(take_off_errors={request.POST.get("award"): _("Give the reason.")})
                    )
                award = commendations.awards_of(competition).filter(pk=form.cleaned_data["award"]).first()
                if award is None:
                    raise Http404
                commendations.take_off(award, request.user, form.cleaned_data["reason"])
                messages.success(request, _("%(agency)s was taken off the proposal.") % {"agency": award.agency.name})
            elif action == "add":
                form = AddAwardForm(request.POST, board=board, rules=rules)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(add_form=form))
                award = commendations.add(
                    competition,
                    request.user,
                    form.cleaned_data["agency"],
                    form.cleaned_data["name"],
                    form.cleaned_data["reason"],
                )
                messages.success(request, _("%(agency)s was added.") % {"agency": award.agency.name})
            elif action == "propose_again":
                commendations.propose_again(competition, request.user)
                messages.success(request, _("The awards were proposed again from the rules."))
            elif action == "decide":
                form = DecisionForm(request.POST, request.FILES)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(decision_form=form))
                decision = commendations.record_decision(
                    competition,
                    request.user,
                    upload=form.cleaned_data["document"],
                    **{name: form.cleaned_data[name] for name in ("number", "issued_on", "issued_by", "signed_by")},
                )
                messages.success(
                    request,
                    _("Decision %(number)s is recorded: its awards are published.") % {"number": decision.number},
                )
            else:
                return self.render_to_response(self.get_context_data(errors=[_("Unknown action.")]))
        except ValidationError as error:
            if action == "decide" and hasattr(error, "error_dict"):
                form = DecisionForm(request.POST, request.FILES)
                form.is_valid()
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
                return self.render_to_response(self.get_context_data(decision_form=form))
            if action == "add" and hasattr(error, "error_dict"):
                form = AddAwardForm(request.POST, board=board, rules=rules)
                form.is_valid()
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
                return self.render_to_response(self.get_context_data(add_form=form))
            return self.render_to_response(self.get_context_data(errors=error.messages))
        return redirect("competition_commendations", competition.pk)
