"""The demo site's home page: an introduction and the competitions published on the site."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from competition.domain.presentation import headline_of
from competition.models import CompetitionPage


class HomePage(Page):
    intro = RichTextField(blank=True, verbose_name=_("introduction"))

    content_panels = Page.content_panels + [FieldPanel("intro")]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        competitions = CompetitionPage.objects.live().public().descendant_of(self).order_by("-start_date", "title")
        context["competitions"] = [(competition, headline_of(competition)) for competition in competitions]
        return context
