"""The scoring rules of docs/scoring.md as pure Python: plain data in, results out. No Django,
no database. Section numbers in the docstrings are those of docs/scoring.md.

Every number is a Decimal kept at the precision of the current decimal context (28 significant
digits by default); nothing is rounded here except the two-decimal key used for ranking
(section 7). Rounding for display and open data happens outside this module.

`compute_board` scores a whole competition in one pass over the commitment lines. Everything a
line needs that does not depend on its own value (bounds, expected progress, deadline) is worked
out once per target and commitment baseline/target pair and shared by every line using it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import NamedTuple

STATUSES = ("no_data", "achieved", "missed", "on_track", "at_risk", "off_track")
DEFAULT_TIERS = (
    ("Excellent", Decimal(90)),
    ("Good", Decimal(75)),
    ("Fair", Decimal(50)),
    ("Below target", Decimal(0)),
)
DEFAULT_MARGIN = Decimal("0.10")

UNITS = ("percent", "number", "days", "boolean")
DIRECTIONS = ("higher", "lower")

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
RANK_PLACES = Decimal("0.01")

# Positions in STATUSES, so that a line's status counts into a list without a dict lookup.
NO_DATA, ACHIEVED, MISSED, ON_TRACK, AT_RISK, OFF_TRACK = range(len(STATUSES))
_STATUS_INDEX = {status: index for index, status in enumerate(STATUSES)}


def _pickled_by_fields(cls):
    """Pickle the instances of a result type as its class and init field values.

    Boards are cached, so they are pickled and unpickled whole. The state methods dataclasses
    give frozen slotted classes call `fields()` for every instance; with 66,000 lines that
    doubled the time to pickle or unpickle a board.
    """
    values = attrgetter(*(f.name for f in fields(cls) if f.init))

    def __reduce__(self):
        return cls, values(self)

    cls.__reduce__ = __reduce__
    return cls


@dataclass(frozen=True, slots=True)
class Milestone:
    """An intermediate value the target should reach on a date (section 4)."""

    on: date
    value: Decimal


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A target of the competition with its default baseline and target value (section 3)."""

    code: str
    title: str
    unit: str  # "percent" | "number" | "days" | "boolean"
    direction: str  # "higher" | "lower"
    baseline: Decimal
    target: Decimal
    max_points: Decimal
    deadline: date | None = None  # None: the competition's end
    milestones: tuple[Milestone, ...] = ()


# The two per-line inputs are named tuples, not frozen dataclasses: a national board builds
# 130,000 of them, and a frozen dataclass takes ten times as long to create (measured).
class Reading(NamedTuple):
    """The value V chosen for a line (section 2) and the jury scores given to that submission."""

    value: Decimal
    reported_on: date
    jury_scores: tuple[Decimal, ...] = ()
    # Instead of the scores: their aggregate JP already worked out by `aggregate_totals`.
    jury_points: Decimal | None = None


class LineInput(NamedTuple):
    """One target an agency committed to, with the commitment's own B and T where set."""

    target_code: str
    baseline: Decimal | None = None  # the commitment's own B; None: the target's
    target: Decimal | None = None  # the commitment's own T; None: the target's
    reading: Reading | None = None  # None: no data


@dataclass(frozen=True, slots=True)
class AgencyInput:
    """A participating agency, its commitment lines and its adjustments (sections 6 to 8)."""

    code: str
    name: str
    parent_code: str | None = None
    parent_name: str | None = None
    lines: tuple[LineInput, ...] = ()
    adjustments: Decimal = ZERO  # the adjustments of the evaluation date: see `adjustments_total`


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class CompetitionSpec:
    """The competition's period and scoring settings."""

    slug: str
    title: str
    start: date
    end: date
    at_risk_margin: Decimal = DEFAULT_MARGIN
    jury_aggregation: str = "mean"  # "mean" | "median" | "trimmed_mean"
    tiers: tuple[tuple[str, Decimal], ...] = ()  # empty: DEFAULT_TIERS
    closed: bool = False  # judging closed: the public board counts the jury's points (section 6)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One submission of an agency for a target, for `choose_reading` (section 2)."""

    pk: int
    status: str  # only "accepted" counts
    reported_on: date
    accepted_at: datetime | None
    value: Decimal


