"""The demo site's home page: an introduction and the competitions published on the site."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from competition.domain.presentation import headline_of
from competition.middleware import mark_listing_cacheable
from competition.models import CompetitionPage


class HomePage(Page):
    intro = RichTextField(blank=True, verbose_name=_("introduction"))

    content_panels = Page.content_panels + [FieldPanel("intro")]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Kept for anonymous readers until a competition (or this page) changes.
        mark_listing_cacheable(request)
        competitions = CompetitionPage.objects.live().public().descendant_of(self).order_by("-start_date", "title")
        context["competitions"] = [(competition, headline_of(competition)) for competition in competitions]
        return context


def renew_kept_home_pages(sender, instance, **kwargs):
    """A published or unpublished home page: the kept copies of every listing of competitions
    are stale once the change is committed (the competitions' own changes renew them too)."""
    from django.db import transaction

    from competition.domain.scoreboard import LISTINGS, invalidate

    transaction.on_commit(lambda: invalidate(LISTINGS, drop_stale=True))
