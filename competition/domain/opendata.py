"""The scoreboard as open data: the JSON document described in docs/opendata.md and the same
table as rows (one per agency and target) for CSV and XLSX."""

from decimal import ROUND_HALF_UP, Decimal

import tablib
from django.utils.translation import gettext as _

FOUR_PLACES = Decimal("0.0001")


def number(value):
    """A JSON number rounded to 4 decimals (None stays null)."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


class UnknownSlice(LookupError):
    """A group or agency code that is not on the board: the message says which."""


class InvalidSlice(ValueError):
    """A slice asked for in a form that cannot be answered (two codes, say)."""


SLICE_PARAMETERS = ("group", "agency")


def asked_slice(query):
    """(`group` or `agency`, the code) of the slice a reader asks for, None for the whole board;
    InvalidSlice for more than one code. Reads no board."""
    asked = [(name, value) for name in SLICE_PARAMETERS for value in query.getlist(name)]
    if not asked:
        return None
    if len(asked) > 1:
        raise InvalidSlice(_("Ask for one group or one agency at a time."))
    return asked[0][0], asked[0][1].strip()


def board_slice(board, query):
    """The part of the board a reader asks for with `?group=CODE` (the agencies whose parent has
    that code, and that group) or `?agency=CODE` (that agency, and its group): (the slice's
    canonical query, its agencies, its groups); the whole board with an empty query. Raises
    InvalidSlice for more than one code, UnknownSlice for a code not on the board."""
    asked = asked_slice(query)
    if asked is None:
        return {}, board.agencies, board.groups
    name, code = asked
    if name == "group":
        groups = tuple(group for group in board.groups if group.code == code)
        if not groups:
            raise UnknownSlice(
                _("No group with the code %(code)r takes part in this scoreboard.") % {"code": code[:40]}
            )
        agencies = tuple(agency for agency in board.agencies if agency.parent_code == code)
    else:
        agency = board.agency(code)
        if agency is None:
            raise UnknownSlice(
                _("No agency with the code %(code)r takes part in this scoreboard.") % {"code": code[:40]}
            )
        agencies = (agency,)
        groups = tuple(group for group in board.groups if group.code == agency.parent_code)
    return {name: code}, agencies, groups


def board_json(board, self_points=None, clusters=(), *, agencies=None, groups=None):
    """`self_points`: {(agency code, target code): points} once judging is closed
    (competition.domain.selfassessment); each line's `self_points` is null otherwise.
    `clusters`: the board's clusters at every level (competition.domain.clusters.clusters_of).
    `agencies` and `groups`: a slice of the board's (`board_slice`), all of them by default."""
    self_points = self_points or {}
    agencies = board.agencies if agencies is None else agencies
    groups = board.groups if groups is None else groups
    competition = board.competition
    return {
        "competition": {
            "slug": competition.slug,
            "title": competition.title,
            "start": competition.start.isoformat(),
            "end": competition.end.isoformat(),
            "as_of": board.as_of.isoformat(),
            "at_risk_margin": number(competition.at_risk_margin),
            "jury_aggregation": competition.jury_aggregation,
            "closed": competition.closed,
        },
        "agencies": [
            {
                "code": agency.code,
                "name": agency.name,
                "parent_code": agency.parent_code,
                "rank": agency.rank,
                "group_rank": agency.group_rank,
                "tier": agency.tier,
                "provisional": agency.provisional,
                "score_percent": number(agency.score_percent),
                "progress_percent": number(agency.progress_percent),
                "total_points": number(agency.total_points),
                "max_points": number(agency.max_points),
                "adjustments": number(agency.adjustments),
                "targets": [
                    {
                        "code": line.target_code,
                        "value": number(line.value),
                        "reported_on": line.reported_on.isoformat() if line.reported_on else None,
                        "baseline": number(line.baseline),
                        "target": number(line.target),
                        "progress": number(line.progress),
                        "expected": number(line.expected),
                        "status": line.status,
                        "computed_points": number(line.computed_points),
                        "jury_points": number(line.jury_points),
                        "awarded_points": number(line.awarded_points),
                        "max_points": number(line.max_points),
                        "self_points": number(self_points.get((agency.code, line.target_code))),
                    }
                    for line in agency.lines
                ],
            }
            for agency in agencies
        ],
        "targets": [
            {
                "code": target.code,
                "title": target.title,
                "unit": target.unit,
                "direction": target.direction,
                "deadline": target.deadline.isoformat(),
                "max_points": number(target.max_points),
                "committed": target.committed,
                "reporting": target.reporting,
                "achieved": target.achieved,
                "mean_progress": number(target.mean_progress),
                "status_counts": dict(target.status_counts),
            }
            for target in board.targets
        ],
        "groups": [
            {
                "code": group.code,
                "name": group.name,
                "agencies": group.agencies,
                "mean_score_percent": number(group.mean_score_percent),
                "mean_progress_percent": number(group.mean_progress_percent),
            }
            for group in groups
        ],
        "clusters": [
            {
                "code": cluster.code,
                "name": cluster.name,
                "parent_code": cluster.parent_code,
                "depth": cluster.depth,
                "agencies": cluster.agencies,
                "mean_score_percent": number(cluster.mean_score_percent),
                "mean_progress_percent": number(cluster.mean_progress_percent),
                "targets": [
                    {
                        "code": target.code,
                        "committed": target.committed,
                        "reporting": target.reporting,
                        "achieved": target.achieved,
                        "mean_progress": number(target.mean_progress),
                    }
                    for target in cluster.targets
                ],
            }
            for cluster in clusters
        ],
    }


