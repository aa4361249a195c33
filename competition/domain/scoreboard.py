"""Loading a competition's scoreboard: a fixed handful of queries whatever the size of the
competition, the database choosing the value of each commitment line (docs/scoring.md, section
2), then the pure rules of `competition.scoring`. Boards are cached per competition, date and
kind (the public board, which counts the jury's points only once judging is closed, or a
manager's board with them); any change to the data behind a board bumps the competition's cache
version, and a stale board is served while one process (a background rebuild, see
`domain.warming`) computes its successor."""

import contextvars
import gc
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from datetime import date
from decimal import Context, Decimal

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from .. import conf, scoring
from ..enums import SubmissionStatus, Unit
from ..models import Adjustment, Agency, TargetMilestone, TargetPage
from . import versions


def competition_spec(competition):
    return scoring.CompetitionSpec(
        slug=competition.slug,
        title=competition.title,
        start=competition.start_date,
        end=competition.end_date,
        at_risk_margin=Decimal(competition.at_risk_margin),
        jury_aggregation=competition.jury_aggregation,
        tiers=tuple((label, Decimal(minimum)) for label, minimum in competition.get_tiers()),
        closed=competition.closed,
    )


def resolve_as_of(competition, as_of=None):
    """The evaluation date: `as_of` (or today) clamped into the competition's period."""
    day = as_of or timezone.localdate()
    return min(max(day, competition.start_date), competition.end_date)


def load_targets(competition):
    """The competition's live targets as (page id, TargetSpec), by code (2 queries). Read as
    values: making 20 Wagtail page instances and their milestones' instances was a tenth of a
    SQLite board build at HCMC size (docs/performance.md, run P)."""
    rows = list(
        TargetPage.objects.live()
        .filter(competition=competition)
        .order_by("code")
        .values_list("pk", "code", "title", "unit", "direction", "baseline", "target_value", "max_points", "deadline")
    )
    milestones = defaultdict(list)
    if rows:
        # In the milestones' own order (Orderable: sort_order), as the page's `milestones` gives them.
        for page_id, on, value in TargetMilestone.objects.filter(page__in=[row[0] for row in rows]).values_list(
            "page_id", "date", "value"
        ):
            milestones[page_id].append(scoring.Milestone(on=on, value=value))
    specs = []
    for pk, code, title, unit, direction, baseline, target_value, max_points, deadline in rows:
        if unit == Unit.BOOLEAN:
            baseline, target_value = Decimal(0), Decimal(1)
        specs.append(
            (
                pk,
                scoring.TargetSpec(
                    code=code,
                    title=title,
                    unit=unit,
                    direction=direction,
                    baseline=baseline,
                    target=target_value,
                    max_points=max_points,
                    deadline=deadline,
                    milestones=tuple(milestones.get(pk, ())),
                ),
            )
        )
    return specs


# Each live commitment line of the competition with the value chosen by docs/scoring.md,
# section 2, and (for a board that counts them) the points of every jury score given to that
# submission. The database picks the submission: on PostgreSQL with one index-only probe of
# `submission_chosen` per line (a lateral join, LIMIT 1), elsewhere with a correlated subquery per
# line; measured against other forms in docs/performance.md. Rows are tuples, never model
# instances. A board without the jury's points never reads a score.
LINES_POSTGRES = """
SELECT c.agency_id, l.target_id, l.baseline, l.target_value, s.value, s.reported_on{score_columns}
FROM competition_commitmentline l
JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
JOIN wagtailcore_page cp ON cp.id = c.page_ptr_id
LEFT JOIN LATERAL (
    SELECT s.id, s.value, s.reported_on FROM competition_submission s
    WHERE s.line_id = l.id AND s.status = %(accepted)s AND s.reported_on <= %(as_of)s
    ORDER BY s.reported_on DESC, s.decided_at DESC NULLS LAST, s.id DESC
    LIMIT 1
) s ON true{score_join}
WHERE c.competition_id = %(competition)s AND cp.live
"""
SCORE_JOIN_POSTGRES = """
LEFT JOIN LATERAL (
    SELECT {scores} FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted
) sc ON s.id IS NOT NULL"""
# What PostgreSQL sends of each chosen submission's scores: the exact totals where the
# aggregation needs no more (scoring.aggregate_totals; a third faster than every score), else
# the scores.
SCORE_TOTALS = {
    "mean": "count(*), sum(j.points), NULL::numeric, NULL::numeric",
    "trimmed_mean": "count(*), sum(j.points), min(j.points), max(j.points)",
}
SCORE_LIST = "array_agg(j.points)"

