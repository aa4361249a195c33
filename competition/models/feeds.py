"""Data feeds: an agency's own system sends its values for its commitment lines by machine
(docs/feeds.md). A feed token lets one system post values for one agency in one competition until
it expires or a manager revokes it. Only a digest of the token is stored (made as Wagtail's own
API tokens make theirs, `wagtail.models.APIToken`); the token itself is shown once, when issued."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel

from .agencies import Agency
from .pages import CommitmentPage, CompetitionPage, acting_user_field


class FeedTokenQuerySet(models.QuerySet):
    def usable(self, today=None):
        """Tokens neither revoked nor expired."""
        today = today or timezone.localdate()
        return self.filter(revoked_at__isnull=True, expires_on__gte=today)


class FeedToken(models.Model):
    name = models.CharField(
        _("name"),
        max_length=255,
        help_text=_("Which system uses this token, e.g. “Document management system of the department”."),
    )
    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="feed_tokens"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="feed_tokens",
        help_text=_("The token sends values for this agency's commitment lines only."),
    )
    expires_on = models.DateField(
        _("valid until"), help_text=_("The token is refused after this day. Issue a new one before it expires.")
    )
    key_hash = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("token"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    created_by = acting_user_field(_("issued by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = acting_user_field(_("revoked by"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    objects = FeedTokenQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("competition"), FieldPanel("agency")]),
        FieldPanel("expires_on"),
    ]

    class Meta:
        verbose_name = _("feed token")
        verbose_name_plural = _("feed tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        # Never the token: its first characters only, as Wagtail shows its API tokens.
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_on < timezone.localdate()

    @property
    def state(self):
        if self.is_revoked:
            return "revoked"
        return "expired" if self.is_expired else "active"

    def get_state_display(self):
        return {"revoked": _("Revoked"), "expired": _("Expired"), "active": _("Active")}[self.state]

    get_state_display.short_description = _("state")

    def clean(self):
        super().clean()
        errors = {}
        if self.pk is None and self.expires_on is not None and self.expires_on < timezone.localdate():
            errors["expires_on"] = _("A new token must be valid until today at least.")
        commitments = CommitmentPage.objects.filter(competition_id=self.competition_id, agency_id=self.agency_id)
        if self.competition_id is not None and self.agency_id is not None and not commitments.exists():
            errors["agency"] = _("This agency has no commitment in the competition: it has no lines to send.")
        if errors:
            raise ValidationError(errors)
