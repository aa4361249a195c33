"""The scoreboard as open data: the JSON document described in docs/opendata.md and the same
table as rows (one per agency and target) for CSV and XLSX."""

from decimal import ROUND_HALF_UP, Decimal

import tablib

FOUR_PLACES = Decimal("0.0001")


def number(value):
    """A JSON number rounded to 4 decimals (None stays null)."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def board_json(board):
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
                    }
                    for line in agency.lines
                ],
            }
            for agency in board.agencies
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
            for group in board.groups
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


def board_table(board):
    """One row per agency and target, in ranking order, as a tablib Dataset."""
    dataset = tablib.Dataset(headers=list(TABLE_HEADERS), title="scoreboard")
    closed = "yes" if board.competition.closed else "no"
    for agency in board.agencies:
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
                    line.reported_on.isoformat() if line.reported_on else "",
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


def _cell(value):
    return "" if value is None else value
