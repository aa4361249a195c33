"""Clusters (cụm / khối thi đua) at every level of the agencies' tree, rolled up from a board:
pure Python, like `competition.scoring`, of which it is the continuation (docs/scoring.md,
section 8, "Clusters at every level").

A board's groups (section 8) are the participating agencies of each direct parent. Agencies nest
further (a city above its clusters of departments and of wards), so each agency above a group
also rolls up everything below it. Every cluster is marked with its `depth`: 1 for a group of
section 8 (its members are the parent's direct children, with the same code and figures), and
for a higher level the greatest number of steps down from it to one of its members (a city above
two clusters of units: 2). An agency both the direct parent of participating agencies and higher
up than others has both: its group (depth 1) and its roll-up of every participating agency below
it (depth 2 or more)."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .collation import vietnamese_key
from .scoring import RANK_PLACES, ZERO, Board

ACHIEVED = "achieved"
NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class ClusterTarget:
    """One target across the members of a cluster committed to it (section 8's figures)."""

    code: str
    committed: int
    reporting: int
    achieved: int
    mean_progress: Decimal  # over committed members, no data as 0


@dataclass(frozen=True, slots=True)
class Cluster:
    """The participating agencies below one agency, taken together."""

    code: str
    name: str
    parent_code: str | None  # the agency above this one (None at the top of the tree)
    depth: int
    agencies: int
    mean_score_percent: Decimal
    mean_progress_percent: Decimal
    targets: tuple[ClusterTarget, ...]  # by target code, every target of the board
    members: tuple[str, ...]  # agency codes, in the board's order (rank, then code)

    @property
    def achieved(self):
        """Commitments achieved by the members, over all targets."""
        return sum(target.achieved for target in self.targets)

    @property
    def committed(self):
        return sum(target.committed for target in self.targets)


class _Tally:
    __slots__ = ("members", "score", "progress", "targets")

    def __init__(self, target_codes):
        self.members = []
        self.score = ZERO
        self.progress = ZERO
        # target code -> [committed, reporting, achieved, sum of progress]
        self.targets = {code: [0, 0, 0, ZERO] for code in target_codes}

    def add(self, agency):
        self.members.append(agency.code)
        self.score += agency.score_percent
        self.progress += agency.progress_percent
        for line in agency.lines:
            tally = self.targets.get(line.target_code)
            if tally is None:
                continue
            tally[0] += 1
            tally[1] += line.status != NO_DATA
            tally[2] += line.status == ACHIEVED
            tally[3] += line.progress

    def cluster(self, code, name, parent_code, depth):
        count = len(self.members)
        return Cluster(
            code=code,
            name=name,
            parent_code=parent_code,
            depth=depth,
            agencies=count,
            mean_score_percent=self.score / count,
            mean_progress_percent=self.progress / count,
            targets=tuple(
                ClusterTarget(
                    code=target_code,
                    committed=committed,
                    reporting=reporting,
                    achieved=achieved,
                    mean_progress=progress / committed if committed else ZERO,
                )
                for target_code, (committed, reporting, achieved, progress) in self.targets.items()
            ),
            members=tuple(self.members),
        )


def cluster_tree(board: Board, hierarchy: Mapping[str, tuple[str, str | None]]) -> tuple[Cluster, ...]:
    """Every cluster of `board`, sorted by code, then depth. `hierarchy`: agency code -> (name,
    parent code) of the agencies above the participating ones (more is ignored; an agency missing
    from it is the top of its branch). The groups of depth 1 take their names from the board, as
    its `groups` do; a loop in the parents (which the forms refuse) stops the walk up."""
    target_codes = [target.code for target in board.targets]
    direct: dict[str, _Tally] = {}
    wide: dict[str, list] = {}  # code -> [tally of every member below, greatest distance]
    for agency in board.agencies:
        parent = agency.parent_code
        if not parent:
            continue
        direct.setdefault(parent, _Tally(target_codes)).add(agency)
        seen = {agency.code}
        distance = 1
        while parent and parent not in seen:
            seen.add(parent)
            entry = wide.setdefault(parent, [_Tally(target_codes), 0])
            entry[0].add(agency)
            entry[1] = max(entry[1], distance)
            parent = hierarchy.get(parent, (None, None))[1]
            distance += 1
    group_names = {group.code: group.name for group in board.groups}

    def name_of(code):
        return hierarchy.get(code, (None,))[0] or group_names.get(code) or code

    def parent_of(code):
        return hierarchy.get(code, (None, None))[1]

    clusters = [
        tally.cluster(code, group_names.get(code) or name_of(code), parent_of(code), 1)
        for code, tally in direct.items()
    ]
    clusters += [
        tally.cluster(code, name_of(code), parent_of(code), depth)
        for code, (tally, depth) in wide.items()
        if depth >= 2
    ]
    return tuple(sorted(clusters, key=lambda cluster: (cluster.code, cluster.depth)))


def widest(clusters):
    """Code -> the cluster of that code holding the most members (its highest depth): the one a
    cluster's page and the ranking's filter show."""
    found = {}
    for cluster in clusters:
        if cluster.code not in found or cluster.depth > found[cluster.code].depth:
            found[cluster.code] = cluster
    return found


def tree_order(clusters):
    """(cluster, level) for the widest cluster of each code, each one followed by those right
    below it (level 0 at the top), siblings by name (in the Vietnamese alphabet) then code: the
    tree as a reader reads it."""
    by_code = widest(clusters)
    children = {}
    for cluster in by_code.values():
        above = cluster.parent_code if cluster.parent_code in by_code else None
        children.setdefault(above, []).append(cluster)
    ordered = []

    def visit(parent, level):
        for cluster in sorted(children.get(parent, ()), key=lambda item: (vietnamese_key(item.name), item.code)):
            if cluster.code in seen:
                continue
            seen.add(cluster.code)
            ordered.append((cluster, level))
            visit(cluster.code, level + 1)

    seen = set()
    visit(None, 0)
    return ordered


def ranks_within(agencies):
    """The rank of each of `agencies` (AgencyResults in the board's order) among themselves, by
    the rule of section 7: equal scores rounded to 2 decimals share a rank, the next one skips."""
    ranks = []
    rank, previous = 0, None
    for position, agency in enumerate(agencies, 1):
        key = agency.score_percent.quantize(RANK_PLACES, rounding=ROUND_HALF_UP)
        if key != previous:
            rank, previous = position, key
        ranks.append(rank)
    return ranks
