"""The progress chart of a competition page: the mean progress of its agencies (the mean of their
`progress_percent`, rounded to 2 decimals) at each month end of the period up to the page's date,
the same figures the public board of each of those dates gives, without building those boards.

An agency's progress at a date only depends on the value each of its lines has then (docs/
scoring.md, sections 2, 3 and 7: neither the jury, nor adjustments, nor deadlines count), so the
whole history is one pass over the accepted submissions, in one query: each submission, in the
order in which section 2 chooses them, changes its line's progress from that of the previous one
to its own, weighted by the line's share of its agency's maximum points; these changes, added up
by reporting date and then from date to date, are the sum of every agency's progress at each
month end.

Those changes are kept in the database, summed by agency and reporting date (models.ProgressChange,
with a row without a date for each agency taking part), so that a chart reads a few rows per
agency, not every submission. An agency's rows depend only on its own lines, their targets and
its submissions (a line's weight is its maximum points over its agency's), so they are recomputed
agency by agency, by the same SQL restricted to those agencies. A change to one agency marks it
out of date in the change's own transaction (models.ProgressDirty, written by competition.signals:
a submission, line or commitment page marks its agency, a page moved to another agency or
competition both, a data feed's values the agency of its token; a target or commitment page
unpublished as a plain Page, by Wagtail's expiry or a bulk unpublication, marks in its save's own
transaction too, and the rows these read before a save are locked). The chart's one query reads the
summary rows of the agencies not marked and computes the marked ones from their submissions, in
one statement (one snapshot); the background rebuild (`refresh`, from `warming.rebuild`) brings
the marked agencies' rows up to date. A change to many agencies at once marks them too, and
refreshes them itself right after its commit rather than waiting for the background task, so
that readers compute them all from their submissions (2.6 times a board at HCMC size) only for
the moment the refresh takes: a values import, either path, the agencies it wrote to
(`mark_and_refresh`); a target's figures, weight or publication, an import of targets or
commitments run row by row, or a call of `scoreboard.invalidate` after a queryset update, the
whole competition (`summarise`). A change to nothing the summary reads (a competition page's
period or texts, a target's draft, the tree, a site, an agency's name, a jury score) touches
nothing. Readers never write.

The database adds floating-point numbers, the board exact decimals. Both lie within far less
than 1e-6 of the exact mean (at a million lines the float error is below 1e-7), so rounding either
to 2 decimals gives the same figure unless the mean lies within `MARGIN` of a rounding boundary
(x.xx5); for such a date the board itself is built (rare: it happens to about one date in 500),
so that every figure is the board's to the last digit. The summary adds the same terms in another
order (by agency and date, then the agencies' sums by date): a float sum of n terms of at most 1
in any order lies within n x 2^-53 (about 1e-10 for a million terms) of the exact one, far less
than MARGIN (1e-6 of a percent), so the argument holds whichever agencies come from the summary.

What the query returns is kept (`kept_month_figures`) until something progress depends on
changes (the progress version: not a jury score, an adjustment or a published result), for every
chart whose month ends it covers, whatever the chart's date: a new `as_of`, language or sort,
or a change of the jury's scores, costs a cold competition page its board and a cache read."""

import json
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from .. import conf
from ..enums import SubmissionStatus
from .scoreboard import board_cache, get_board, progress_state

# Half-cents the database's mean may be off by before the board of the date is built instead.
MARGIN = 1e-4  # in hundredths of a percent: 1e-6 of a percent

# The figures of a line `l` on its target `t` that its progress needs (section 3; a boolean runs
# from 0 up to 1 whatever its B, T and direction), shared by both forms of the query below.
LINE_FIGURES = """CASE WHEN t.unit = 'boolean' THEN 0 ELSE COALESCE(l.baseline, t.baseline) END AS b,
    CASE WHEN t.unit = 'boolean' THEN 1 ELSE COALESCE(l.target_value, t.target_value) END AS t,
    CASE WHEN t.unit = 'boolean' THEN 'higher' ELSE t.direction END AS direction"""