# SQLite sorts NULL lowest, so `decided_at DESC` already puts submissions never decided last.
LINES_GENERIC = """
SELECT x.agency_id, x.target_id, x.baseline, x.target_value, s.value, {reported_on}, {scores}
FROM (
    SELECT c.agency_id, l.target_id, l.baseline, l.target_value, (
        SELECT s.id FROM competition_submission s
        WHERE s.line_id = l.id AND s.status = %(accepted)s AND s.reported_on <= %(as_of)s
        ORDER BY s.reported_on DESC, s.decided_at DESC, s.id DESC
        LIMIT 1
    ) AS submission_id
    FROM competition_commitmentline l
    JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
    JOIN wagtailcore_page cp ON cp.id = c.page_ptr_id
    WHERE c.competition_id = %(competition)s AND cp.live
) x
LEFT JOIN competition_submission s ON s.id = x.submission_id
"""
SCORES_GENERIC = (
    "(SELECT group_concat(j.points, ' ') FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted)"
)

_PLACES = Decimal(1).scaleb(-4)  # the 4 decimal places of every value column (decimal_field)
_from_float = Context(prec=15).create_decimal_from_float


class _Converted(dict):
    """`convert(key)` of each key asked for, converted once."""

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, key):
        value = self[key] = self.convert(key)
        return value


def _generic_rows(rows, method=None):
    """SQLite hands back numbers and dates as the driver reads them: convert them the way the
    ORM does (decimal columns quantized to their places, subquery values as read). Each distinct
    date and jury score text is converted once per board: a board's lines share a few report
    dates and score texts, and converting them row by row was half of a SQLite build's Python
    (docs/performance.md, run M). With `method` (the competition's jury aggregation), each
    distinct score text is also aggregated once into the jury points (`scoring.aggregate` of
    its scores, the figure the scorer would compute from them; 3,134 texts but 1,303 distinct at
    HCMC size, run P), and rows carry the jury points instead of the scores, as on PostgreSQL."""
    days = _Converted(date.fromisoformat)
    points_of = _Converted(lambda text: [Decimal(score).quantize(_PLACES) for score in text.split(" ")])
    if method is None:
        scores_of, jury_of = points_of, _Converted(lambda text: None)
    else:
        scores_of = _Converted(lambda text: None)
        jury_of = _Converted(lambda text: scoring.aggregate(points_of[text], method))
    for agency_id, target_id, baseline, target_value, value, reported_on, points in rows:
        yield (
            agency_id,
            target_id,
            None if baseline is None else _from_float(baseline).quantize(_PLACES),
            None if target_value is None else _from_float(target_value).quantize(_PLACES),
            None if value is None else _from_float(value),
            reported_on if reported_on is None or isinstance(reported_on, date) else days[reported_on],
            scores_of[points] if points else None,
            jury_of[points] if points else None,
        )


def _postgres_rows(rows, method):
    """Rows of LINES_POSTGRES with the jury points worked out from the score totals (`method`
    set), the scores as sent (`method` None), or no scores read (`method` False)."""
    if method is False:
        for row in rows:
            yield (*row, None, None)
        return
    if method is None:
        for row in rows:
            yield (*row, None)
        return
    aggregate_totals = scoring.aggregate_totals
    for agency_id, target_id, baseline, target_value, value, reported_on, count, total, lowest, highest in rows:
        jury = aggregate_totals(method, count, total, lowest, highest) if count else None
        yield agency_id, target_id, baseline, target_value, value, reported_on, None, jury


def load_lines(competition, as_of, *, with_jury=True):
    """(agency id, target id, own baseline, own target, value, reported_on, [points] or None,
    jury points or None) for each commitment line on a live commitment page of `competition`
    (1 query). Either the points of the jury scores or, already aggregated, the jury points;
    neither without `with_jury`."""
    return list(iter_lines(competition, as_of, with_jury=with_jury))


