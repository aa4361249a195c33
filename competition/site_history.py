"""Wagtail's site history report (Reports > Site history), with its log models joined in one
UNION instead of one nested inside the next.

Wagtail 8.0 builds the report as `((A UNION B) UNION C)`: each log model's rows, then their
union. With three log models (Wagtail's page and model logs and `CompetitionLogEntry`) the inner
union keeps its first model's default ordering on Django 6.1, and SQLite, which allows no ORDER BY
inside a compound statement, refuses the query: the report, its exports and its filters fail with
"ORDER BY not allowed in subqueries of compound statements". `A UNION ALL B UNION ALL C` gives the
same rows on every Django and database Wagtail supports, and runs on all of them.
"""

from django.db.models import IntegerField, Value
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.log_actions import registry as log_action_registry


def get_filtered_queryset(self):
    """As LogEntriesView.get_filtered_queryset (see its docstring): a values() queryset of each log
    model's entries the user may read, filtered, annotated with the model's index in
    `self.log_models`, and their union, newest first."""
    self.log_models = list(log_action_registry.get_log_entry_models())
    parts = [
        self.filter_queryset(
            log_model.objects.viewable_by_user(self.request.user)
            .values("pk", "timestamp")
            .annotate(log_model_index=Value(index, output_field=IntegerField()))
        ).order_by()
        for index, log_model in enumerate(self.log_models)
    ]
    # log_model_index makes rows of different models distinct: no deduplication needed.
    return parts[0].union(*parts[1:], all=True).order_by("-timestamp")


def use_flat_site_history_union():
    LogEntriesView.get_filtered_queryset = get_filtered_queryset
