"""Review panels, declared conflicts and the jury's progress (docs/results.md, "Review panels and
declared conflicts").

A competition without review panels works as it always did: every reviewer reviews every line
but those of the agency they are affiliated with, and every score counts. Once it has panels, a
line that lies in one or more panels (its target among the panel's targets, its agency directly
below one of its clusters; an empty list stands for all) is reviewed by those panels' members
only, and only their scores count in its jury points; a line in no panel stays with the whole
jury. A reviewer affiliated with an agency, or who declared a conflict with it, never reviews it.

Which scores count is kept on each score (`JuryScore.counted`), worked out again whenever the
panels change, so that the boards read it without a query more (domain.scoreboard).
"""

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..models import (
    CommitmentLine,
    DeclaredConflict,
    Juror,
    JuryScore,
    ReviewPanel,
    Submission,
    TargetPage,
)
from ..validators import clean_reason

DECLARE = "competition.conflict_declare"
WITHDRAW = "competition.score_withdraw"


@dataclass
class Scope:
    """A panel as sets of ids: an empty set of targets or clusters stands for all."""

    pk: int
    name: str
    competition_id: int
    targets: set = field(default_factory=set)
    clusters: set = field(default_factory=set)
    members: set = field(default_factory=set)

    def covers(self, target_id, group_id):
        return (not self.targets or target_id in self.targets) and (not self.clusters or group_id in self.clusters)

    def line_filter(self, prefix=""):
        """A Q selecting the lines (or, with `prefix` such as "line__", rows with a line) in the panel."""
        query = Q(**{f"{prefix}pk__isnull": False})
        if self.targets:
            query &= Q(**{f"{prefix}target_id__in": sorted(self.targets)})
        if self.clusters:
            query &= Q(**{f"{prefix}commitment__agency__parent_id__in": sorted(self.clusters)})
        return query


def scopes_of(competition_ids):
    """{competition id: [Scope]} of the competitions' panels (4 queries whatever their number)."""
    competition_ids = list(competition_ids)
    by_competition, by_pk = {}, {}
    if not competition_ids:
        return by_competition
    for pk, name, competition_id in (
        ReviewPanel.objects.filter(competition_id__in=competition_ids)
        .order_by("name", "pk")
        .values_list("pk", "name", "competition_id")
    ):
        scope = Scope(pk=pk, name=name, competition_id=competition_id)
        by_pk[pk] = scope
        by_competition.setdefault(competition_id, []).append(scope)
    if not by_pk:
        return by_competition
    for relation, attribute in (("targets", "targets"), ("clusters", "clusters"), ("members", "members")):
        through = getattr(ReviewPanel, relation).through
        column = {"targets": "targetpage_id", "clusters": "agency_id", "members": "juror_id"}[relation]
        for panel_id, value in through.objects.filter(reviewpanel_id__in=list(by_pk)).values_list(
            "reviewpanel_id", column
        ):
            getattr(by_pk[panel_id], attribute).add(value)
    return by_competition


def reviewers_of_line(scopes, target_id, group_id):
    """The juror ids that review a line under `scopes` (its competition's panels), or None when
    the whole jury does (no panel holds the line)."""
    covering = [scope for scope in scopes if scope.covers(target_id, group_id)]
    if not covering:
        return None
    return set().union(*(scope.members for scope in covering))


def seat_filter(seat, scopes, prefix="line__"):
    """A Q on submissions (or, with another `prefix`, rows with a line) keeping the lines the
    seat's juror reviews under the competition's panels: those of the panels they sit on, and
    those in no panel at all."""
    if not scopes:
        return Q()
    mine = Q(pk__in=[])
    anywhere = Q(pk__in=[])
    for scope in scopes:
        anywhere |= scope.line_filter(prefix)
        if seat.pk in scope.members:
            mine |= scope.line_filter(prefix)
    return mine | ~anywhere


def conflict_agency_ids(seats):
    """{juror id: set of agency ids} the seats are affiliated with or declared a conflict with (1 query)."""
    result = {seat.pk: ({seat.agency_id} if seat.agency_id else set()) for seat in seats}
    for juror_id, agency_id in DeclaredConflict.objects.filter(juror__in=list(result)).values_list(
        "juror_id", "agency_id"
    ):
        result[juror_id].add(agency_id)
    return result