def iter_lines(competition, as_of, *, with_jury=True):
    """`load_lines` as an iterator. On PostgreSQL (with libpq 17 or later) the rows are streamed
    in chunks as the server produces them, so that the build works on the first lines while
    the server is still choosing the values of the next ones: on two cores, the Python half of
    a national build then mostly overlaps the query instead of following it
    (docs/performance.md). The query is logged like any other (CaptureQueriesContext, DEBUG)."""
    params = {"competition": competition.pk, "as_of": as_of, "accepted": SubmissionStatus.ACCEPTED.value}
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sql = LINES_GENERIC.replace("{scores}", SCORES_GENERIC if with_jury else "NULL")
            # As text on SQLite, whose driver would parse each row's date (Django's converter of
            # the column's declared type); _generic_rows parses each distinct date once.
            sql = sql.replace(
                "{reported_on}", "CAST(s.reported_on AS TEXT)" if connection.vendor == "sqlite" else "s.reported_on"
            )
            cursor.execute(sql, {**params, "as_of": as_of.isoformat()})
            yield from _generic_rows(cursor.fetchall(), competition.jury_aggregation)
            return
        if with_jury:
            totals = SCORE_TOTALS.get(competition.jury_aggregation)
            join = SCORE_JOIN_POSTGRES.replace("{scores}", totals or SCORE_LIST)
            sql = LINES_POSTGRES.replace("{score_columns}", ", sc.*").replace("{score_join}", join)
            method = competition.jury_aggregation if totals else None
        else:
            sql = LINES_POSTGRES.replace("{score_columns}", "").replace("{score_join}", "")
            method = False
        if _can_stream():
            # Django's cursor wrapper has no streaming: the driver's cursor streams, and the
            # wrapper's debug_sql (present when queries are being recorded) logs the query.
            logged = cursor.debug_sql(sql, params) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged:
                rows = cursor.cursor.stream(sql, params, size=STREAM_ROWS)
                yield from _postgres_rows(rows, method)
        else:
            cursor.execute(sql, params)
            yield from _postgres_rows(cursor.fetchall(), method)


# Rows per chunk of a streamed result. Measured (docs/performance.md): 1,000 and 500 alike best at
# HCMC size (1.67-1.70x the floor; 2,000: 1.93x, as 3,680 rows made only two chunks to overlap;
# 250: 2.0x), all alike at national size (1.01-1.11x); 100 and 5,000 worse.
STREAM_ROWS = 1000


def _can_stream():
    try:
        from psycopg import capabilities
    except ImportError:  # psycopg 2, or psycopg 3 before 3.2
        return False
    return capabilities.has_stream_chunked()


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector. A national board allocates some 200,000 small
    objects that stay alive; each collection the allocations trigger walks all of them, which
    took a third of the build (measured). Nothing here creates reference cycles: plain
    reference counting frees it all, and collection resumes after the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_board(competition, as_of, *, with_jury=None):
    """Compute the board of `competition` at `as_of` (already clamped) from the database: the
    public board (`with_jury` None: the jury's points count once judging is closed), or the
    board with (True) or without (False) the jury's points. Once results are published, the
    public board of the result's date is the published one, as it was computed then
    (docs/results.md): one query instead of a build."""
    if with_jury is None and competition.closed and as_of == competition.end_date:
        published = official_board(competition, as_of)
        if published is not None:
            return published
    with _collector_paused():
        return _load_board(competition, as_of, with_jury)


def official_board(competition, as_of):
    """The board of the competition's current official result at `as_of`, or None."""
    from ..models import OfficialResult

    data = (
        OfficialResult.objects.filter(competition=competition, withdrawn_at__isnull=True, as_of=as_of)
        .values_list("board", flat=True)
        .first()
    )
    return None if data is None else scoring.board_from_data(data)


