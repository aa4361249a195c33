"""Dashboard panels of the Wagtail admin home: what editors have due, returned and accepted;
what managers have to decide and which agencies are overdue."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from . import permissions
from .domain.due import due_items, lines_for_agencies, lines_for_competitions
from .enums import SubmissionStatus
from .models import CompetitionPage, Submission

LIMIT = 15
NEWEST_FIRST = ("-decided_at", "-reported_on", "-pk")


class EditorPanel(Component):
    name = "competition_editor"
    order = 90
    template_name = "competition/admin/editor_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        agency_ids = permissions.editor_agency_ids(self.user)
        items = due_items(lines_for_agencies(agency_ids))
        mine = Submission.objects.filter(line__commitment__agency_id__in=agency_ids).select_related(
            "line__commitment__agency", "line__target"
        )
        return {
            "title": _("Your agency's reporting"),
            "overdue": [item for item in items if item.overdue][:LIMIT],
            "due_soon": [item for item in items if not item.overdue][:LIMIT],
            # Newest first; decisions taken together (an import, a batch) by the newest report.
            "returned": mine.filter(status=SubmissionStatus.RETURNED).order_by(*NEWEST_FIRST)[:LIMIT],
            "accepted": mine.filter(status=SubmissionStatus.ACCEPTED).order_by(*NEWEST_FIRST)[:5],
        }


class ManagerPanel(Component):
    name = "competition_manager"
    order = 80
    template_name = "competition/admin/manager_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        competition_ids = permissions.managed_competition_ids(self.user)
        awaiting = (
            Submission.objects.filter(
                line__commitment__competition_id__in=competition_ids, status=SubmissionStatus.SUBMITTED
            )
            .select_related("line__commitment__agency", "line__target")
            .order_by("submitted_at", "pk")
        )
        overdue = [item for item in due_items(lines_for_competitions(competition_ids), within_days=0) if item.overdue]
        agencies = {}
        for item in overdue:
            agency = item.line.commitment.agency
            agencies.setdefault(agency.pk, {"agency": agency, "lines": 0})["lines"] += 1
        competitions = (
            CompetitionPage.objects.filter(pk__in=competition_ids)
            .order_by("-end_date", "title")
            .only("pk", "title", "end_date", "closed", "closed_at")[:LIMIT]
        )
        return {
            "title": _("Evidence to decide"),
            "competitions": competitions,
            "awaiting_count": awaiting.count(),
            "awaiting": awaiting[:LIMIT],
            "overdue_agencies": sorted(agencies.values(), key=lambda row: -row["lines"])[:LIMIT],
            "overdue_agency_count": len(agencies),
        }


class ReviewerPanel(Component):
    name = "competition_reviewer"
    order = 85
    template_name = "competition/admin/reviewer_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        from .domain.jury import queue_for

        queue = queue_for(self.user)
        return {"title": _("Your review queue"), "count": queue.count(), "queue": queue[:10]}


def panels_for(user):
    from .domain.jury import seats_of
    from .registration_dashboard import registration_panels_for

    panels = registration_panels_for(user)
    if seats_of(user).exists():
        panels.append(ReviewerPanel(user))
    if permissions.is_manager(user):
        panels.append(ManagerPanel(user))
    if permissions.is_editor(user):
        panels.append(EditorPanel(user))
    return panels
