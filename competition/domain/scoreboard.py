"""Loading a competition's scoreboard: a fixed handful of queries whatever the size of the
competition, the database choosing the value of each commitment line (SCORING.md, section 2),
then the pure rules of `competition.scoring`. Boards are cached per competition and date; any
change to the data behind a board bumps the competition's cache version, and a stale board is
served while one process (a background rebuild, see `domain.warming`) computes its successor."""

import contextvars
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.core.cache import caches
from django.db.models import F, OuterRef, Subquery, Sum
from django.utils import timezone

from .. import conf, scoring
from ..enums import SubmissionStatus, Unit
from ..models import Adjustment, CommitmentLine, JuryScore, Submission, TargetPage


def competition_spec(competition):
    return scoring.CompetitionSpec(
        slug=competition.slug,
        title=competition.title,
        start=competition.start_date,
        end=competition.end_date,
        at_risk_margin=Decimal(competition.at_risk_margin),
        jury_aggregation=competition.jury_aggregation,
        tiers=tuple((label, Decimal(minimum)) for label, minimum in competition.get_tiers()),
    )


def resolve_as_of(competition, as_of=None):
    """The evaluation date: `as_of` (or today) clamped into the competition's period."""
    day = as_of or timezone.localdate()
    return min(max(day, competition.start_date), competition.end_date)


def load_targets(competition):
    """The competition's live targets as TargetSpecs, by code (2 queries)."""
    targets = (
        TargetPage.objects.live()
        .filter(competition=competition)
        .only("code", "title", "unit", "direction", "baseline", "target_value", "max_points", "deadline", "competition")
        .prefetch_related("milestones")
        .order_by("code")
    )
    specs = []
    for target in targets:
        baseline, target_value = target.baseline, target.target_value
        if target.unit == Unit.BOOLEAN:
            baseline, target_value = Decimal(0), Decimal(1)
        specs.append(
            scoring.TargetSpec(
                code=target.code,
                title=target.title,
                unit=target.unit,
                direction=target.direction,
                baseline=baseline,
                target=target_value,
                max_points=target.max_points,
                deadline=target.deadline,
                milestones=tuple(scoring.Milestone(on=m.date, value=m.value) for m in target.milestones.all()),
            )
        )
    return specs


def chosen_submissions(as_of):
    """For each commitment line (OuterRef pk), its accepted submissions on or before `as_of`,
    best first: latest reporting date, then the later acceptance, then the higher key."""
    return Submission.objects.filter(
        line=OuterRef("pk"), status=SubmissionStatus.ACCEPTED, reported_on__lte=as_of
    ).order_by("-reported_on", F("decided_at").desc(nulls_last=True), "-pk")


def load_board(competition, as_of):
    """Compute the board of `competition` at `as_of` (already clamped) from the database."""
    spec = competition_spec(competition)
    targets = load_targets(competition)
    target_codes = {target.code for target in targets}
    chosen = chosen_submissions(as_of)
    committed = CommitmentLine.objects.filter(
        commitment__competition=competition, commitment__live=True, target__live=True
    ).annotate(reading_id=Subquery(chosen.values("pk")[:1]))
    lines = list(
        committed.annotate(
            reading_value=Subquery(chosen.values("value")[:1]),
            reading_on=Subquery(chosen.values("reported_on")[:1]),
        )
        .values_list(
            "commitment__agency_id",
            "commitment__agency__code",
            "commitment__agency__name",
            "commitment__agency__parent__code",
            "commitment__agency__parent__name",
            "target__code",
            "baseline",
            "target_value",
            "reading_id",
            "reading_value",
            "reading_on",
        )
        .order_by("commitment__agency__code", "target__code")
    )
    # Only the scores of the chosen submissions: the database picks them with the same subquery.
    scores = defaultdict(list)
    for submission_id, points in JuryScore.objects.filter(submission_id__in=committed.values("reading_id")).values_list(
        "submission_id", "points"
    ):
        scores[submission_id].append(points)
    adjustments = dict(
        Adjustment.objects.filter(competition=competition)
        .values("agency_id")
        .annotate(total=Sum("points"))
        .values_list("agency_id", "total")
    )
    agencies = {}
    agency_lines = defaultdict(list)
    for (
        agency_id,
        code,
        name,
        parent_code,
        parent_name,
        target_code,
        baseline,
        target_value,
        reading_id,
        value,
        reported_on,
    ) in lines:
        if target_code not in target_codes:
            continue
        agencies.setdefault(agency_id, (code, name, parent_code, parent_name))
        reading = None
        if reading_id is not None:
            reading = scoring.Reading(
                value=value, reported_on=reported_on, jury_scores=tuple(scores.get(reading_id, ()))
            )
        agency_lines[agency_id].append(
            scoring.LineInput(target_code=target_code, baseline=baseline, target=target_value, reading=reading)
        )
    inputs = [
        scoring.AgencyInput(
            code=code,
            name=name,
            parent_code=parent_code,
            parent_name=parent_name,
            lines=tuple(agency_lines[agency_id]),
            adjustments=adjustments.get(agency_id) or Decimal(0),
        )
        for agency_id, (code, name, parent_code, parent_name) in agencies.items()
    ]
    return scoring.compute_board(spec, targets, inputs, as_of)