# A named tuple too: one per commitment line, 66,000 on a national board; created, pickled and
# unpickled several times faster than a frozen dataclass (measured, docs/performance.md).
class LineResult(NamedTuple):
    """The score of one commitment line (sections 2 to 6)."""

    target_code: str
    value: Decimal | None
    reported_on: date | None
    baseline: Decimal
    target: Decimal
    progress: Decimal
    expected: Decimal
    status: str
    computed_points: Decimal
    jury_points: Decimal | None
    awarded_points: Decimal
    max_points: Decimal
    provisional: bool  # awarded points came from computed points: nobody scored the submission


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgencyResult:
    """An agency's result (section 7); `lines` sorted by target code."""

    code: str
    name: str
    parent_code: str | None
    rank: int
    group_rank: int | None  # the rank among the agencies with the same parent; None: no parent
    tier: str
    provisional: bool
    score_percent: Decimal
    progress_percent: Decimal
    total_points: Decimal
    max_points: Decimal  # max_points_total
    adjustments: Decimal
    lines: tuple[LineResult, ...]


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class TargetSummary:
    """A target across the agencies committed to it (section 8)."""

    code: str
    title: str
    unit: str
    direction: str
    deadline: date  # the effective deadline: the target's own or the competition's end
    max_points: Decimal
    committed: int
    reporting: int
    achieved: int
    mean_progress: Decimal
    status_counts: dict[str, int] = field(default_factory=dict)  # every key of STATUSES, in order


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class GroupResult:
    """The children of one parent agency taken together (section 8)."""

    code: str
    name: str
    agencies: int
    mean_score_percent: Decimal
    mean_progress_percent: Decimal


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Board:
    """The whole scoreboard of a competition at one date. `with_jury`: the jury's points count
    (the public board once judging is closed, or a manager's look at it before); otherwise every
    line's jury points are None and its awarded points are the computed ones (section 6)."""

    competition: CompetitionSpec
    as_of: date
    with_jury: bool
    agencies: tuple[AgencyResult, ...]  # by rank, then code
    targets: tuple[TargetSummary, ...]  # by code
    groups: tuple[GroupResult, ...]  # by parent code
    # Derived from `agencies` so that looking agencies up one by one stays linear overall.
    _by_code: dict[str, AgencyResult] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_code", {result.code: result for result in self.agencies})

    def agency(self, code: str) -> AgencyResult | None:
        """The result of the agency with this code, or None when it does not take part."""
        return self._by_code.get(code)


def clamp_as_of(spec: CompetitionSpec, as_of: date | None = None, today: date | None = None) -> date:
    """Section 1: the evaluation date, `as_of` (default `today`, default the system's date)
    clamped into the competition's period [start, end]."""
    day = as_of if as_of is not None else (today if today is not None else date.today())
    return min(max(day, spec.start), spec.end)


def _reading_order(candidate: Candidate):
    # A missing acceptance time counts as earlier than any real one; the flag in front keeps a
    # None from ever being compared with a datetime.
    accepted = candidate.accepted_at
    return (candidate.reported_on, accepted is not None, accepted or datetime.min, candidate.pk)


def choose_reading(candidates: Iterable[Candidate], as_of: date) -> Candidate | None:
    """Section 2: the submission that supplies V at `as_of`: among the accepted ones reported on
    or before `as_of`, the latest reporting date, then the later acceptance, then the higher
    primary key. Drafts, submitted, returned and rejected submissions never count. None: no data."""
    eligible = (c for c in candidates if c.status == "accepted" and c.reported_on <= as_of)
    return max(eligible, key=_reading_order, default=None)


def _bounds(unit: str, direction: str, baseline: Decimal, target: Decimal) -> tuple[str, Decimal, Decimal]:
    """Section 3: the direction, B and T progress is measured with; a boolean always runs from 0
    up to 1, whatever B, T and direction say."""
    if unit == "boolean":
        return "higher", ZERO, ONE
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    return direction, baseline, target


