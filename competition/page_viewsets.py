"""The admin views of target and commitment pages: Wagtail's, except that approving a workflow
task whose revision the page's rules refuse says why instead of failing.

A draft saved before an agency reported (naming another agency, or re-targeting a line) becomes a
revision `CommitmentPage.clean` refuses once values are reported. Approving it from a workflow's
"Approve" button (the dashboard, the page listing) published it through `Revision.publish()`,
whose validation error reached the reader as a server error (nothing changed). The approval is now
undone as a whole, the task stays in progress, and the approver reads the refusal."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from wagtail.admin.views.pages.workflow import WorkflowActionView
from wagtail.admin.viewsets.pages import PageViewSet

from .models import CommitmentPage, TargetPage


class GuardedWorkflowActionView(WorkflowActionView):
    def post(self, request, *args, **kwargs):
        try:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            if request.headers.get("x-requested-with") == "XMLHttpRequest":
                return self.render_modal_json(request, {"step": "success", "redirect": self.redirect_url})
            return redirect(self.redirect_url)


class CompetitionChildPageViewSet(PageViewSet):
    workflow_action_view_class = GuardedWorkflowActionView


target_page_viewset = CompetitionChildPageViewSet("target_pages", model=TargetPage)
commitment_page_viewset = CompetitionChildPageViewSet("commitment_pages", model=CommitmentPage)
