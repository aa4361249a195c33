"""The jury's admin screens: the review queue and the scoring screen of a submission."""

from decimal import InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import permissions
from .collation import vietnamese_key
from .domain import jury, panels
from .models import CompetitionPage, JuryScore, Submission
from .templatetags.competition_tags import signed_points
from .validators import MAX_REASON, parse_decimal


class QueueFilterForm(forms.Form):
    """The queue's filters; a value that is not valid is reported and left out, never an error."""

    competition = forms.TypedChoiceField(
        label=gettext_lazy("Competition"), coerce=int, required=False, empty_value=None
    )
    # Chosen from what the user's competitions hold (values stay the codes: the same addresses).
    target = forms.ChoiceField(label=gettext_lazy("Target"), required=False)
    agency = forms.ChoiceField(label=gettext_lazy("Agency"), required=False)
    group = forms.ChoiceField(label=gettext_lazy("Group"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    include_earlier = forms.BooleanField(
        label=gettext_lazy("Include reports superseded by a later accepted report"), required=False
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Order"),
        required=False,
        choices=[
            ("", gettext_lazy("Oldest first")),
            ("gap", gettext_lazy("Largest gap between own and suggested points (those with own points)")),
        ],
    )

    def __init__(self, data, user):
        super().__init__(data)
        from .models import Agency, TargetPage

        ids = {seat.competition_id for seat in jury.seats_of(user)} | set(permissions.managed_competition_ids(user))
        competitions = CompetitionPage.objects.filter(pk__in=ids).order_by("title").values_list("pk", "title")
        self.fields["competition"].choices = [("", _("All competitions")), *competitions]
        targets = {}
        for code, title in (
            TargetPage.objects.filter(competition_id__in=ids).order_by("code", "title").values_list("code", "title")
        ):
            targets.setdefault(code, f"{code} {title}")
        self.fields["target"].choices = [("", _("All targets")), *sorted(targets.items(), key=target_order)]
        agencies = Agency.objects.filter(commitments__competition_id__in=ids).distinct()
        # Agencies and groups in the Vietnamese alphabet (the database's order is by code point).
        agency_choices = sorted(agencies.values_list("code", "name"), key=lambda choice: vietnamese_key(choice[1]))
        self.fields["agency"].choices = [("", _("All agencies")), *agency_choices]
        groups = Agency.objects.filter(pk__in=agencies.values("parent_id")).values_list("code", "name")
        groups = sorted(groups, key=lambda choice: vietnamese_key(choice[1]))
        self.fields["group"].choices = [("", _("All groups")), *groups]
        self.fields["status"].choices = [("", _("Submitted or accepted"))] + [
            (status.value, status.label) for status in jury.REVIEWABLE
        ]

    def filters(self):
        self.is_valid()
        cleaned = self.cleaned_data
        names = ("competition", "target", "agency", "group", "status")
        return {name: cleaned.get(name) or None for name in names} | {
            "include_earlier": bool(cleaned.get("include_earlier"))
        }

    @property
    def by_gap(self):
        self.is_valid()
        return self.cleaned_data.get("sort") == "gap"


def target_order(choice):
    """T2 before T10: codes ordered by their letters, then by their number."""
    code = choice[0]
    digits = "".join(character for character in code if character.isdigit())
    return ("".join(character for character in code if not character.isdigit()), int(digits) if digits else 0, code)


def gap_order(submission):
    """The largest difference between the agency's own points and the suggested ones first."""
    return (-abs(submission.self_points - jury.suggested_points(submission)), submission.pk)


class TitledScreenMixin(WagtailAdminTemplateMixin):
    """A screen of the app's own whose header names it (breadcrumbs Home → its title), not "Home"."""

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]


class ReviewQueueView(TitledScreenMixin, TemplateView):
    template_name = "competition/admin/review_queue.html"
    page_title = gettext_lazy("Review queue")
    header_icon = "tasks"

    def dispatch(self, request, *args, **kwargs):
        if not (jury.seats_of(request.user).exists() or permissions.is_manager(request.user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    # Rows per page: a reviewer works from the top of the queue; a long page (hundreds of rows
    # after an import of official figures) only costs every reviewer time (docs/performance.md).
    per_page = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = QueueFilterForm(self.request.GET, self.request.user)
        queue = jury.queue_for(self.request.user, **form.filters())
        if form.by_gap:
            # The agencies' own points against the suggested ones, the largest difference first
            # (worked out here, without a query per row: targets and lines are already joined).
            queue = sorted(queue.filter(self_points__isnull=False), key=gap_order)
        paginator = Paginator(queue, self.per_page)
        # A page number that is not one (or past the end) shows the nearest page, never an error.
        page = paginator.get_page(self.request.GET.get("p"))
        context.update(
            {
                "queue": [
                    (
                        submission,
                        None
                        if submission.self_points is None
                        else signed_points(submission.self_points - jury.suggested_points(submission)),
                    )
                    for submission in page.object_list
                ],
                "items": page,
                "count": paginator.count,
                "elided_page_range": paginator.get_elided_page_range(page.number),
                "form": form,
                "progress": jury.progress_of(self.request.user, competition=form.filters()["competition"]),
            }
        )
        return context


class ReviewView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "competition/admin/review.html"
    page_title = gettext_lazy("Review")
    header_icon = "tasks"

    def dispatch(self, request, pk, *args, **kwargs):
        queryset = Submission.objects.select_related(
            "line__commitment__agency", "line__commitment__competition", "line__target"
        ).filter(status__in=jury.REVIEWABLE)
        self.submission = queryset.filter(pk=pk).first()
        if self.submission is None:
            raise Http404
        self.seat = jury.seat_for(request.user, self.submission)
        if self.seat is not None and self.seat.has_conflict_with(self.submission.line.commitment.agency_id):
            return self.conflict_response(request)
        self.reviews_line = jury.reviews_line(self.seat, self.submission)
        if not jury.can_review(request.user, self.submission):
            raise Http404
        return super().dispatch(request, pk, *args, **kwargs)

    def conflict_response(self, request):
        """The reviewer is affiliated with the submission's agency: say so, and show nothing of
        the submission (not even its target or value)."""
        self.page_title = _("Conflict of interest")
        self.breadcrumbs_items = [
            *self.breadcrumbs_items,
            {"url": reverse("competition_review_queue"), "label": _("Review queue")},
            {"url": "", "label": self.page_title},
        ]
        context = WagtailAdminTemplateMixin.get_context_data(self)
        agency = self.submission.line.commitment.agency
        affiliated = self.seat.agency_id == agency.pk
        context.update(
            {
                "affiliation": self.seat.agency if affiliated else None,
                "declared": None if affiliated else self.seat.declared_conflicts.filter(agency=agency).first(),
                "competition": self.seat.competition,
            }
        )
        return TemplateResponse(request, "competition/admin/review_conflict.html", context, status=403)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        submission, user = self.submission, self.request.user
        own = submission.scores.filter(juror=self.seat).first() if self.seat else None
        sees_all = jury.can_see_others_scores(user, submission)
        manages = permissions.manages(user, submission.line.commitment.competition_id) or user.is_superuser
        suggested = jury.suggested_points(submission)
        line = submission.line
        target = line.target
        history = (
            Submission.objects.accepted()
            .filter(line=submission.line)
            .exclude(pk=submission.pk)
            .order_by("-reported_on")[:12]
        )
        context.update(
            {
                "submission": submission,
                "target": submission.line.target,
                "agency": submission.line.commitment.agency,
                "competition": submission.line.commitment.competition,
                "attachments": submission.attachments.select_related("document"),
                "links": submission.links.all(),
                "history": history,
                "suggested": suggested,
                # The agency's own baseline and target where its commitment sets them (as scored).
                "baseline": target.baseline if line.baseline is None else line.baseline,
                "goal": target.target_value if line.target_value is None else line.target_value,
                # The agency's own points less the computed ones (signed), when it proposed some.
                "self_gap": (
                    None if submission.self_points is None else signed_points(submission.self_points - suggested)
                ),
                "own": own,
                "is_reviewer": self.reviews_line,
                "off_panel": self.seat is not None and not self.reviews_line,
                "progress": jury.progress_of(user, competition=submission.line.commitment.competition_id)
                if self.reviews_line
                else None,
                "sees_all": sees_all,
                "summary": jury.score_summary(submission) if sees_all else None,
                "offsets": jury.reviewer_offsets(submission.line.commitment.competition) if manages else None,
                "can_decide": permissions.can_decide_submission(user, submission),
                "decide_url": reverse("wagtailsnippets_competition_submission:decide", args=[submission.pk]),
                "form_errors": kwargs.get("form_errors"),
                "posted": kwargs.get("posted", {}),
            }
        )
        return context

    def post(self, request, pk):
        if self.seat is None or not self.reviews_line:
            raise PermissionDenied
        try:
            points = parse_decimal(request.POST.get("points", "").strip())
            if not points.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError, ValidationError):
            return self.render_to_response(
                self.get_context_data(form_errors=[_("Enter the points as a number.")], posted=request.POST)
            )
        try:
            jury.record_score(self.submission, request.user, points, request.POST.get("comment", "").strip())
        except ValidationError as error:
            return self.render_to_response(self.get_context_data(form_errors=error.messages, posted=request.POST))
        messages.success(request, _("Your score was saved."))
        if "next" in request.POST:
            following = jury.queue_for(request.user).first()
            if following is not None:
                return redirect("competition_review", following.pk)
            messages.info(request, _("Your queue is empty."))
            return redirect("competition_review_queue")
        return redirect("competition_review", self.submission.pk)


class DeclareConflictForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_REASON,
        help_text=gettext_lazy(
            "For example a former post in the agency or a relative working there. Kept with the declaration, "
            "which the competition's managers read."
        ),
    )


class DeclareConflictView(TitledScreenMixin, TemplateView):
    """A reviewer declares a conflict of interest with the agency of a submission in their
    queue: from then on they are treated as affiliated with it (domain.panels)."""

    template_name = "competition/admin/declare_conflict.html"
    page_title = gettext_lazy("Declare a conflict of interest")
    header_icon = "warning"

    def dispatch(self, request, pk, *args, **kwargs):
        self.submission = (
            Submission.objects.select_related(
                "line__commitment__agency", "line__commitment__competition", "line__target"
            )
            .filter(pk=pk, status__in=jury.REVIEWABLE)
            .first()
        )
        if self.submission is None:
            raise Http404
        self.seat = jury.seat_for(request.user, self.submission)
        # Only a reviewer who may open the submission now (never another competition's, nor an
        # agency they are already kept away from).
        if not jury.reviews_line(self.seat, self.submission):
            raise Http404
        return super().dispatch(request, pk, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        submission = self.submission
        context.update(
            {
                "submission": submission,
                "agency": submission.line.commitment.agency,
                "competition": submission.line.commitment.competition,
                "own_scores": JuryScore.objects.filter(
                    juror=self.seat, submission__line__commitment__agency=submission.line.commitment.agency
                ).count(),
                "form": kwargs.get("form") or DeclareConflictForm(),
                "errors": kwargs.get("errors", []),
            }
        )
        return context

    def post(self, request, pk):
        form = DeclareConflictForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        agency = self.submission.line.commitment.agency
        try:
            conflict = panels.declare_conflict(self.seat, agency, form.cleaned_data["reason"], request.user)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, problems in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, problems)
                return self.render_to_response(self.get_context_data(form=form))
            return self.render_to_response(self.get_context_data(form=form, errors=error.messages))
        message = _("You declared a conflict of interest with %(agency)s: its submissions left your queue.") % {
            "agency": agency.name
        }
        if conflict.withdrawn:
            message += " " + ngettext(
                "The score you had given it was withdrawn.",
                "The %(count)d scores you had given it were withdrawn.",
                conflict.withdrawn,
            ) % {"count": conflict.withdrawn}
        messages.success(request, message)
        return redirect("competition_review_queue")
