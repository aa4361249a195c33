"""Wagtail's page types usage report (Reports > Page types usage) without naming a page the user
may not see.

Its "Last edited page" column names, for each page type, the page of that type edited last on the
whole site, whatever the user may explore: a manager of one competition read there the title of
another, unpublished competition (docs/security.md: unpublished competitions are named only to
superusers and to those with a page permission on them). The column is left empty for a type
whose page edited last is hidden from the user (`permissions.hidden_pages_filter`); the counts name
nothing and stay.
"""

from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.models import Page

from . import permissions


def decorate_paginated_queryset(self, page_types):
    page_types = _wagtails(self, page_types)
    named = [item.last_edited_page.pk for item in page_types if item.last_edited_page is not None]
    if named:
        hidden = set(
            Page.objects.filter(pk__in=named)
            .filter(permissions.hidden_pages_filter(self.request.user))
            .values_list("pk", flat=True)
        )
        for item in page_types:
            if item.last_edited_page is not None and item.last_edited_page.pk in hidden:
                item.last_edited_page = None
    return page_types


_wagtails = PageTypesUsageReportView.decorate_paginated_queryset


def hide_unseen_pages_in_page_types_report():
    """Called once, when the app is ready."""
    PageTypesUsageReportView.decorate_paginated_queryset = decorate_paginated_queryset