@transaction.atomic
def recount(competition):
    """Mark each score of the competition as counted or not under its panels (a score by a
    juror who is not a reviewer of its line is kept but does not count); boards are rebuilt.
    Returns the number of scores whose state changed."""
    scopes = scopes_of([competition.pk]).get(competition.pk, [])
    rows = JuryScore.objects.filter(submission__line__commitment__competition=competition).values_list(
        "pk",
        "juror_id",
        "submission__line__target_id",
        "submission__line__commitment__agency__parent_id",
        "counted",
    )
    flips = {True: [], False: []}
    for pk, juror_id, target_id, group_id, counted in rows:
        reviewers = reviewers_of_line(scopes, target_id, group_id)
        should = reviewers is None or juror_id in reviewers
        if should != counted:
            flips[should].append(pk)
    for value, pks in flips.items():
        if pks:
            JuryScore.objects.filter(pk__in=pks).update(counted=value)
    if flips[True] or flips[False]:
        from ..signals import _invalidate_later

        _invalidate_later([competition.pk])
    return len(flips[True]) + len(flips[False])


def counts_for(submission, juror):
    """Whether a score by `juror` on `submission` counts under the competition's panels."""
    line = submission.line
    scopes = scopes_of([line.commitment.competition_id]).get(line.commitment.competition_id, [])
    group_id = line.commitment.agency.parent_id
    reviewers = reviewers_of_line(scopes, line.target_id, group_id)
    return reviewers is None or juror.pk in reviewers


# --- Declared conflicts ---------------------------------------------------------------------


@transaction.atomic
def declare_conflict(seat, agency, reason, user):
    """The reviewer of `seat` declares a conflict of interest with `agency`: from now on they are
    treated as affiliated with it, and each score they had given its submissions is withdrawn
    (deleted, with its points kept in the audit log). Returns the declaration."""
    if seat.user_id != user.pk:
        raise PermissionDenied
    reason = clean_reason(reason, _("Say why: the reason is kept with the declaration."))
    seat = Juror.objects.select_for_update().select_related("competition").get(pk=seat.pk)
    if seat.competition.closed:
        raise ValidationError(_("The competition is closed: scores can no longer change."))
    if seat.has_conflict_with(agency.pk):
        raise ValidationError(_("You are already treated as affiliated with this agency."))
    conflict = DeclaredConflict.objects.create(juror=seat, agency=agency, reason=reason)
    withdrawn = list(
        JuryScore.objects.select_for_update()
        .filter(juror=seat, submission__line__commitment__agency=agency)
        .select_related("submission__line__target")
        .order_by("pk")
    )
    for score in withdrawn:
        log(
            instance=score.submission,
            action=WITHDRAW,
            user=user,
            data={
                "juror": user.get_username(),
                "old_points": _plain(score.points),
                "old_comment": score.comment,
                "reason": reason,
            },
        )
        score.delete()
    log(
        instance=conflict,
        action=DECLARE,
        user=user,
        data={
            "juror": user.get_username(),
            "agency": agency.code,
            "reason": reason,
            "withdrawn_scores": len(withdrawn),
        },
    )
    conflict.withdrawn = len(withdrawn)
    return conflict


def _plain(value):
    from decimal import Decimal

    return format(Decimal(value).normalize(), "f")


def declared_conflicts(competition):
    return (
        DeclaredConflict.objects.filter(juror__competition=competition)
        .select_related("juror__user", "agency")
        .order_by("-declared_at", "pk")
    )


# --- Progress -------------------------------------------------------------------------------


def current_submissions(competition):
    """(submission id, agency id, target id, group id) of the competition's submissions to be
    scored now: submitted or accepted, not superseded by a later accepted report (1 query)."""
    from .jury import REVIEWABLE, current_only

    queryset = Submission.objects.filter(line__commitment__competition=competition, status__in=REVIEWABLE).order_by(
        "submitted_at", "pk"
    )
    return list(
        current_only(queryset).values_list(
            "pk", "line__commitment__agency_id", "line__target_id", "line__commitment__agency__parent_id"
        )
    )