# From those figures of a line `x`: its B as a float, T - B, and its `kind` (0 measures
# (V - B) / (T - B) clamped into [0, 1], in either direction; 1 and 2 are the steps "V >= T" and
# "V <= T" of a target without room to move).
SPAN_AND_KIND = """CAST(x.b AS DOUBLE PRECISION) AS bf,
    CAST(x.t AS DOUBLE PRECISION) - CAST(x.b AS DOUBLE PRECISION) AS span,
    CASE
        WHEN (x.direction = 'higher' AND x.t > x.b) OR (x.direction <> 'higher' AND x.t < x.b) THEN 0
        WHEN x.direction = 'higher' THEN 1
        ELSE 2
    END AS kind"""

# Each live commitment line of the competition on a live target, with what its progress needs (the
# two fragments above), and its weight: its maximum points over its agency's. On PostgreSQL the live
# targets and commitment pages are read first, on their own (MATERIALIZED): joined in one go with
# the lines, the planner, which expects a target or two where there are twenty, probed the pages
# once per line (66,000 times at national size) and sorted the lines on disk for a window; this way
# the lines are hashed once (the query 21 % faster at national size, the same at HCMC size:
# docs/performance.md, run J). The weights are a window over the lines, not a join with their
# agencies' totals: restricted to the marked agencies, the pages' estimate falls to one row, and
# the planner then ran the totals' aggregate once per line (3,680 times at HCMC size when the
# whole competition was marked: 59 of the query's 110 ms; run R). Then the change each accepted
# submission up to the last month end makes (`changes`, below), summed by reporting date: at most
# one row a day.
WEIGHTED_POSTGRES = """live_targets AS MATERIALIZED (
    SELECT t.page_ptr_id AS id, t.max_points AS mp, t.unit, t.baseline, t.target_value, t.direction
    FROM competition_targetpage t JOIN wagtailcore_page tp ON tp.id = t.page_ptr_id
    WHERE t.competition_id = %(competition)s AND tp.live
),
live_pages AS MATERIALIZED (
    SELECT c.page_ptr_id AS id, c.agency_id
    FROM competition_commitmentpage c JOIN wagtailcore_page cp ON cp.id = c.page_ptr_id
    WHERE c.competition_id = %(competition)s AND cp.live{scope}
),
lines AS (
    SELECT l.id, p.agency_id, t.mp,
        {LINE_FIGURES}
    FROM competition_commitmentline l
    JOIN live_pages p ON p.id = l.commitment_id
    JOIN live_targets t ON t.id = l.target_id
),
weighted AS (
    SELECT x.id, x.agency_id, x.t,
        {SPAN_AND_KIND},
        CASE WHEN SUM(x.mp) OVER (PARTITION BY x.agency_id) > 0
            THEN CAST(x.mp AS DOUBLE PRECISION) / CAST(SUM(x.mp) OVER (PARTITION BY x.agency_id) AS DOUBLE PRECISION)
            ELSE 0 END AS weight
    FROM lines x
),
"""
# SQLite, which has no statistics to mislead it, runs main's form (one join, a window for the
# weights) 8-15 % faster than the one above, even materialized (run J).
WEIGHTED_GENERIC = """weighted AS (
    SELECT y.id, y.agency_id, y.t, y.bf, y.span, y.kind,
        CASE WHEN SUM(y.mp) OVER (PARTITION BY y.agency_id) > 0
            THEN y.mp / SUM(y.mp) OVER (PARTITION BY y.agency_id) ELSE 0 END AS weight
    FROM (
        SELECT x.id, x.agency_id, CAST(x.mp AS DOUBLE PRECISION) AS mp, x.t,
            {SPAN_AND_KIND}
        FROM (
            SELECT l.id, c.agency_id, t.max_points AS mp,
                {LINE_FIGURES}
            FROM competition_commitmentline l
            JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
            JOIN wagtailcore_page cp ON cp.id = c.page_ptr_id
            JOIN competition_targetpage t ON t.page_ptr_id = l.target_id
            JOIN wagtailcore_page tp ON tp.id = t.page_ptr_id
            WHERE c.competition_id = %(competition)s AND cp.live AND t.competition_id = %(competition)s
                AND tp.live{scope}
        ) x
    ) y
),
"""
# The history a chart reads (1 statement, so one snapshot): the summary rows of the agencies not
# marked out of date, and, for those marked, the changes computed from their submissions (the
# fragments above, restricted to their lines by `{scope}`: `DIRTY`), summed by reporting date; then
# the number of agencies taking part, counted the same two ways.
HISTORY_SQL = """
WITH {weighted}{changes}
SELECT reported_on, SUM(change) FROM (
    SELECT s.reported_on, s.change FROM competition_progresschange s
    WHERE s.competition_id = %(competition)s AND s.reported_on <= %(last)s AND NOT {clean}
    UNION ALL
    SELECT reported_on, change FROM changes
) c GROUP BY reported_on
UNION ALL
SELECT NULL, (
    SELECT COUNT(*) FROM competition_progresschange s
    WHERE s.competition_id = %(competition)s AND s.reported_on IS NULL AND NOT {clean}
) + (SELECT COUNT(DISTINCT agency_id) FROM weighted)
"""
# Whether the agency of `{alias}` is marked out of date (or the whole competition is).
MARKED = """EXISTS (
    SELECT 1 FROM competition_progressdirty d
    WHERE d.competition_id = %(competition)s AND (d.agency_id IS NULL OR d.agency_id = {alias}.agency_id)
)"""
DIRTY = " AND " + MARKED.replace("{alias}", "c")