def _ratio(value: Decimal, direction: str, baseline: Decimal, target: Decimal) -> Decimal:
    """Section 3 for a value that exists, with bounds from `_bounds`."""
    if direction == "higher":
        if target > baseline:
            p = (value - baseline) / (target - baseline)
        else:
            return ONE if value >= target else ZERO
    elif target < baseline:
        p = (baseline - value) / (baseline - target)
    else:
        return ONE if value <= target else ZERO
    if p < ZERO:
        return ZERO
    if p > ONE:
        return ONE
    return p


def progress(value, baseline, target, unit, direction) -> Decimal:
    """Section 3: the progress P in [0, 1] of `value` from baseline B towards target value T, in
    the target's direction; 0 when there is no value."""
    direction, baseline, target = _bounds(unit, direction, baseline, target)
    if value is None:
        return ZERO
    return _ratio(value, direction, baseline, target)


def _deadline(spec: CompetitionSpec, target: TargetSpec) -> date:
    return target.deadline if target.deadline is not None else spec.end


def _expected(
    spec: CompetitionSpec,
    target: TargetSpec,
    direction: str,
    baseline,
    target_value,
    deadline: date,
    as_of: date,
) -> Decimal:
    """Section 4 with bounds from `_bounds`: E(as_of) on the trajectory (start, 0), milestones in
    date order, (deadline, 1)."""
    # "E = 0 on or before the start" is checked first, so a deadline on or before the start
    # still gives 0 up to the start and 1 after it.
    if as_of <= spec.start:
        return ZERO
    if as_of >= deadline:
        return ONE
    previous_on, previous_f = spec.start, ZERO
    for milestone in sorted(target.milestones, key=attrgetter("on")):
        if not spec.start < milestone.on < deadline:
            continue
        f = _ratio(milestone.value, direction, baseline, target_value)
        if as_of <= milestone.on:
            return _between(previous_on, previous_f, milestone.on, f, as_of)
        previous_on, previous_f = milestone.on, f
    return _between(previous_on, previous_f, deadline, ONE, as_of)


def _between(d1: date, f1: Decimal, d2: date, f2: Decimal, day: date) -> Decimal:
    # Only called with d1 < day <= d2, so the span is never zero (milestones on one date that
    # `day` lies after are passed over; on the date itself the first of them counts).
    return f1 + (f2 - f1) * (day - d1).days / (d2 - d1).days


def expected_progress(
    spec: CompetitionSpec,
    target: TargetSpec,
    baseline,
    target_value,
    as_of: date,
) -> Decimal:
    """Section 4: the expected progress E at `as_of` of a commitment to `target` with baseline
    `baseline` and target value `target_value` (the milestones' progress depends on both)."""
    direction, baseline, target_value = _bounds(target.unit, target.direction, baseline, target_value)
    return _expected(spec, target, direction, baseline, target_value, _deadline(spec, target), as_of)


def _mean(scores: Sequence[Decimal]) -> Decimal:
    return sum(scores, ZERO) / len(scores)


def _median(scores: Sequence[Decimal]) -> Decimal:
    ordered = sorted(scores)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _trimmed_mean(scores: Sequence[Decimal]) -> Decimal:
    if len(scores) < 3:
        return _mean(scores)
    # Dropping one lowest and one highest: subtracting them from the sum spares a sort.
    return (sum(scores, ZERO) - min(scores) - max(scores)) / (len(scores) - 2)


_AGGREGATORS = {"mean": _mean, "median": _median, "trimmed_mean": _trimmed_mean}


def _aggregator(method: str):
    try:
        return _AGGREGATORS[method]
    except KeyError:
        raise ValueError(f"unknown aggregation method {method!r}") from None


def aggregate_totals(
    method: str, count: int, total: Decimal | None, lowest: Decimal | None = None, highest: Decimal | None = None
) -> Decimal | None:
    """Section 6 from the count, exact sum, lowest and highest of a submission's scores, which a
    database aggregates without sending every score: the same figure as `aggregate` for "mean"
    and "trimmed_mean" (lowest and highest needed with 3 or more scores). None when nobody
    scored it. "median" needs the scores themselves: use `aggregate`."""
    if not count:
        return None
    if method == "mean" or (method == "trimmed_mean" and count < 3):
        return (ZERO + total) / count
    if method == "trimmed_mean":
        return (ZERO + total - lowest - highest) / (count - 2)
    raise ValueError(f"aggregation method {method!r} needs the scores themselves")