def jury_progress(competition):
    """What a manager reads of the jury's progress, in a fixed number of queries: per reviewer
    how many of the submissions they should score they have scored, and per submission (id)
    how many counted scores it has against the number of reviewers who should score it."""
    seats = list(
        Juror.objects.filter(competition=competition).select_related("user", "agency").order_by("user__username")
    )
    conflicts = conflict_agency_ids(seats)
    scopes = scopes_of([competition.pk]).get(competition.pk, [])
    submissions = current_submissions(competition)
    scored = set(
        JuryScore.objects.filter(submission__line__commitment__competition=competition, counted=True).values_list(
            "submission_id", "juror_id"
        )
    )
    everyone = {seat.pk for seat in seats}
    reviewers = {seat.pk: {"seat": seat, "total": 0, "scored": 0} for seat in seats}
    per_submission = {}
    for pk, agency_id, target_id, group_id in submissions:
        line_reviewers = reviewers_of_line(scopes, target_id, group_id)
        expected = [
            juror_id
            for juror_id in (everyone if line_reviewers is None else line_reviewers & everyone)
            if agency_id not in conflicts[juror_id]
        ]
        done = 0
        for juror_id in expected:
            reviewers[juror_id]["total"] += 1
            if (pk, juror_id) in scored:
                reviewers[juror_id]["scored"] += 1
                done += 1
        per_submission[pk] = (done, len(expected))
    return {
        "reviewers": list(reviewers.values()),
        "submissions": per_submission,
        "scopes": scopes,
    }


# --- The balanced proposal ------------------------------------------------------------------

BY_CLUSTER = "clusters"
BY_TARGET = "targets"


@dataclass
class ProposedPanel:
    name: str
    targets: list  # [(pk, label)]
    clusters: list  # [(pk, label)]
    members: list = field(default_factory=list)  # [Juror]
    lines: int = 0


@dataclass
class Proposal:
    split: str
    per_panel: int
    panels: list
    loads: list  # [(Juror, lines they review)]
    unassigned: list  # [Juror] eligible for no panel
    short: list  # [ProposedPanel] with fewer reviewers than asked for

    @property
    def fingerprint(self):
        """Changes whenever anything the proposal was made from changes."""
        text = repr(
            [
                (p.name, [t for t, _l in p.targets], [c for c, _l in p.clusters], [j.pk for j in p.members], p.lines)
                for p in self.panels
            ]
        )
        return hashlib.sha256(f"{self.split}:{self.per_panel}:{text}".encode()).hexdigest()[:16]


