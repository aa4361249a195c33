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
from .domain import judging
from .domain.opendata import board_table
from .domain.presentation import InvalidDate, parse_as_of
from .domain.scoreboard import get_board
from .enums import SubmissionStatus
from .models import CompetitionPage, Submission
from .spreadsheets import export_dataset


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
        max_length=judging.MAX_REASON,
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "competition": self.competition,
                "facts": judging_facts(self.competition),
                "form": kwargs.get("form") or ReopenForm(),
                "errors": kwargs.get("errors", []),
                "board_url": reverse("competition_jury_board", args=[self.competition.pk]),
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
                    _("Judging of “%(title)s” is closed: the public boards now count the jury's points.")
                    % {"title": competition.title},
                )
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
    response = HttpResponse(export_dataset(board_table(board), file_format), content_type=content_type)
    filename = f"{competition.slug}-scoreboard-with-jury-{board.as_of.isoformat()}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
