"""The audit log of the competition's own models (submissions, agencies, agency editors, jurors,
adjustments...): Wagtail's log entries, kept in a table of their own so that each user reads
only the entries of objects they may see (competition.domain.audit). Wagtail's site history
report, the history views and `wagtail.log_actions.log` use it through the log registry
(`register_log_actions` in wagtail_hooks.py)."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseLogEntry, BaseLogEntryManager


class CompetitionLogEntryManager(BaseLogEntryManager):
    def log_action(self, instance, action, **kwargs):
        kwargs.update(object_id=str(instance.pk))
        return super().log_action(instance, action, **kwargs)

    def for_instance(self, instance):
        return self.filter(
            content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
            object_id=str(instance.pk),
        )

    def viewable_by_user(self, user):
        from ..domain.audit import visible_entries

        return self.filter(visible_entries(user))


class CompetitionLogEntry(BaseLogEntry):
    object_id = models.CharField(_("object id"), max_length=255, db_index=True)

    objects = CompetitionLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        verbose_name = _("competition log entry")
        verbose_name_plural = _("competition log entries")
        indexes = [
            models.Index(fields=["uuid", "action", "-timestamp"], name="competition_log_uuid_action"),
            models.Index(fields=["content_type", "object_id"], name="competition_log_object"),
        ]

    def __str__(self):
        return (
            f"CompetitionLogEntry {self.pk}: {self.action!r} on {self.object_verbose_name!r} with id {self.object_id}"
        )
