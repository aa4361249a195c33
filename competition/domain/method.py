"""The public page "How scores are computed" of a competition (`<competition URL>method/`): the
rules of docs/scoring.md written for readers, with this competition's own settings (tiers,
at-risk margin, jury aggregation, targets and their weights) filled in."""

from django.utils.translation import gettext as _

from .. import conf
from ..enums import Status
from ..models import TargetPage
from ..templatetags.competition_tags import STATUS_SYMBOLS, measured
from .presentation import note_canonical_query

HUNDRED = 100


def status_legend(margin):
    """Each status with its symbol and when it applies, in the order the rules are tried."""
    margin_points = margin * HUNDRED
    explanations = {
        Status.NO_DATA: _("No accepted report yet."),
        Status.ACHIEVED: _("The target value is reached."),
        Status.MISSED: _("The deadline has come and the target value is not reached."),
        Status.ON_TRACK: _("Progress is at least what the trajectory expects by this date."),
        Status.AT_RISK: _("Progress is behind the trajectory by less than %(margin)s percentage points.")
        % {"margin": measured(margin_points)},
        Status.OFF_TRACK: _("Progress is further behind the trajectory."),
    }
    return [
        {"status": status, "symbol": STATUS_SYMBOLS[status], "label": Status(status).label, "explanation": text}
        for status, text in explanations.items()
    ]


def method_context(competition, request):
    note_canonical_query(request, {})
    targets = list(TargetPage.objects.live().child_of(competition).prefetch_related("milestones").order_by("path"))
    total = sum((target.max_points for target in targets), start=0)
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "page": competition,
        "competition_url": competition.get_url(request),
        "tiers": competition.get_tiers(),
        "margin_points": competition.at_risk_margin * HUNDRED,
        "statuses": status_legend(competition.at_risk_margin),
        "targets": [
            {
                "page": target,
                "milestones": list(target.milestones.all()),
                "share": (target.max_points * HUNDRED / total) if total else None,
            }
            for target in targets
        ],
        "total_points": total,
    }
