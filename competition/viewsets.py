"""Admin screens of the competition app: snippet viewsets grouped under one menu."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Adjustment, Agency, AgencyMembership, Juror


class AgencyViewSet(SnippetViewSet):
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
    items = (AgencyViewSet, AgencyMembershipViewSet, JurorViewSet, AdjustmentViewSet)