def _load_board(competition, as_of, with_jury):
    spec = competition_spec(competition)
    targets = load_targets(competition)
    codes = {target_id: target.code for target_id, target in targets}
    scorer = scoring.BoardScorer(spec, [target for _pk, target in targets], as_of, with_jury=with_jury)
    score = scorer.score
    results_by_agency = defaultdict(list)
    # Each line is scored as its row arrives (iter_lines streams them on PostgreSQL); no reading
    # when nothing was reported (reported_on None).
    for agency_id, target_id, baseline, target_value, value, reported_on, points, jury in iter_lines(
        competition, as_of, with_jury=scorer.with_jury
    ):
        code = codes.get(target_id)
        if code is None:  # a target that is not live (or not of this competition)
            continue
        results_by_agency[agency_id].append(score(code, baseline, target_value, value, reported_on, points or (), jury))
    # Only agencies with a line count (an empty commitment page takes no part).
    agencies = Agency.objects.filter(commitments__competition=competition, commitments__live=True).values_list(
        "pk", "code", "name", "parent__code", "parent__name"
    )
    # Section 6: the adjustments dated on or before the board's date (a handful per agency).
    dated = defaultdict(list)
    for agency_id, on, points in Adjustment.objects.filter(competition=competition).values_list(
        "agency_id", "on", "points"
    ):
        dated[agency_id].append((on, points))
    return scorer.board(
        (
            scoring.AgencyInput(
                code=code,
                name=name,
                parent_code=parent_code,
                parent_name=parent_name,
                adjustments=scoring.adjustments_total(dated.get(agency_id, ()), as_of),
            ),
            results_by_agency[agency_id],
        )
        for agency_id, code, name, parent_code, parent_name in agencies
        if agency_id in results_by_agency
    )


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
    version, floor, found = cache_entries(competition_id, [key] if key else [])
    return version, floor, found.get(key) if key else None


def cache_entries(competition_id, keys, *, floor=True):
    """(version, floor, {key: entry} of those of `keys` the cache holds), as `cache_state`, in
    one cache round trip. `floor` False: for a reader that serves no stale entry (a slice of
    scoreboard.json), the floor is not read unless this process remembers versions (floor
    None); one key less to read and unpickle."""
    cache = board_cache()
    # This process may remember the version (and floor) itself: see `versions`.
    watch = versions.current()
    if watch is not None:
        known = watch.recall(competition_id)
        if known is not None:
            if len(keys) == 1:
                entry = cache.get(keys[0])
                return (*known, {} if entry is None else {keys[0]: entry})
            return (*known, cache.get_many(keys) if keys else {})
        reading = watch.reading()
    version_key, floor_key = _version_key(competition_id), _floor_key(competition_id)
    if not floor and watch is None:
        found = cache.get_many([version_key, *keys])
        floor_key = None
    else:
        found = cache.get_many([version_key, floor_key, *keys])
    version = found.get(version_key)
    if version is None:
        # A new version never repeats an old one (say, after the cache evicted the version but
        # kept entries made under it): it starts from the clock. A cache that keeps nothing
        # (DummyCache) thus gives a new version to every request, and nothing is ever fresh.
        first = time.time_ns() // 1000
        cache.add(version_key, first, timeout=None)
        version = cache.get(version_key, first)
    floor = None if floor_key is None else found.pop(floor_key, 0)
    found.pop(version_key, None)
    if watch is not None:
        watch.remember(competition_id, version, floor, reading)
    return version, floor, found


def board_version(competition_id):
    return cache_state(competition_id)[0]


# The cache version of public pages that show several competitions (a site's home page listing
# them with their headline figures): any change to any competition makes them stale.
LISTINGS = 0


def invalidate(competition_id, *, drop_stale=False, progress=True, mark=True):
    """Every cached board and page of the competition is stale from now on, and so is every
    kept listing of competitions (LISTINGS). With `drop_stale`, stale copies are not even served
    while fresh ones are computed (for data that must disappear at once, such as an unpublished
    page). With `progress` (the default), so is what depends only on the agencies' progress (the
    history of the progress chart, `progress_version`): only a change that cannot touch any
    line's value, target or weight, nor which lines and agencies take part, passes False. Such a
    change also marks the whole summary of the competition's history out of date, to be
    computed again right after the commit (`history.summarise`), unless `mark` is False: the
    signals (competition.signals) mark the agencies a change touches in its own transaction,
    before this runs after the commit; a direct call (after a queryset update or raw SQL, which
    send no signals) knows no more than the competition."""
    if progress and mark and competition_id != LISTINGS:
        from .history import summarise

        summarise([competition_id])
    if competition_id != LISTINGS:
        _bump(LISTINGS, drop_stale)
    _bump(competition_id, drop_stale)
    if progress:
        _bump_progress(competition_id)