# The refresh of the summary (`refresh`): the same changes for the agencies given (`{scope}`:
# `AGENCIES_POSTGRES` or `AGENCIES_GENERIC`, or every agency), by agency and reporting date, and a
# row without a date for each agency taking part.
SUMMARY_SQL = """
WITH {weighted}{changes}
INSERT INTO competition_progresschange (competition_id, agency_id, reported_on, change)
SELECT %(competition)s, agency_id, reported_on, SUM(change) FROM changes GROUP BY agency_id, reported_on
UNION ALL
SELECT %(competition)s, agency_id, NULL, 0 FROM weighted GROUP BY agency_id
"""
AGENCIES_POSTGRES = " AND c.agency_id = ANY(%(agencies)s)"
AGENCIES_GENERIC = " AND c.agency_id IN (SELECT value FROM json_each(%(agencies)s))"

# The change each accepted submission makes to its line's weighted progress: its progress P less
# that of the submission before it in section 2's order (LEAD, newest first; 0 for the first).
# PostgreSQL reads each line's submissions in the order of the `submission_chosen` index (an
# index-only scan, no sort); SQLite, which has no LATERAL, sorts them all for one window.
CHANGES_POSTGRES = """changes AS (
    SELECT w.agency_id, r.reported_on, w.weight * r.change AS change
    FROM weighted w CROSS JOIN LATERAL (
        SELECT x.reported_on, x.p - LEAD(x.p, 1, CAST(0 AS DOUBLE PRECISION)) OVER (
            ORDER BY x.reported_on DESC, x.decided_at DESC NULLS LAST, x.id DESC
        ) AS change
        FROM (
            SELECT s.reported_on, s.decided_at, s.id, {progress} AS p
            FROM competition_submission s
            WHERE s.line_id = w.id AND s.status = %(accepted)s AND s.reported_on <= %(last)s
            ORDER BY s.reported_on DESC, s.decided_at DESC NULLS LAST, s.id DESC
        ) x
    ) r
)"""
# SQLite sorts NULL lowest, so `decided_at DESC` already puts submissions never decided last.
CHANGES_GENERIC = """reading AS (
    SELECT s.line_id, w.agency_id, s.reported_on, s.decided_at, s.id, w.weight, {progress} AS p
    FROM competition_submission s JOIN weighted w ON w.id = s.line_id
    WHERE s.status = %(accepted)s AND s.reported_on <= %(last)s
),
changes AS (
    SELECT agency_id, reported_on, weight * (p - LEAD(p, 1, 0.0) OVER (
        PARTITION BY line_id ORDER BY reported_on DESC, decided_at DESC, id DESC
    )) AS change
    FROM reading
)"""