TABLE_HEADERS = (
    "agency_code",
    "agency_name",
    "parent_code",
    "rank",
    "group_rank",
    "tier",
    "provisional",
    "score_percent",
    "progress_percent",
    "total_points",
    "adjustments",
    "target_code",
    "value",
    "reported_on",
    "baseline",
    "target",
    "progress",
    "expected",
    "status",
    "computed_points",
    "jury_points",
    "awarded_points",
    "max_points",
    "judging_closed",
)


def board_table(board, *, dates=False, agencies=None):
    """One row per agency and target, in ranking order, as a tablib Dataset. Dates are written
    YYYY-MM-DD (CSV), or kept as dates with `dates` (XLSX: cells a spreadsheet sorts as dates).
    `agencies`: a slice of the board's (`board_slice`), all of them by default."""
    dataset = tablib.Dataset(headers=list(TABLE_HEADERS), title="scoreboard")
    closed = "yes" if board.competition.closed else "no"
    for agency in board.agencies if agencies is None else agencies:
        for line in agency.lines:
            dataset.append(
                [
                    agency.code,
                    agency.name,
                    agency.parent_code or "",
                    agency.rank,
                    _cell(agency.group_rank),
                    agency.tier,
                    "yes" if agency.provisional else "no",
                    number(agency.score_percent),
                    number(agency.progress_percent),
                    number(agency.total_points),
                    number(agency.adjustments),
                    line.target_code,
                    _cell(number(line.value)),
                    _day(line.reported_on, dates),
                    number(line.baseline),
                    number(line.target),
                    number(line.progress),
                    number(line.expected),
                    line.status,
                    number(line.computed_points),
                    _cell(number(line.jury_points)),
                    number(line.awarded_points),
                    number(line.max_points),
                    closed,
                ]
            )
    return dataset


def _day(value, as_date):
    if value is None:
        return None if as_date else ""
    return value if as_date else value.isoformat()


def _cell(value):
    return "" if value is None else value


AWARD_HEADERS = (
    "decision_number",
    "decision_date",
    "issued_by",
    "signed_by",
    "document_url",
    "award",
    "agency_code",
    "agency_name",
    "rank",
    "group_rank",
    "tier",
)


def awards_json(competition, commendations, document_url):
    """The commendation decision of a competition and the awards it granted (docs/opendata.md):
    `commendations` as `presentation.commendations` gives it (None before a decision),
    `document_url` the absolute address of the signed decision."""
    decision = commendations["decision"] if commendations else None
    return {
        "competition": {"slug": competition.slug, "title": competition.title, "closed": competition.closed},
        "decision": None
        if decision is None
        else {
            "number": decision.number,
            "issued_on": decision.issued_on.isoformat(),
            "issued_by": decision.issued_by,
            "signed_by": decision.signed_by or None,
            "document_url": document_url,
        },
        "awards": [
            {
                "award": award.name,
                "agency_code": award.agency.code,
                "agency_name": award.agency.name,
                "rank": award.rank,
                "group_rank": award.group_rank,
                "tier": award.tier or None,
            }
            for award in (commendations["awards"] if commendations else ())
        ],
    }


def awards_table(data):
    """`awards_json`'s document as rows, one per award, the decision repeated on each (a header
    alone before a decision), as a tablib Dataset."""
    dataset = tablib.Dataset(headers=list(AWARD_HEADERS), title="awards")
    decision = data["decision"] or {}
    for award in data["awards"]:
        dataset.append(
            [
                decision.get("number", ""),
                decision.get("issued_on", ""),
                decision.get("issued_by", ""),
                _cell(decision.get("signed_by")),
                decision.get("document_url", ""),
                award["award"],
                award["agency_code"],
                award["agency_name"],
                _cell(award["rank"]),
                _cell(award["group_rank"]),
                _cell(award["tier"]),
            ]
        )
    return dataset