def board_cache():
    """The cache boards, their versions and the public pages built from them live in."""
    return caches[conf.get("CACHE_ALIAS")]


_cache = board_cache


def _version_key(competition_id):
    return f"competition:scoreboard-version:{competition_id}"


def _floor_key(competition_id):
    return f"competition:scoreboard-stale-floor:{competition_id}"


def cache_state(competition_id, key=None):
    """(version, floor, the entry at `key` or None) of the competition's cached data, in one
    cache round trip. An entry made at another version is stale; a stale entry made below
    `floor` is never served, not even while its replacement is being computed (after an
    unpublication or a deletion)."""
    cache = board_cache()
    version_key, floor_key = _version_key(competition_id), _floor_key(competition_id)
    found = cache.get_many([version_key, floor_key, *([key] if key else [])])
    version = found.get(version_key)
    if version is None:
        # A new version never repeats an old one (say, after the cache evicted the version but
        # kept entries made under it): it starts from the clock. A cache that keeps nothing
        # (DummyCache) thus gives a new version to every request, and nothing is ever fresh.
        first = time.time_ns() // 1000
        cache.add(version_key, first, timeout=None)
        version = cache.get(version_key, first)
    return version, found.get(floor_key, 0), found.get(key) if key else None


def board_version(competition_id):
    return cache_state(competition_id)[0]


def invalidate(competition_id, *, drop_stale=False):
    """Every cached board and page of the competition is stale from now on. With `drop_stale`,
    stale copies are not even served while fresh ones are computed (for data that must
    disappear at once, such as an unpublished page)."""
    cache = board_cache()
    key = _version_key(competition_id)
    try:
        version = cache.incr(key)
    except ValueError:
        version = time.time_ns() // 1000
        cache.set(key, version, timeout=None)
    if drop_stale:
        cache.set(_floor_key(competition_id), version, timeout=None)


_stale_reads = contextvars.ContextVar("competition_stale_reads", default=None)


@contextmanager
def noting_stale_boards():
    """Within the block, every board served stale (see `get_board`) is noted in the list it
    yields, so that a response built from one is not cached as fresh."""
    noted = []
    token = _stale_reads.set(noted)
    try:
        yield noted
    finally:
        _stale_reads.reset(token)


def get_board(competition, as_of=None, *, fresh=False):
    """The cached board of `competition` at `as_of` (clamped into its period).

    Only one process computes a given board at a time (a lock in the cache). Meanwhile the others
    serve the previous board (stale-while-revalidate) when there is one and `fresh` is false, or
    wait for the result (up to COMPUTE_WAIT_SECONDS, then compute it themselves)."""
    day = resolve_as_of(competition, as_of)
    cache = board_cache()
    key = f"competition:scoreboard:{competition.pk}:{day.isoformat()}"
    version, floor, entry = cache_state(competition.pk, key)
    if entry is not None and entry[0] == version:
        return entry[1]
    lock = f"{key}:computing"
    deadline = time.monotonic() + conf.get("COMPUTE_WAIT_SECONDS")
    locked = cache.add(lock, 1, timeout=conf.get("COMPUTE_LOCK_SECONDS"))
    while not locked:
        if entry is not None and entry[0] >= floor and not fresh:
            noted = _stale_reads.get()
            if noted is not None:
                noted.append(key)
            return entry[1]
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
        entry = cache.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        locked = cache.add(lock, 1, timeout=conf.get("COMPUTE_LOCK_SECONDS"))
    try:
        board = load_board(competition, day)
        cache.set(key, (version, board), timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))
    finally:
        if locked:
            cache.delete(lock)
    return board