# The progress P of the value of submission `s` of line `w` (a row of `weighted`).
PROGRESS = """(CASE
    WHEN w.kind = 0 THEN {greatest}(0, {least}(1, (CAST(s.value AS DOUBLE PRECISION) - w.bf) / w.span))
    WHEN w.kind = 1 THEN (CASE WHEN s.value >= w.t THEN 1 ELSE 0 END)
    ELSE (CASE WHEN s.value <= w.t THEN 1 ELSE 0 END) END)"""


def _sql(template, scope):
    """`template` (HISTORY_SQL or SUMMARY_SQL) with the fragments of this database, the lines
    restricted by `scope` (a condition on the commitment page `c`, or "")."""
    if connection.vendor == "postgresql":
        weighted, changes, functions = WEIGHTED_POSTGRES, CHANGES_POSTGRES, {"greatest": "GREATEST", "least": "LEAST"}
    else:
        weighted, changes, functions = WEIGHTED_GENERIC, CHANGES_GENERIC, {"greatest": "MAX", "least": "MIN"}
    weighted = (
        weighted.replace("{LINE_FIGURES}", LINE_FIGURES)
        .replace("{SPAN_AND_KIND}", SPAN_AND_KIND)
        .replace("{scope}", scope)
    )
    return (
        template.replace("{weighted}", weighted)
        .replace("{changes}", changes.replace("{progress}", PROGRESS.format(**functions)))
        .replace("{clean}", MARKED.replace("{alias}", "s"))
    )


def _history_sql():
    return _sql(HISTORY_SQL, DIRTY)


