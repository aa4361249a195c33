"""An agency's record of achievements: across every competition it took part in (a live
commitment page of a live competition page open to everyone), its final rank, rank in its
cluster, tier and awards, newest competition first; for a competition whose results are not
published yet, its current provisional rank.

The queries do not grow with the number of competitions: the agency's standing in every
published result is taken out of the kept boards by the database in one query, the awards in
another; the provisional standings of competitions still being judged come from the figures
kept in the cache beside each competition's board of today (`scoreboard.board_figures`; a board
missing from the cache is computed once, then kept until its data changes)."""

import json
from decimal import Decimal

from django.db import connection

from ..models import Award, CommendationDecision, CommitmentPage, OfficialResult
from .scoreboard import board_figures, get_board

# The agency's entry of the current official result of each competition, without its lines:
# (competition id, entry as JSON). The database walks the kept boards itself.
STANDINGS_POSTGRES = """
SELECT r.competition_id, a.value - 'lines'
FROM competition_officialresult r
CROSS JOIN LATERAL jsonb_array_elements(r.board -> 'agencies') a
WHERE r.competition_id = ANY(%(competitions)s) AND r.withdrawn_at IS NULL AND a.value ->> 'code' = %(code)s
"""
STANDINGS_SQLITE = """
SELECT r.competition_id, json_remove(a.value, '$.lines')
FROM competition_officialresult r, json_each(r.board, '$.agencies') a
WHERE r.competition_id IN ({competitions}) AND r.withdrawn_at IS NULL AND json_extract(a.value, '$.code') = %s
"""


def standing_of(entry):
    """The figures of an agency's result the record shows, from a board's `AgencyResult` or
    its kept form (`scoring.board_to_data`)."""
    get = entry.get if isinstance(entry, dict) else lambda name: getattr(entry, name)
    return {
        "rank": get("rank"),
        "group_rank": get("group_rank"),
        "tier": get("tier"),
        "score_percent": Decimal(str(get("score_percent"))),
        "provisional": get("provisional"),
    }


def published_standings(competition_ids, code):
    """{competition id: standing} of the agency `code` in the current official result of each
    competition (1 query)."""
    if not competition_ids:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(STANDINGS_POSTGRES, {"competitions": list(competition_ids), "code": code})
        elif connection.vendor == "sqlite":
            placeholders = ", ".join(["%s"] * len(competition_ids))
            cursor.execute(STANDINGS_SQLITE.format(competitions=placeholders), [*competition_ids, code])
        else:  # any other database: the whole kept boards, read in Python
            results = OfficialResult.objects.filter(competition__in=competition_ids, withdrawn_at__isnull=True)
            found = {}
            for competition_id, board in results.values_list("competition_id", "board"):
                entry = next((agency for agency in board["agencies"] if agency["code"] == code), None)
                if entry is not None:
                    found[competition_id] = standing_of(entry)
            return found
        rows = cursor.fetchall()
    return {
        competition_id: standing_of(entry if isinstance(entry, dict) else json.loads(entry))
        for competition_id, entry in rows
    }


def provisional_standing(competition, code):
    """(standing or None, the board's date) of the agency in the competition's public board of
    today, from the figures kept beside it."""

    def compute(board):
        return {"as_of": board.as_of, "agencies": {agency.code: standing_of(agency) for agency in board.agencies}}

    figures = board_figures(competition, "standings", compute)
    return figures["agencies"].get(code), figures["as_of"]


def record(agency, request):
    """The agency's record: one entry per competition it took part in, newest first (by the end
    of the competition's period, then its start), each with the competition, the URLs of the
    competition and commitment pages, whether the results are published, the standing (None
    when the agency is not on the board: a commitment without any target), whether a
    commendation decision is recorded and the awards it granted the agency."""
    commitments = list(
        CommitmentPage.objects.live()
        .public()
        .filter(agency=agency, competition__live=True)
        .select_related("competition")
        .order_by("-competition__end_date", "-competition__start_date", "competition__title", "pk")
    )
    closed = [commitment.competition_id for commitment in commitments if commitment.competition.closed]
    published = published_standings(closed, agency.code)
    kept = set(
        OfficialResult.objects.filter(competition__in=closed, withdrawn_at__isnull=True).values_list(
            "competition_id", flat=True
        )
    )
    decided = set(CommendationDecision.objects.filter(competition__in=closed).values_list("competition_id", flat=True))
    awards = {}
    granted = (
        Award.objects.filter(agency=agency, competition__in=closed, decision__isnull=False, removed=False)
        .select_related("decision")
        .order_by("position", "pk")
    )
    for award in granted:
        awards.setdefault(award.competition_id, []).append(award)
    entries = []
    for commitment in commitments:
        competition = commitment.competition
        as_of = None
        if competition.closed:
            standing = published.get(competition.pk)
            if competition.pk not in kept:
                # Closed without a kept result (judging closed before results were kept): the
                # public board of the end, which counts the jury's points.
                result = get_board(competition, competition.end_date).agency(agency.code)
                standing = standing_of(result) if result else None
        else:
            standing, as_of = provisional_standing(competition, agency.code)
        entries.append(
            {
                "competition": competition,
                "competition_url": competition.get_url(request),
                "commitment_url": commitment.get_url(request),
                "published": competition.closed,
                "decided": competition.pk in decided,
                "as_of": as_of,
                "standing": standing,
                "awards": awards.get(competition.pk, []),
            }
        )
    return entries
