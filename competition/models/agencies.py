"""Agencies (the signatories and competitors) and the editors who report for them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.search import index

from ..validators import check_visible_fields

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    _("Use letters, digits, dots, hyphens and underscores only, starting with a letter or digit."),
)


class Agency(index.Indexed, models.Model):
    """A public body: a department, a ward or commune, an office. `code` is its electronic
    identification code, the key every import and export uses."""

    code = models.CharField(_("code"), max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("Agencies are grouped by their parent on scoreboards."),
    )
    level = models.CharField(
        _("level"), max_length=32, blank=True, help_text=_("For example city, department, ward, commune.")
    )

    panels = [
        FieldRowPanel([FieldPanel("code"), FieldPanel("short_name")]),
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("parent"), FieldPanel("level")]),
    ]
    search_fields = [
        index.SearchField("name"),
        index.SearchField("short_name"),
        index.AutocompleteField("name"),
        index.FilterField("code"),
        index.SearchField("code"),
    ]

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        super().clean()
        check_visible_fields(self, "code", "name", "short_name", "level")
        # Walk up the parent chain: an agency can never be its own ancestor.
        seen = {self.pk} if self.pk else set()
        parent = self.parent
        while parent is not None:
            if parent.pk in seen or parent is self:
                raise ValidationError({"parent": _("An agency cannot be its own parent or ancestor.")})
            seen.add(parent.pk)
            parent = parent.parent


class AgencyMembership(models.Model):
    """An agency editor: a user who reports progress for an agency."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agency_memberships"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="memberships")

    panels = [FieldPanel("user"), FieldPanel("agency")]

    class Meta:
        verbose_name = _("agency editor")
        verbose_name_plural = _("agency editors")
        constraints = [models.UniqueConstraint(fields=["user", "agency"], name="unique_agency_membership")]

    def __str__(self):
        return f"{self.user} – {self.agency}"


class Reminder(models.Model):
    """One reminder e-mail sent to a user on a day, so that `competition_remind` sends at most
    one a day however often it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_reminder_a_day")]

    def __str__(self):
        return f"{self.user} {self.day.isoformat()}"


class ImportRecord(models.Model):
    """One import run through the admin or the command: who, when, what, and what it did."""

    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=32)
    file_name = models.CharField(_("file"), max_length=255)
    competition = models.CharField(_("competition"), max_length=255, blank=True)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.kind} {self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"