def _history_rows(competition, last):
    """(the number of agencies taking part, [(a reporting date up to `last`, the sum of the
    changes to their progress in [0, 1] reported on it)] in date order) from the database (1
    query), in floating point."""
    postgres = connection.vendor == "postgresql"
    params = {
        "competition": competition.pk,
        "accepted": SubmissionStatus.ACCEPTED.value,
        "last": last if postgres else last.isoformat(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_history_sql(), params)
        rows = cursor.fetchall()
    agencies = 0
    changes = []
    for reported_on, total in rows:
        if reported_on is None:
            agencies = int(total)
        else:
            day = reported_on if isinstance(reported_on, date) else date.fromisoformat(reported_on)
            changes.append((day, float(total or 0)))
    changes.sort()
    return agencies, changes


# The summary (models.ProgressChange) and its marks (models.ProgressDirty).

# For a change in the same transaction as the row it changes: mark the agency of the line of a
# submission, or of a commitment page's line, and return the competition (1 statement each).
MARK_BY_LINE = """INSERT INTO competition_progressdirty (competition_id, agency_id)
SELECT c.competition_id, c.agency_id FROM competition_commitmentline l
JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id WHERE l.id = %s
RETURNING competition_id"""
MARK_BY_COMMITMENT = """INSERT INTO competition_progressdirty (competition_id, agency_id)
SELECT c.competition_id, c.agency_id FROM competition_commitmentpage c WHERE c.page_ptr_id = %s
RETURNING competition_id"""


def mark_line(line_id):
    """Mark the summary of the agency of the line `line_id` out of date (in the transaction of
    the change, before it commits); return [its competition's id] ([] for a line that is gone)."""
    return _mark(MARK_BY_LINE, line_id)


def mark_commitment(commitment_id):
    """The same for the agency of the commitment page `commitment_id`."""
    return _mark(MARK_BY_COMMITMENT, commitment_id)


def _mark(sql, pk):
    if pk is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return [row[0] for row in cursor.fetchall()]


def mark(pairs):
    """Mark these (competition id, agency id or None: every agency of the competition) out of
    date, in one statement, in the current transaction (the change's)."""
    from ..models import ProgressDirty

    marks = sorted({(competition, agency) for competition, agency in pairs if competition}, key=str)
    if marks:
        ProgressDirty.objects.bulk_create(ProgressDirty(competition_id=c, agency_id=a) for c, a in marks)


# Held by a refresh until it commits, so that two refreshes of one competition never run at
# once (the second would not see the rows the first inserts, and insert them again).
LOCK_NAMESPACE = 24_0001


def refresh(competition_id):
    """Bring the summary of the agencies of the competition marked out of date up to date: delete
    their rows, insert them computed again from the submissions (one INSERT ... SELECT), and
    delete the marks read, by their ids: a mark committed after they were read stays, for the next
    refresh. In one transaction (readers see the summary and the marks change together), in a
    constant number of queries. Returns the number of marks cleared. Never inside a change's
    transaction: its lock would then be held to the end of it, with the rows the change holds
    (a deadlock with another change taking them in the other order).

    Why no change is lost, on PostgreSQL in READ COMMITTED (each statement sees what was committed
    when it began; SQLite runs one writer at a time): a change and its mark commit together.
    A mark this refresh reads was committed before the read, so its change is seen by the INSERT,
    which begins later; a mark committed after the read is not deleted (the DELETE names the ids
    read), so its agency stays out of date, readers compute it from the submissions, and the
    refresh enqueued after that change's commit brings it up to date. Two refreshes of one
    competition are serialised by a transaction-level advisory lock taken first, so the second
    reads the marks and rows the first left."""
    from ..models import ProgressChange, ProgressDirty

    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, competition_id])
        marks = list(ProgressDirty.objects.filter(competition_id=competition_id).values_list("pk", "agency_id"))
        if not marks:
            return 0
        agencies = sorted({agency for _pk, agency in marks if agency is not None})
        whole = any(agency is None for _pk, agency in marks)
        stale = ProgressChange.objects.filter(competition_id=competition_id)
        if whole:
            scope, chosen = "", None
        else:
            stale = stale.filter(agency_id__in=agencies)
            scope = AGENCIES_POSTGRES if postgres else AGENCIES_GENERIC
            chosen = agencies if postgres else json.dumps(agencies)
        stale.delete()
        params = {
            "competition": competition_id,
            "accepted": SubmissionStatus.ACCEPTED.value,
            "last": date.max if postgres else date.max.isoformat(),
            "agencies": chosen,
        }
        with connection.cursor() as cursor:
            cursor.execute(_sql(SUMMARY_SQL, scope), params)
        ProgressDirty.objects.filter(pk__in=[pk for pk, _agency in marks]).delete()
    return len(marks)


def mark_and_refresh(pairs):
    """For a change to many agencies at once (a values import): mark these (competition id,
    agency id) out of date in the change's transaction, and refresh their competitions right after
    it commits (`refresh_after_commit`)."""
    mark(pairs)
    refresh_after_commit(competition for competition, _agency in pairs)


def summarise(competition_ids):
    """For a change that touches every agency's progress (a target's figures, weight or
    publication; a bulk update): mark the whole summary of each competition out of date in the
    change's transaction, and compute it again right after it commits (`refresh_after_commit`)."""
    ids = sorted({pk for pk in competition_ids if pk})
    mark([(pk, None) for pk in ids])
    refresh_after_commit(ids)