def _bump(competition_id, drop_stale):
    cache = board_cache()
    key = _version_key(competition_id)
    try:
        version = cache.incr(key)
    except ValueError:
        version = time.time_ns() // 1000
        cache.set(key, version, timeout=None)
    if drop_stale:
        cache.set(_floor_key(competition_id), version, timeout=None)
    versions.announce(cache, competition_id)


def _progress_version_key(competition_id):
    return f"competition:progress-version:{competition_id}"


def _bump_progress(competition_id):
    cache = board_cache()
    key = _progress_version_key(competition_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, time.time_ns() // 1000, timeout=None)


def progress_state(competition_id, key):
    """(the competition's progress version, the entry at `key` or None), in one cache round
    trip: the version of what only depends on the agencies' progress, which `invalidate` changes
    unless told that a change cannot touch it (a jury score, an adjustment, a published result).
    Like the board's version, a missing one starts from the clock and never repeats an old one."""
    cache = board_cache()
    version_key = _progress_version_key(competition_id)
    found = cache.get_many([version_key, key])
    version = found.get(version_key)
    if version is None:
        first = time.time_ns() // 1000
        cache.add(version_key, first, timeout=None)
        version = cache.get(version_key, first)
    return version, found.get(key)


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


def _kind(competition, with_jury):
    """The part of a cache key that tells the public board from a manager's (section 6)."""
    if with_jury is None:
        with_jury = competition.closed
    return "jury" if with_jury else "computed"


def board_key(competition, day, with_jury=None):
    """The cache key of a competition's board at `day` (already clamped), of the kind `get_board`
    takes `with_jury` for."""
    return f"competition:scoreboard:{competition.pk}:{day.isoformat()}:{_kind(competition, with_jury)}"


def figures_key(competition, name):
    """The cache key of the figures `name` made from the competition's public board of today."""
    day = timezone.localdate()
    return f"competition:figures:{name}:{competition.pk}:{day.isoformat()}:{_kind(competition, None)}"


def board_figures(competition, name, compute):
    """`compute(board)` for the competition's public board of today, kept in the cache beside the
    board under the same version: a listing of competitions reads a few figures per competition
    instead of loading each whole board (a national one has 66,000 lines to unpickle). The
    figures are kept only when made from a fresh board; a stale board used on the way is noted
    for the enclosing `noting_stale_boards`, as `get_board` notes it."""
    key = figures_key(competition, name)
    version, _floor, entry = cache_state(competition.pk, key)
    if entry is not None and entry[0] == version:
        return entry[1]
    outer = _stale_reads.get()
    with noting_stale_boards() as stale:
        figures = compute(get_board(competition))
    if stale:
        if outer is not None:
            outer.extend(stale)
    else:
        board_cache().set(key, (version, figures), timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))
    return figures


def get_board(competition, as_of=None, *, fresh=False, with_jury=None):
    """The cached board of `competition` at `as_of` (clamped into its period): the public board
    (`with_jury` None), or the board with or without the jury's points (True, False; a manager's
    view, never a public one).

    Only one process computes a given board at a time (a lock in the cache). Meanwhile the others
    serve the previous board (stale-while-revalidate) when there is one and `fresh` is false, or
    wait for the result (up to COMPUTE_WAIT_SECONDS, then compute it themselves). The kind of
    board is part of its key: a public board made while judging was open is never served once it
    is closed, nor the reverse."""
    day = resolve_as_of(competition, as_of)
    cache = board_cache()
    key = board_key(competition, day, with_jury)
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
        board = load_board(competition, day, with_jury=with_jury)
        cache.set(key, (version, board), timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))
    finally:
        if locked:
            cache.delete(lock)
    return board


def board_and_freshness(competition, as_of=None):
    """(the public board at `as_of` as `get_board` gives it, whether it is fresh): what is made
    from a board served stale is not to be kept as fresh. A stale board is noted for the
    enclosing `noting_stale_boards`, as `get_board` notes it."""
    outer = _stale_reads.get()
    with noting_stale_boards() as stale:
        board = get_board(competition, as_of)
    if stale and outer is not None:
        outer.extend(stale)
    return board, not stale
