"""SCORING.md as pure Python: plain data in, results out. No Django, no database.

Every number is a Decimal kept at full precision; rounding happens only for ranking (two
decimals, section 7) and, outside this module, for display and open data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

STATUSES = ("no_data", "achieved", "missed", "on_track", "at_risk", "off_track")
DEFAULT_TIERS = (("Excellent", Decimal(90)), ("Good", Decimal(75)), ("Fair", Decimal(50)), ("Below target", Decimal(0)))
DEFAULT_MARGIN = Decimal("0.10")

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Milestone:
    on: date
    value: Decimal


@dataclass(frozen=True, slots=True)
class TargetSpec:
    code: str
    title: str
    unit: str  # "percent" | "number" | "days" | "boolean"
    direction: str  # "higher" | "lower"
    baseline: Decimal
    target: Decimal
    max_points: Decimal
    deadline: date | None = None  # None: the competition's end
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """The value V chosen for a line (section 2) and the jury scores of that submission."""

    value: Decimal
    reported_on: date
    jury_scores: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class LineInput:
    target_code: str
    baseline: Decimal | None = None  # the commitment's own B; None: the target's
    target: Decimal | None = None  # the commitment's own T; None: the target's
    reading: Reading | None = None


@dataclass(frozen=True, slots=True)
class AgencyInput:
    code: str
    name: str
    parent_code: str | None = None
    parent_name: str | None = None
    lines: tuple[LineInput, ...] = ()
    adjustments: Decimal = ZERO  # sum of bonus and deduction points


@dataclass(frozen=True, slots=True)
class CompetitionSpec:
    slug: str
    title: str
    start: date
    end: date
    at_risk_margin: Decimal = DEFAULT_MARGIN
    jury_aggregation: str = "mean"  # "mean" | "median" | "trimmed_mean"
    tiers: tuple[tuple[str, Decimal], ...] = ()  # empty: DEFAULT_TIERS


@dataclass(frozen=True, slots=True)
class Candidate:
    """One submission, for choose_reading (section 2)."""

    pk: int
    status: str
    reported_on: date
    accepted_at: datetime | None
    value: Decimal


@dataclass(frozen=True, slots=True)
class LineResult:
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
    provisional: bool


@dataclass(frozen=True, slots=True)
class AgencyResult:
    code: str
    name: str
    parent_code: str | None
    rank: int
    tier: str
    provisional: bool
    score_percent: Decimal
    progress_percent: Decimal
    total_points: Decimal
    max_points: Decimal
    adjustments: Decimal
    lines: tuple[LineResult, ...]


@dataclass(frozen=True, slots=True)
class TargetSummary:
    code: str
    title: str
    unit: str
    direction: str
    deadline: date
    max_points: Decimal
    committed: int
    reporting: int
    achieved: int
    mean_progress: Decimal
    status_counts: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupResult:
    code: str
    name: str
    agencies: int
    mean_score_percent: Decimal
    mean_progress_percent: Decimal


@dataclass(frozen=True, slots=True)
class Board:
    competition: CompetitionSpec
    as_of: date
    agencies: tuple[AgencyResult, ...]
    targets: tuple[TargetSummary, ...]
    groups: tuple[GroupResult, ...]

    def agency(self, code):
        for result in self.agencies:
            if result.code == code:
                return result
        return None


def clamp_as_of(spec: CompetitionSpec, as_of: date | None = None, today: date | None = None) -> date:
    """Section 1: the evaluation date, `as_of` (default `today`) clamped into [start, end]."""
    day = as_of if as_of is not None else (today if today is not None else date.today())
    return min(max(day, spec.start), spec.end)


def choose_reading(candidates: Iterable[Candidate], as_of: date) -> Candidate | None:
    """Section 2: the latest accepted submission reported on or before `as_of`; on equal dates
    the later acceptance, then the higher primary key. Other statuses never count."""
    best = None
    best_key = None
    for candidate in candidates:
        if candidate.status != "accepted" or candidate.reported_on > as_of:
            continue
        # A missing acceptance time sorts before any real one.
        key = (candidate.reported_on, candidate.accepted_at is not None, candidate.accepted_at or 0, candidate.pk)
        if best_key is None or _later(key, best_key):
            best, best_key = candidate, key
    return best


def _later(key, other):
    if key[0] != other[0]:
        return key[0] > other[0]
    if key[1] != other[1]:
        return key[1]
    if key[1] and key[2] != other[2]:
        return key[2] > other[2]
    return key[3] > other[3]


def effective_bounds(unit: str, baseline: Decimal, target: Decimal) -> tuple[Decimal, Decimal]:
    """Section 3: a boolean target always runs from 0 to 1."""
    if unit == "boolean":
        return ZERO, ONE
    return baseline, target


def progress(value, baseline, target, unit, direction) -> Decimal:
    """Section 3: progress P in [0, 1] of `value` from baseline B toward target T."""
    if value is None:
        return ZERO
    baseline, target = effective_bounds(unit, baseline, target)
    if unit == "boolean":
        direction = "higher"
    if direction == "lower":
        if target < baseline:
            return _clamp((baseline - value) / (baseline - target))
        return ONE if value <= target else ZERO
    if target > baseline:
        return _clamp((value - baseline) / (target - baseline))
    return ONE if value >= target else ZERO


def _clamp(value: Decimal) -> Decimal:
    if value < ZERO:
        return ZERO
    if value > ONE:
        return ONE
    return value


def deadline_of(spec: CompetitionSpec, target: TargetSpec) -> date:
    return target.deadline or spec.end


def trajectory(spec: CompetitionSpec, target: TargetSpec, baseline, target_value) -> list[tuple[date, Decimal]]:
    """Section 4: the points (date, expected progress) of the piecewise-linear trajectory."""
    deadline = deadline_of(spec, target)
    points = [(spec.start, ZERO)]
    for milestone in sorted(target.milestones, key=lambda m: m.on):
        if spec.start < milestone.on < deadline:
            points.append(
                (milestone.on, progress(milestone.value, baseline, target_value, target.unit, target.direction))
            )
    points.append((deadline, ONE))
    return points


def expected_on(points: Sequence[tuple[date, Decimal]], as_of: date) -> Decimal:
    """Linear interpolation in whole days along `points` (0 before the first, 1 after the last)."""
    if as_of <= points[0][0]:
        return ZERO
    if as_of >= points[-1][0]:
        return ONE
    for (d1, f1), (d2, f2) in zip(points, points[1:], strict=False):
        if d1 <= as_of <= d2:
            span = (d2 - d1).days
            if span == 0:
                return f2
            return f1 + (f2 - f1) * Decimal((as_of - d1).days) / Decimal(span)
    return ONE  # not reached: the points cover [start, deadline]


def expected_progress(spec: CompetitionSpec, target: TargetSpec, baseline, target_value, as_of: date) -> Decimal:
    """Section 4: the expected progress E(d) of a commitment with baseline B and target T."""
    return expected_on(trajectory(spec, target, baseline, target_value), as_of)


def status_of(value, p: Decimal, e: Decimal, as_of: date, deadline: date, margin: Decimal) -> str:
    """Section 5: the first matching status."""
    if value is None:
        return "no_data"
    if p >= ONE:
        return "achieved"
    if as_of > deadline:
        return "missed"
    if p >= e:
        return "on_track"
    if p >= e - margin:
        return "at_risk"
    return "off_track"


def aggregate(scores: Sequence[Decimal], method: str) -> Decimal | None:
    """Section 6: the jury points of a submission; None when nobody scored it."""
    if not scores:
        return None
    ordered = sorted(scores)
    n = len(ordered)
    if method == "median":
        middle = n // 2
        if n % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2
    if method == "trimmed_mean" and n >= 3:
        ordered = ordered[1:-1]
    elif method not in ("mean", "trimmed_mean"):
        raise ValueError(f"unknown aggregation method {method!r}")
    return sum(ordered, ZERO) / len(ordered)


def tier_for(score_percent: Decimal, tiers) -> str:
    """Section 7: the label of the highest minimum that `score_percent` reaches."""
    reached = [(minimum, label) for label, minimum in (tiers or DEFAULT_TIERS) if score_percent >= minimum]
    if not reached:
        return ""
    return max(reached, key=lambda pair: pair[0])[1]


def round_for_rank(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def compute_board(
    spec: CompetitionSpec, targets: Sequence[TargetSpec], agencies: Sequence[AgencyInput], as_of: date
) -> Board:
    """Sections 2 to 8: the whole board at `as_of`. The caller passes an already clamped date
    (see `clamp_as_of`)."""
    by_code = {target.code: target for target in targets}
    margin = spec.at_risk_margin
    expected_cache: dict[tuple[str, Decimal, Decimal], Decimal] = {}
    summaries = {
        target.code: {"committed": 0, "reporting": 0, "progress": ZERO, "counts": dict.fromkeys(STATUSES, 0)}
        for target in targets
    }
    unranked = []
    for agency in agencies:
        line_results = []
        awarded_total = ZERO
        weighted_progress = ZERO
        max_total = ZERO
        provisional = False
        for line in sorted(agency.lines, key=lambda line: line.target_code):
            target = by_code[line.target_code]
            baseline = target.baseline if line.baseline is None else line.baseline
            target_value = target.target if line.target is None else line.target
            baseline, target_value = effective_bounds(target.unit, baseline, target_value)
            reading = line.reading
            value = reading.value if reading else None
            p = progress(value, baseline, target_value, target.unit, target.direction)
            key = (target.code, baseline, target_value)
            e = expected_cache.get(key)
            if e is None:
                e = expected_cache[key] = expected_progress(spec, target, baseline, target_value, as_of)
            deadline = deadline_of(spec, target)
            status = status_of(value, p, e, as_of, deadline, margin)
            computed = p * target.max_points
            jury = aggregate(reading.jury_scores, spec.jury_aggregation) if reading else None
            line_provisional = jury is None
            awarded = computed if line_provisional else jury
            provisional = provisional or line_provisional
            awarded_total += awarded
            weighted_progress += target.max_points * p
            max_total += target.max_points
            line_results.append(
                LineResult(
                    target_code=target.code,
                    value=value,
                    reported_on=reading.reported_on if reading else None,
                    baseline=baseline,
                    target=target_value,
                    progress=p,
                    expected=e,
                    status=status,
                    computed_points=computed,
                    jury_points=jury,
                    awarded_points=awarded,
                    max_points=target.max_points,
                    provisional=line_provisional,
                )
            )
            summary = summaries[target.code]
            summary["committed"] += 1
            summary["reporting"] += value is not None
            summary["progress"] += p
            summary["counts"][status] += 1
        total = max(ZERO, awarded_total + agency.adjustments)
        # An agency committed to nothing has no maximum: its percentages are 0, not undefined.
        score_percent = HUNDRED * total / max_total if max_total else ZERO
        progress_percent = HUNDRED * weighted_progress / max_total if max_total else ZERO
        unranked.append((agency, tuple(line_results), total, max_total, score_percent, progress_percent, provisional))

    # Section 7: rank by score rounded to 2 decimals, ties share a rank, the next rank skips.
    unranked.sort(key=lambda item: (-round_for_rank(item[4]), item[0].code))
    results = []
    previous_score = None
    rank = 0
    for position, (agency, lines, total, max_total, score, progress_pct, provisional) in enumerate(unranked, 1):
        rounded = round_for_rank(score)
        if rounded != previous_score:
            rank, previous_score = position, rounded
        results.append(
            AgencyResult(
                code=agency.code,
                name=agency.name,
                parent_code=agency.parent_code,
                rank=rank,
                tier=tier_for(score, spec.tiers),
                provisional=provisional,
                score_percent=score,
                progress_percent=progress_pct,
                total_points=total,
                max_points=max_total,
                adjustments=agency.adjustments,
                lines=lines,
            )
        )

    target_results = []
    for target in sorted(targets, key=lambda target: target.code):
        summary = summaries[target.code]
        committed = summary["committed"]
        target_results.append(
            TargetSummary(
                code=target.code,
                title=target.title,
                unit=target.unit,
                direction=target.direction,
                deadline=deadline_of(spec, target),
                max_points=target.max_points,
                committed=committed,
                reporting=summary["reporting"],
                achieved=summary["counts"]["achieved"],
                mean_progress=summary["progress"] / committed if committed else ZERO,
                status_counts=summary["counts"],
            )
        )

    # Section 8: groups by parent agency.
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    inputs = {agency.code: agency for agency in agencies}
    for result in results:
        parent = result.parent_code
        if parent:
            groups.setdefault(parent, []).append(result)
            names.setdefault(parent, inputs[result.code].parent_name or parent)
    group_results = tuple(
        GroupResult(
            code=code,
            name=names[code],
            agencies=len(members),
            mean_score_percent=sum((m.score_percent for m in members), ZERO) / len(members),
            mean_progress_percent=sum((m.progress_percent for m in members), ZERO) / len(members),
        )
        for code, members in sorted(groups.items())
    )
    return Board(
        competition=spec, as_of=as_of, agencies=tuple(results), targets=tuple(target_results), groups=group_results
    )
