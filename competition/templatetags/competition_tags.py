"""Formatting of scoreboard figures for people: percentages, points and statuses with a symbol
and a word (never colour alone)."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import pgettext_lazy

from ..enums import Status

register = template.Library()

STATUS_SYMBOLS = {
    Status.ACHIEVED: "✓",
    Status.ON_TRACK: "▲",
    Status.AT_RISK: "!",
    Status.OFF_TRACK: "▼",
    Status.MISSED: "✕",
    Status.NO_DATA: "–",
}


# The default tiers' labels in the reader's language. The board, the published results and the
# open data keep the labels as computed (scoring.DEFAULT_TIERS, in English: docs/opendata.md);
# the pages, the report and the admin screens show them through `tier_label` (one for each label
# of DEFAULT_TIERS: tests/test_i18n.py).
DEFAULT_TIER_LABELS = {
    "Excellent": pgettext_lazy("tier", "Excellent"),
    "Good": pgettext_lazy("tier", "Good"),
    "Fair": pgettext_lazy("tier", "Fair"),
    "Below target": pgettext_lazy("tier", "Below target"),
}


@register.filter
def tier_label(label):
    """A tier's label as readers see it: a default tier's in their language; a label the
    competition's managers wrote, as written."""
    return DEFAULT_TIER_LABELS.get(label, label)


# Between a number and its unit: a no-break space, so that "99.45 %" never breaks over two lines
# (on a narrow screen or a printed page).
NO_BREAK_SPACE = "\u00a0"


@register.filter
def fraction_percent(value):
    """0.756 -> '75.60 %' (two decimals, in the reader's locale, a no-break space before %)."""
    if value is None:
        return "—"
    return f"{floatformat(Decimal(value) * 100, 2)}{NO_BREAK_SPACE}%"


@register.filter
def percent(value):
    """75.6 -> '75.60 %' (a no-break space before %)."""
    if value is None:
        return "—"
    return f"{floatformat(value, 2)}{NO_BREAK_SPACE}%"


@register.filter
def points(value):
    """Points on the public pages and boards as in the admin: two decimals at most, without
    trailing zeros (13.5 beside 15, not 13.50), in the reader's locale."""
    return plain_points(value)


@register.filter
def measured(value):
    """A measured value without needless trailing zeros, in the reader's locale: 85.0000 -> 85,
    85.5000 -> 85.5 (85,5 in Vietnamese), at most 4 decimals."""
    if value is None:
        return "—"
    value = Decimal(str(value))
    places = min(max(-value.normalize().as_tuple().exponent, 0), 4)
    return floatformat(value, places)


@register.filter
def plain_points(value):
    """Points rounded to two decimals without trailing zeros, in the reader's locale:
    5.00 -> 5, 4.50 -> 4.5 (4,5 in Vietnamese), 3.3333 -> 3.33."""
    return decimals(value, 2)


@register.filter
def decimals(value, places=2):
    """A figure rounded to at most PLACES decimals without trailing zeros, in the reader's locale:
    3.00 -> 3, 0.600 -> 0.6 (0,6 in Vietnamese), 0.1234 -> 0.123 with 3 places."""
    if value is None:
        return "—"
    value = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(places)))
    if not value:
        return floatformat(0, 0)
    return floatformat(value, min(max(-value.normalize().as_tuple().exponent, 0), int(places)))


@register.filter
def signed_points(value):
    """A difference of points with its sign, two decimals at most, in the reader's locale:
    +1.5, -0.25 (−0,25 in Vietnamese); 0 for none."""
    if value is None:
        return "—"
    text = plain_points(value)
    return f"+{text}" if Decimal(str(value)).quantize(Decimal("0.01")) > 0 else text


@register.filter
def bar_width(value):
    """A progress fraction as a CSS width percentage between 0 and 100."""
    if value is None:
        return "0"
    return format(min(max(Decimal(value), Decimal(0)), Decimal(1)) * 100, ".1f")


@register.inclusion_tag("competition/includes/status.html")
def status_badge(status):
    return {"status": status, "symbol": STATUS_SYMBOLS.get(status, ""), "label": Status(status).label}


@register.inclusion_tag("competition/includes/progress_bar.html")
def progress_bar(value, expected=None):
    return {"value": value, "expected": expected}


@register.simple_tag
def status_label(status):
    return Status(status).label


@register.filter
def unit_label(unit):
    from ..enums import Unit

    return Unit(unit).label if unit else ""


STATUS_ORDER = [Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.MISSED, Status.NO_DATA]


@register.simple_tag
def status_counts(counts):
    """[(status, label, symbol, n)] in reading order, for a target summary."""
    return [
        (status.value, status.label, STATUS_SYMBOLS[status], counts.get(status.value, 0)) for status in STATUS_ORDER
    ]