def aggregate(scores: Sequence[Decimal], method: str) -> Decimal | None:
    """Section 6: the jury points JP of a submission from its jury scores, by the competition's
    method ("mean", "median" or "trimmed_mean"); None when nobody scored it."""
    aggregator = _aggregator(method)
    if not scores:
        return None
    return aggregator(scores)


def _tiers_by_minimum(tiers) -> list[tuple[str, Decimal]]:
    # Highest minimum first; the sort is stable, so of two labels with one minimum the first
    # listed wins.
    return sorted(tiers or DEFAULT_TIERS, key=lambda tier: tier[1], reverse=True)


def _tier(score_percent: Decimal, tiers_by_minimum: Sequence[tuple[str, Decimal]]) -> str:
    for label, minimum in tiers_by_minimum:
        if score_percent >= minimum:
            return label
    return ""


def adjustments_total(adjustments: Iterable[tuple[date | None, Decimal]], as_of: date) -> Decimal:
    """Section 6: the adjustments of `as_of`, the sum of the points of those dated on or before
    it, from (date, points) pairs; a date of None stands for the competition's start, which every
    evaluation date reaches (section 1 clamps it into the period)."""
    return sum((points for on, points in adjustments if on is None or on <= as_of), ZERO)


def tier_for(score_percent: Decimal, tiers) -> str:
    """Section 7: the label of the highest minimum that `score_percent` (full precision, not the
    displayed rounding) reaches; empty `tiers` means DEFAULT_TIERS. A score below every minimum
    (possible with custom tiers) gets the empty label."""
    return _tier(score_percent, _tiers_by_minimum(tiers))


class _Plan:
    """What every line of one target with one (B, T) pair shares at the evaluation date."""

    __slots__ = ("baseline", "direction", "expected", "floor", "max_points", "missed", "target")

    def __init__(self, spec, target, baseline, target_value, deadline, as_of):
        bounds = _bounds(target.unit, target.direction, baseline, target_value)
        self.direction, self.baseline, self.target = bounds
        self.expected = _expected(spec, target, self.direction, self.baseline, self.target, deadline, as_of)
        self.floor = self.expected - spec.at_risk_margin  # the lowest P still at risk
        # Section 5: the deadline has come (on the deadline itself too).
        self.missed = as_of >= deadline
        self.max_points = target.max_points


class _Tally:
    """The running figures of one target's summary (section 8)."""

    __slots__ = ("counts", "deadline", "plans", "progress", "target")

    def __init__(self, target, deadline):
        self.target = target
        self.deadline = deadline
        # Keyed on the commitment's own (B, T), None where unset; most lines share (None, None).
        self.plans: dict[tuple[Decimal | None, Decimal | None], _Plan] = {}
        self.counts = [0] * len(STATUSES)
        self.progress = ZERO

    def plan(self, spec, own_baseline, own_target, as_of) -> _Plan:
        """The plan of a line with this commitment's own B and T (None: the target's)."""
        key = (own_baseline, own_target)
        plan = self.plans.get(key)
        if plan is None:
            target = self.target
            baseline = target.baseline if own_baseline is None else own_baseline
            target_value = target.target if own_target is None else own_target
            plan = self.plans[key] = _Plan(spec, target, baseline, target_value, self.deadline, as_of)
        return plan


class _Scored(NamedTuple):
    """An agency's figures before ranking (section 7)."""

    rank_key: Decimal  # score_percent rounded to 2 decimals
    agency: AgencyInput
    total_points: Decimal
    max_points: Decimal
    score_percent: Decimal
    progress_percent: Decimal
    provisional: bool
    lines: tuple[LineResult, ...]


_by_target_code = attrgetter("target_code")


