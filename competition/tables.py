"""django-tables2 tables of the public scoreboard pages: sortable and paginated without
JavaScript (sorting and paging are links)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .templatetags.competition_tags import measured, points, tier_label


class RankingTable(tables.Table):
    """One row per agency of a board, from `AgencyResult`s turned into dicts."""

    # `data-label`: the column's name beside each figure where a phone shows each row as a card.
    rank = tables.Column(
        verbose_name=_("Rank"),
        attrs={"td": {"class": "num ranking__rank", "data-label": _("Rank")}, "th": {"scope": "col"}},
    )
    group_rank = tables.Column(
        verbose_name=_("Rank in cluster"),
        default="—",
        # The leaders of every cluster first (in overall rank order), then the runners-up...
        order_by=("group_rank", "rank"),
        attrs={"td": {"class": "num", "data-label": _("Rank in cluster")}, "th": {"scope": "col"}},
    )
    name = tables.TemplateColumn(
        template_name="competition/tables/agency_column.html",
        verbose_name=_("Agency"),
        # In the Vietnamese alphabet (collation.vietnamese_key), not by code point.
        order_by=("name_key",),
        attrs={"td": {"class": "ranking__name"}, "th": {"scope": "col"}},
    )
    # The first click on a column of figures shows the best first: tiers in their order (the rank
    # follows the score, and the tier the score), not in the alphabetical order of their labels.
    tier = tables.Column(
        verbose_name=_("Tier"),
        order_by=("rank", "name_key"),
        attrs={"td": {"data-label": _("Tier")}, "th": {"scope": "col"}},
    )
    score_percent = tables.TemplateColumn(
        template_name="competition/tables/score_column.html",
        verbose_name=_("Score"),
        order_by=("rank", "name_key"),
        attrs={"td": {"class": "num", "data-label": _("Score")}, "th": {"scope": "col"}},
    )
    progress_percent = tables.TemplateColumn(
        template_name="competition/tables/progress_column.html",
        verbose_name=_("Progress"),
        order_by=("-progress_percent", "rank"),
        attrs={"td": {"data-label": _("Progress")}, "th": {"scope": "col"}},
    )
    total_points = tables.Column(
        verbose_name=_("Points"),
        order_by=("-total_points", "rank"),
        attrs={"td": {"class": "num", "data-label": _("Points")}, "th": {"scope": "col"}},
    )

    class Meta:
        template_name = "competition/tables/table.html"
        # On a phone each row is a card (competition.css): every figure stays readable on a
        # 390 px screen without scrolling sideways.
        attrs = {
            "class": "board-table ranking-table",
            "role": "table",
            "thead": {"role": "rowgroup"},
            "tbody": {"role": "rowgroup"},
        }
        row_attrs = {"role": "row"}
        order_by = ("rank",)
        orderable = True
        empty_text = _("No agency has committed yet.")
        sequence = ("rank", "name", "group_rank", "...")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The roles the cells have as table elements, written out: a phone shows the rows as
        # cards (display: block), which would otherwise lose them in some browsers.
        for column in self.columns:
            column.column.attrs = {
                **column.column.attrs,
                "th": {**column.column.attrs.get("th", {}), "role": "columnheader"},
                "td": {**column.column.attrs.get("td", {}), "role": "cell"},
            }

    def render_tier(self, value):
        return tier_label(value)

    def render_total_points(self, value, record):
        return f"{points(value)} / {points(record['max_points'])}"


class TargetLinesTable(tables.Table):
    """One row per committed agency of a target page."""

    agency = tables.TemplateColumn(
        template_name="competition/tables/line_agency_column.html",
        verbose_name=_("Agency"),
        order_by=("agency_name_key",),
    )
    value = tables.Column(verbose_name=_("Value"), attrs={"td": {"class": "num"}})
    reported_on = tables.DateColumn(verbose_name=_("Reported on"), short=False)
    progress = tables.TemplateColumn(
        template_name="competition/tables/line_progress_column.html", verbose_name=_("Progress")
    )
    status = tables.TemplateColumn(template_name="competition/tables/status_column.html", verbose_name=_("Status"))
    awarded_points = tables.Column(verbose_name=_("Points"), attrs={"td": {"class": "num"}})

    class Meta:
        template_name = "competition/tables/table.html"
        attrs = {"class": "board-table"}
        order_by = ("-progress",)
        empty_text = _("No agency has committed to this target yet.")

    def render_value(self, value):
        return measured(value)

    def render_awarded_points(self, value, record):
        text = f"{points(value)} / {points(record['max_points'])}"
        return text + (" *" if record["provisional"] else "")
