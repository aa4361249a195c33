"""Managers' screens of a competition's jury (docs/results.md, "Review panels and declared
conflicts"): the jury's progress with the panels and the declared conflicts, and the balanced
panel assignment proposed for acceptance. Like the other screens of a competition, a 404 for a
user who does not manage it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from .domain import panels
from .judging_views import CompetitionAdminMixin
from .models import Agency, Submission, TargetPage


class JuryProgressView(CompetitionAdminMixin, TemplateView):
    """Each reviewer's progress, each submission's scores against its panel's size, the
    competition's panels and the conflicts its reviewers declared."""

    template_name = "competition/admin/jury_progress.html"
    header_icon = "tasks"
    page_title = gettext_lazy("Jury progress and panels")
    per_page = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        competition = self.competition
        progress = panels.jury_progress(competition)
        incomplete_only = self.request.GET.get("incomplete") == "1"
        counts = progress["submissions"]
        ids = [pk for pk, (done, expected) in counts.items() if not incomplete_only or done < expected]
        paginator = Paginator(ids, self.per_page)
        page = paginator.get_page(self.request.GET.get("p"))
        rows = []
        # The rows of this page only.
        loaded = {
            submission.pk: submission
            for submission in Submission.objects.filter(pk__in=list(page.object_list)).select_related(
                "line__commitment__agency", "line__target"
            )
        }
        for pk in page.object_list:
            done, expected = counts[pk]
            rows.append({"submission": loaded[pk], "done": done, "expected": expected})
        scopes = progress["scopes"]
        targets = dict(TargetPage.objects.filter(competition=competition).values_list("pk", "code"))
        clusters = {
            agency.pk: agency
            for agency in Agency.objects.filter(pk__in={pk for scope in scopes for pk in scope.clusters})
        }
        seats = {row["seat"].pk: row["seat"] for row in progress["reviewers"]}
        context.update(
            {
                "competition": competition,
                "reviewers": progress["reviewers"],
                "rows": rows,
                "items": page,
                "elided_page_range": paginator.get_elided_page_range(page.number),
                "incomplete_only": incomplete_only,
                "panels": [
                    {
                        "pk": scope.pk,
                        "name": scope.name,
                        "targets": sorted(targets.get(pk, "") for pk in scope.targets),
                        "clusters": sorted(
                            (clusters[pk].name for pk in scope.clusters if pk in clusters), key=str.casefold
                        ),
                        "members": sorted(seats[pk].user.get_username() for pk in scope.members if pk in seats),
                        "edit_url": reverse("wagtailsnippets_competition_reviewpanel:edit", args=[scope.pk]),
                    }
                    for scope in scopes
                ],
                "conflicts": panels.declared_conflicts(competition),
                "propose_url": reverse("competition_propose_panels", args=[competition.pk]),
                "add_panel_url": reverse("wagtailsnippets_competition_reviewpanel:add"),
            }
        )
        return context


class ProposeForm(forms.Form):
    split = forms.ChoiceField(
        label=gettext_lazy("Divide the lines"),
        choices=[
            (panels.BY_CLUSTER, gettext_lazy("By cluster (agency group)")),
            (panels.BY_TARGET, gettext_lazy("By target")),
        ],
        initial=panels.BY_TARGET,
    )
    per_panel = forms.IntegerField(
        label=gettext_lazy("Reviewers per panel"),
        min_value=1,
        max_value=50,
        initial=2,
        help_text=gettext_lazy("Each line is scored by the reviewers of its panel."),
    )


class ProposePanelsView(CompetitionAdminMixin, TemplateView):
    """A balanced assignment proposed from the competition's reviewers and lines, shown to the
    manager; accepting it replaces the competition's panels (each change audited)."""

    template_name = "competition/admin/propose_panels.html"
    header_icon = "group"
    page_title = gettext_lazy("Propose review panels")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or ProposeForm(self.request.GET or None)
        proposal = None
        if form.is_bound and form.is_valid():
            proposal = panels.propose(self.competition, form.cleaned_data["split"], form.cleaned_data["per_panel"])
        context.update(
            {
                "competition": self.competition,
                "form": form,
                "proposal": proposal,
                "existing": self.competition.review_panels.count(),
                "errors": kwargs.get("errors", []),
                "progress_url": reverse("competition_jury_progress", args=[self.competition.pk]),
            }
        )
        return context

    def post(self, request, pk):
        form = ProposeForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        proposal = panels.propose(self.competition, form.cleaned_data["split"], form.cleaned_data["per_panel"])
        if request.POST.get("fingerprint") != proposal.fingerprint:
            # The reviewers, lines or conflicts changed since the proposal was shown.
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    errors=[
                        _("The proposal changed since it was shown (reviewers, lines or conflicts); review it again.")
                    ],
                )
            )
        try:
            created = panels.accept(self.competition, proposal, request.user)
        except ValidationError as error:
            return self.render_to_response(self.get_context_data(form=form, errors=error.messages))
        messages.success(
            request,
            _("%(count)d review panels were saved; the jury's queues and points follow them.")
            % {"count": len(created)},
        )
        return redirect("competition_jury_progress", self.competition.pk)