def compute_board(
    spec: CompetitionSpec,
    targets: Sequence[TargetSpec],
    agencies: Sequence[AgencyInput],
    as_of: date,
    *,
    with_jury: bool | None = None,
) -> Board:
    """Sections 2 to 8: the whole scoreboard at `as_of`.

    `as_of` is used as given: the caller clamps it first (`clamp_as_of`, section 1), so that one
    board is computed, cached and labelled with the same date. Each line carries the reading
    already chosen by section 2 (`choose_reading` or an equivalent database query). A line whose
    target code is not among `targets` is a programming error and raises KeyError.
    `with_jury` None gives the public board: the jury's points count once judging is closed
    (`spec.closed`); True or False asks for the board with or without them.
    """
    scorer = BoardScorer(spec, targets, as_of, with_jury=with_jury)
    return scorer.board([(agency, [scorer.line(line) for line in agency.lines]) for agency in agencies])


class BoardScorer:
    """`compute_board` in two steps, so that lines can be scored one by one as they arrive
    (from a streamed query, say): `line()` scores a line on its own (sections 3 to 6), `board()`
    puts the scored lines of every agency together (sections 7 and 8). The sums run over each
    agency's lines in target code order and over agencies in the order given, whatever the
    order the lines were scored in, so the figures are the same to the last digit."""

    def __init__(
        self, spec: CompetitionSpec, targets: Sequence[TargetSpec], as_of: date, *, with_jury: bool | None = None
    ):
        self.spec = spec
        self.as_of = as_of
        # Section 6: the public board counts the jury's points only once judging is closed.
        self.with_jury = spec.closed if with_jury is None else with_jury
        self.aggregator = _aggregator(spec.jury_aggregation)
        self.tallies = {target.code: _Tally(target, _deadline(spec, target)) for target in targets}

    def line(self, line: LineInput) -> LineResult:
        reading = line.reading
        if reading is None:
            return self.score(line.target_code, line.baseline, line.target, None, None, (), None)
        return self.score(
            line.target_code,
            line.baseline,
            line.target,
            reading.value,
            reading.reported_on,
            reading.jury_scores,
            reading.jury_points,
        )

    def score(self, target_code, baseline, target, value, reported_on, jury_scores, jury_points) -> LineResult:
        """`line()` for the fields of a LineInput and its Reading given one by one (no reading:
        `reported_on` None), without making either: a national board scores 66,420 lines."""
        tally = self.tallies[target_code]
        plan = tally.plans.get((baseline, target)) or tally.plan(self.spec, baseline, target, self.as_of)
        if reported_on is None:
            value = jury = None
            p = ZERO
            status = NO_DATA
        else:
            p = _ratio(value, plan.direction, plan.baseline, plan.target)
            # Section 5: the first rule that matches.
            if p >= ONE:
                status = ACHIEVED
            elif plan.missed:
                status = MISSED
            elif p >= plan.expected:
                status = ON_TRACK
            elif p >= plan.floor:
                status = AT_RISK
            else:
                status = OFF_TRACK
            if not self.with_jury:
                jury = None
            elif jury_scores:
                jury = self.aggregator(jury_scores)
            else:
                jury = jury_points
        computed = p * plan.max_points
        # Positional, in field order: a third faster than keywords, once per line.
        return LineResult(
            target_code,
            value,
            reported_on,
            plan.baseline,
            plan.target,
            p,  # progress
            plan.expected,
            STATUSES[status],
            computed,  # computed_points
            jury,  # jury_points
            computed if jury is None else jury,  # awarded_points
            plan.max_points,
            jury is None,  # provisional
        )

    def board(self, agencies: Iterable[tuple[AgencyInput, Sequence[LineResult]]]) -> Board:
        """The board of `agencies`, each with its lines scored by `line()`; every agency given
        takes part, lines or not. Once per scorer: the target summaries add up in it."""
        tallies = self.tallies
        scored = []
        parent_names: dict[str, str] = {}  # the first name given for each parent code
        for agency, results in agencies:
            if agency.parent_code and agency.parent_name:
                parent_names.setdefault(agency.parent_code, agency.parent_name)
            lines = tuple(sorted(results, key=_by_target_code))
            awarded_total = computed_total = max_total = ZERO
            provisional = False
            for line in lines:
                awarded_total += line.awarded_points
                computed_total += line.computed_points  # = sum(max_points * P), section 7's numerator
                max_total += line.max_points
                provisional = provisional or line.provisional
                tally = tallies[line.target_code]
                tally.counts[_STATUS_INDEX[line.status]] += 1
                tally.progress += line.progress
            total = max(ZERO, awarded_total + agency.adjustments)
            if max_total:
                score_percent = HUNDRED * total / max_total
                progress_percent = HUNDRED * computed_total / max_total
            else:
                # Committed to nothing: there is no maximum to divide by, so both percentages are
                # 0 (bonus points included) rather than undefined.
                score_percent = progress_percent = ZERO
            scored.append(
                _Scored(
                    rank_key=score_percent.quantize(RANK_PLACES, rounding=ROUND_HALF_UP),
                    agency=agency,
                    total_points=total,
                    max_points=max_total,
                    score_percent=score_percent,
                    progress_percent=progress_percent,
                    provisional=provisional,
                    lines=lines,
                )
            )

        # Section 7: descending by the score rounded to 2 decimals; equal rounded scores share the
        # rank of the first of them and the next rank skips ("1, 2, 2, 4"). Ties are listed by code.
        # Section 8: the same rule among the agencies of each parent gives the group rank.
        scored.sort(key=lambda item: (-item.rank_key, item.agency.code))
        tiers = _tiers_by_minimum(self.spec.tiers)
        results = []
        rank, previous_key = 0, None
        clusters: dict[str, list] = {}  # parent code -> [agencies so far, last rank key, last rank]
        for position, item in enumerate(scored, 1):
            if item.rank_key != previous_key:
                rank, previous_key = position, item.rank_key
            group_rank = None
            parent = item.agency.parent_code
            if parent:
                cluster = clusters.setdefault(parent, [0, None, 0])
                cluster[0] += 1
                if item.rank_key != cluster[1]:
                    cluster[1], cluster[2] = item.rank_key, cluster[0]
                group_rank = cluster[2]
            results.append(
                AgencyResult(
                    code=item.agency.code,
                    name=item.agency.name,
                    parent_code=item.agency.parent_code,
                    rank=rank,
                    group_rank=group_rank,
                    tier=_tier(item.score_percent, tiers),
                    provisional=item.provisional,
                    score_percent=item.score_percent,
                    progress_percent=item.progress_percent,
                    total_points=item.total_points,
                    max_points=item.max_points,
                    adjustments=item.agency.adjustments,
                    lines=item.lines,
                )
            )

        return Board(
            competition=self.spec,
            as_of=self.as_of,
            with_jury=self.with_jury,
            agencies=tuple(results),
            targets=tuple(_summary(tallies[code]) for code in sorted(tallies)),
            groups=_groups(scored, parent_names),
        )