def propose(competition, split=BY_CLUSTER, per_panel=2):
    """A balanced assignment of the competition's reviewers to panels, deterministic.

    The competition's lines are divided into units (its clusters, or its targets), units into
    as many panels as there are groups of `per_panel` reviewers, each unit going to the panel
    with the fewest lines so far (largest units first), so that the panels hold as equal a
    number of lines as the units allow. Each reviewer then sits on one panel: panels with the
    most lines are filled first, each seat going to the reviewer with the fewest panels open to
    them (then by user name). Divided by cluster, a reviewer is never put on a panel holding an
    agency they are affiliated with or declared a conflict with (one open to no panel stays
    unassigned); divided by target, the lines of those agencies are never theirs to review.
    """
    seats = list(Juror.objects.filter(competition=competition).select_related("user").order_by("user__username"))
    conflicts = conflict_agency_ids(seats)
    lines = list(
        CommitmentLine.objects.filter(commitment__competition=competition, commitment__live=True).values_list(
            "commitment__agency_id", "commitment__agency__parent_id", "target_id"
        )
    )
    units = {}  # key -> {"lines": n, "agencies": set}
    if split == BY_TARGET:
        labels = {
            pk: f"{code} {title}"
            for pk, code, title in TargetPage.objects.filter(competition=competition).values_list("pk", "code", "title")
        }
        for agency_id, _group_id, target_id in lines:
            unit = units.setdefault(target_id, {"lines": 0, "agencies": set()})
            unit["lines"] += 1
            unit["agencies"].add(agency_id)
    else:
        from ..models import Agency

        for agency_id, group_id, _target_id in lines:
            if group_id is None:
                continue  # agencies in no group stay with the whole jury
            unit = units.setdefault(group_id, {"lines": 0, "agencies": set()})
            unit["lines"] += 1
            unit["agencies"].add(agency_id)
        labels = {pk: str(agency) for pk, agency in Agency.objects.in_bulk(list(units)).items()}
    per_panel = max(1, int(per_panel))
    count = max(1, min(len(units), len(seats) // per_panel or 1))
    bins = [{"units": [], "lines": 0, "agencies": set()} for _index in range(count)]
    for key in sorted(units, key=lambda key: (-units[key]["lines"], labels.get(key, ""), key)):
        target_bin = min(range(count), key=lambda index: (bins[index]["lines"], index))
        bins[target_bin]["units"].append(key)
        bins[target_bin]["lines"] += units[key]["lines"]
        bins[target_bin]["agencies"] |= units[key]["agencies"]
    bins = [item for item in bins if item["units"]]
    panels = []
    for number, item in enumerate(sorted(bins, key=lambda item: -item["lines"]), 1):
        keys = sorted(item["units"], key=lambda key: labels.get(key, ""))
        names = ", ".join(labels.get(key, "") for key in keys)
        chosen = [(key, labels.get(key, "")) for key in keys]
        panels.append(
            ProposedPanel(
                name=(_("Panel %(number)d: %(units)s") % {"number": number, "units": names})[:255],
                targets=chosen if split == BY_TARGET else [],
                clusters=chosen if split != BY_TARGET else [],
                lines=item["lines"],
            )
        )
        panels[-1].agencies = item["agencies"]
    # Divided by cluster, a reviewer never sits on the panel of a cluster holding an agency of
    # theirs. Divided by target every panel holds every agency: they sit on one, and the lines of
    # their agencies stay out of their queue (and of their load) as without panels.
    open_to = {
        seat.pk: [
            index
            for index, panel in enumerate(panels)
            if split == BY_TARGET or not (panel.agencies & conflicts[seat.pk])
        ]
        for seat in seats
    }
    unassigned = [seat for seat in seats if not open_to[seat.pk]]
    waiting = [seat for seat in seats if open_to[seat.pk]]
    # Seats first up to `per_panel` on each panel (most lines first), then one more on each in turn.
    rounds = [per_panel] + [1] * len(seats)
    filled = 0
    for round_size in rounds:
        for index, panel in enumerate(panels):
            wanted = filled + round_size
            while len(panel.members) < wanted:
                candidates = [seat for seat in waiting if index in open_to[seat.pk]]
                if not candidates:
                    break
                chosen_seat = min(candidates, key=lambda seat: (len(open_to[seat.pk]), seat.user.get_username()))
                panel.members.append(chosen_seat)
                waiting.remove(chosen_seat)
        filled += round_size
        if not waiting:
            break
    unassigned += waiting
    loads = []
    for seat in seats:
        keys = {key for panel in panels if seat in panel.members for key, _label in panel.targets + panel.clusters}
        # Lines of the agencies the seat is affiliated or in conflict with are never theirs.
        load = sum(
            1
            for agency_id, group_id, target_id in lines
            if (target_id if split == BY_TARGET else group_id) in keys and agency_id not in conflicts[seat.pk]
        )
        loads.append((seat, load))
    for panel in panels:
        panel.members.sort(key=lambda seat: seat.user.get_username())
    short = [panel for panel in panels if len(panel.members) < per_panel]
    return Proposal(split=split, per_panel=per_panel, panels=panels, loads=loads, unassigned=unassigned, short=short)


@transaction.atomic
def accept(competition, proposal, user):
    """Replace the competition's panels with the proposal's, each change in the audit log, and
    work out again which scores count."""
    from ..validators import validate_judging_open

    validate_judging_open(competition)
    for panel in ReviewPanel.objects.filter(competition=competition):
        log(instance=panel, action="wagtail.delete", user=user)
        panel.delete()
    created = []
    for proposed in proposal.panels:
        panel = ReviewPanel(competition=competition, name=proposed.name)
        panel.save()
        panel.targets.set([pk for pk, _label in proposed.targets])
        panel.clusters.set([pk for pk, _label in proposed.clusters])
        panel.members.set([seat.pk for seat in proposed.members])
        panel.save()
        log(instance=panel, action="wagtail.create", user=user)
        created.append(panel)
    recount(competition)
    return created