def refresh_after_commit(competition_ids):
    """Refresh these competitions (`refresh`, each in its own transaction) as soon as the current
    transaction commits (at once outside one), in this process, rather than when the background
    rebuild gets to them: a change to many agencies would otherwise leave readers computing them
    all from their submissions (2.6 times a board at HCMC size) for as long as the task waits in
    its queue. The writer's request pays for it (0.1 s at HCMC size, 1 s national;
    docs/performance.md, run R). Should it fail, the marks stay, readers stay exact, and the
    background rebuild refreshes them."""
    ids = sorted({pk for pk in competition_ids if pk})

    def run():
        for pk in ids:
            refresh(pk)

    if ids:
        transaction.on_commit(run, robust=True)


def _sums_at(changes, days):
    """The sum of the agencies' progress at each of `days` (in order): the changes up to it."""
    sums, running, position = [], 0.0, 0
    for day in days:
        while position < len(changes) and changes[position][0] <= day:
            running += changes[position][1]
            position += 1
        sums.append(running)
    return sums


def _month_sums(competition, days):
    """(the number of agencies taking part, [the sum of their progress in [0, 1] at each of
    `days`]) from the database (1 query), in floating point."""
    agencies, changes = _history_rows(competition, days[-1])
    return agencies, _sums_at(changes, days)


def mean_progress(board):
    """The mean progress (percent) of the board's agencies, rounded to 2 decimals, as a float:
    the figure of the progress chart at the board's date (0 without agencies)."""
    if board.agencies:
        mean = sum((agency.progress_percent for agency in board.agencies), Decimal(0)) / len(board.agencies)
    else:
        mean = Decimal(0)
    return float(round(mean, 2))


def _rounded(percent):
    """`percent` (a float) rounded to 2 decimals the way `mean_progress` rounds the board's exact
    mean, or None when it lies too close to a rounding boundary to tell."""
    hundredths = percent * 100
    whole = int(hundredths // 1)
    if abs(hundredths - whole - 0.5) < MARGIN:
        return None
    return float(Decimal(whole + (hundredths - whole > 0.5)).scaleb(-2))


def _figures(competition, days, agencies, sums):
    figures = []
    for day, total in zip(days, sums, strict=True):
        figure = _rounded(100 * total / agencies) if agencies else 0.0
        if figure is None:
            figure = mean_progress(get_board(competition, day))
        figures.append(figure)
    return figures


def month_figures(competition, days):
    """The chart's figure at each of `days` (each a date in the competition's period, in order):
    the mean progress of the public board of that date (1 query, and a board for each date
    whose mean lies within MARGIN of a rounding boundary)."""
    if not days:
        return []
    return _figures(competition, days, *_month_sums(competition, days))


def _history_key(competition):
    return f"competition:progress-history:{competition.pk}"


def kept_month_figures(competition, days):
    """`month_figures`, from the history of the competition kept in the cache: what the query
    returns (the number of agencies and the changes of each reporting date up to a last date),
    one entry per competition, under its progress version (`scoreboard.progress_state`), which
    only a change to what progress depends on makes stale: not a jury score, an adjustment or a
    published result. The sums at a date only depend on the submissions reported up to it, so a
    history kept up to a date answers every chart whose month ends precede it, whatever its
    `as_of`, language or sort; a chart that needs a later date computes the history again, up to
    its own last month end, and keeps it. A date on a rounding boundary takes the figure of its
    board (`get_board`: kept under the board's version)."""
    if not days:
        return []
    key = _history_key(competition)
    version, entry = progress_state(competition.pk, key)
    if entry is not None and entry[0] == version and entry[1] >= days[-1]:
        _version, _last, agencies, changes = entry
    else:
        agencies, changes = _history_rows(competition, days[-1])
        board_cache().set(key, (version, days[-1], agencies, changes), timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))
    return _figures(competition, days, agencies, _sums_at(changes, days))