def _summary(tally: _Tally) -> TargetSummary:
    """Section 8: one target's summary; mean progress over committed agencies, 0 for none."""
    target, counts = tally.target, tally.counts
    committed = sum(counts)
    return TargetSummary(
        code=target.code,
        title=target.title,
        unit=target.unit,
        direction=target.direction,
        deadline=tally.deadline,
        max_points=target.max_points,
        committed=committed,
        reporting=committed - counts[NO_DATA],
        achieved=counts[ACHIEVED],
        mean_progress=tally.progress / committed if committed else ZERO,
        status_counts=dict(zip(STATUSES, counts, strict=True)),
    )


def _groups(scored: Sequence[_Scored], parent_names: dict[str, str]) -> tuple[GroupResult, ...]:
    """Section 8: each parent agency with at least one participating child (every agency passed
    to `compute_board` takes part, lines or not), with the means of its children's percentages;
    agencies without a parent form no group."""
    members: dict[str, list] = {}
    for item in scored:
        parent = item.agency.parent_code
        if parent:
            members.setdefault(parent, []).append((item.score_percent, item.progress_percent))
    return tuple(
        GroupResult(
            code=code,
            name=parent_names.get(code) or code,
            agencies=len(children),
            mean_score_percent=sum((score for score, _ in children), ZERO) / len(children),
            mean_progress_percent=sum((progress_pct for _, progress_pct in children), ZERO) / len(children),
        )
        for code, children in sorted(members.items())
    )


