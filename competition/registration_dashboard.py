"""Dashboard panels of registration: what an agency's editors have to register (due, overdue or
returned), and for managers which registrations await a decision and which agencies are late."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from . import permissions
from .domain import registration as registrations
from .models import RegistrationStatus

LIMIT = 15
COMPETITIONS = 10


class RegistrationEditorPanel(Component):
    name = "competition_registration_editor"
    order = 88
    template_name = "competition/admin/panels/registration_editor.html"

    def __init__(self, user, rows):
        self.user = user
        self.rows = rows

    def get_context_data(self, parent_context):
        attention = [row for row in self.rows if registrations.needs_attention(row)]
        return {
            "title": _("Your agency's registration"),
            "items": [
                {"row": row, "url": reverse("competition_registration", args=[row.competition.pk, row.agency.pk])}
                for row in attention[:LIMIT]
            ],
            "index_url": reverse("competition_registrations"),
        }


class RegistrationManagerPanel(Component):
    name = "competition_registration_manager"
    order = 82
    template_name = "competition/admin/panels/registration_manager.html"

    def __init__(self, user, competitions):
        self.user = user
        self.competitions = competitions

    def get_context_data(self, parent_context):
        items = []
        for competition in self.competitions:
            rows = registrations.overview(competition)
            items.append(
                {
                    "competition": competition,
                    "submitted": sum(1 for row in rows if row.state == RegistrationStatus.SUBMITTED),
                    "overdue": sum(1 for row in rows if row.overdue),
                    "returned": sum(1 for row in rows if row.state == RegistrationStatus.RETURNED),
                    "url": reverse("competition_registration_overview", args=[competition.pk]),
                }
            )
        return {"title": _("Registrations"), "items": items}


def registration_panels_for(user):
    """The registration panels the user's dashboard shows: only where registration is going on."""
    panels = []
    if permissions.is_manager(user) or user.is_superuser:
        managed = None if user.is_superuser else permissions.managed_competition_ids(user)
        open_ones = [
            competition
            for competition in registrations.competitions_taking_registrations(managed)[:COMPETITIONS]
            if registrations.window(competition) == "open"
        ]
        if open_ones:
            panels.append(RegistrationManagerPanel(user, open_ones))
    if permissions.is_editor(user):
        rows = registrations.rows_for_agencies(permissions.editor_agency_ids(user))
        if rows:
            panels.append(RegistrationEditorPanel(user, rows))
    return panels