# A board as plain data (JSON-safe: decimals and dates as strings, at full precision) and back,
# so that a published result can be kept as it was computed, to the last digit.
BOARD_DATA_VERSION = 1


def _plain(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):  # a target's count of lines in each status
        return dict(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot keep {value!r} as plain data")


def _decimal(text):
    return None if text is None else Decimal(text)


def _day(text):
    return None if text is None else date.fromisoformat(text)


def board_to_data(board: Board) -> dict:
    """`board` as JSON-safe data that `board_from_data` turns back into an equal board."""
    spec = board.competition
    return {
        "version": BOARD_DATA_VERSION,
        "competition": {
            **{name: _plain(getattr(spec, name)) for name in ("slug", "title", "start", "end", "jury_aggregation")},
            "at_risk_margin": _plain(spec.at_risk_margin),
            "tiers": [[label, _plain(minimum)] for label, minimum in spec.tiers],
            "closed": spec.closed,
        },
        "as_of": board.as_of.isoformat(),
        "with_jury": board.with_jury,
        "agencies": [
            {
                **{f.name: _plain(getattr(agency, f.name)) for f in fields(AgencyResult) if f.name != "lines"},
                "lines": [[_plain(value) for value in line] for line in agency.lines],
            }
            for agency in board.agencies
        ],
        "targets": [
            {f.name: _plain(getattr(target, f.name)) for f in fields(TargetSummary)} for target in board.targets
        ],
        "groups": [{f.name: _plain(getattr(group, f.name)) for f in fields(GroupResult)} for group in board.groups],
    }


_LINE_DECIMALS = {"value", "baseline", "target", "progress", "expected", "computed_points", "jury_points"}
_LINE_DECIMALS |= {"awarded_points", "max_points"}


def _line_from_data(values) -> LineResult:
    converted = []
    for name, value in zip(LineResult._fields, values, strict=True):
        if name in _LINE_DECIMALS:
            value = _decimal(value)
        elif name == "reported_on":
            value = _day(value)
        converted.append(value)
    return LineResult(*converted)


def board_from_data(data: dict) -> Board:
    """The board that `board_to_data` made `data` from."""
    if data.get("version") != BOARD_DATA_VERSION:
        raise ValueError(f"unknown board data version {data.get('version')!r}")
    spec = data["competition"]
    decimals = ("score_percent", "progress_percent", "total_points", "max_points", "adjustments")
    return Board(
        competition=CompetitionSpec(
            slug=spec["slug"],
            title=spec["title"],
            start=_day(spec["start"]),
            end=_day(spec["end"]),
            at_risk_margin=_decimal(spec["at_risk_margin"]),
            jury_aggregation=spec["jury_aggregation"],
            tiers=tuple((label, _decimal(minimum)) for label, minimum in spec["tiers"]),
            closed=spec["closed"],
        ),
        as_of=_day(data["as_of"]),
        with_jury=data["with_jury"],
        agencies=tuple(
            AgencyResult(
                **{
                    key: _decimal(value) if key in decimals else value
                    for key, value in agency.items()
                    if key != "lines"
                },
                lines=tuple(_line_from_data(line) for line in agency["lines"]),
            )
            for agency in data["agencies"]
        ),
        targets=tuple(
            TargetSummary(
                **{
                    **target,
                    "deadline": _day(target["deadline"]),
                    "max_points": _decimal(target["max_points"]),
                    "mean_progress": _decimal(target["mean_progress"]),
                }
            )
            for target in data["targets"]
        ),
        groups=tuple(
            GroupResult(
                **{
                    **group,
                    "mean_score_percent": _decimal(group["mean_score_percent"]),
                    "mean_progress_percent": _decimal(group["mean_progress_percent"]),
                }
            )
            for group in data["groups"]
        ),
    )
