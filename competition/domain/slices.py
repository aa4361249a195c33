"""scoreboard.json cut into the parts its slices (`?group=CODE`, `?agency=CODE`, docs/opendata.md)
are made of, kept in the cache beside the public board under the same version.

A slice carries figures of the whole board (the overall rank, the clusters' means), so it cannot
be computed from its own rows; cutting it from the kept board meant unpickling the whole board
and adding up every cluster for any slice (docs/performance.md, runs H and I). Instead, whenever
the public JSON document of a board is made (by the view, or by the background rebuild after a
change), the JSON text of each of its parts is kept:

- one entry for the whole board: the texts of `competition`, `targets` and every cluster;
- one per agency: its text in `agencies`, its group's text in `groups` and the positions of the
  clusters that hold it;
- one per group: its text, its agencies' codes in the board's order and its clusters' positions.

The texts are kept encoded (UTF-8, the response's bytes): the slice joins bytes and the response
sends them as they are, with nothing to decode when unpickled nor to encode after joining
(docs/performance.md, run P).

Each entry carries the competition's cache version, like the board: any change that makes the
board stale makes every part stale. A slice then reads its entry and the whole board's (one
round trip; a group's slice a second one for its agencies' entries) and joins texts: the same
bytes as cutting the board (`Parts.text`)."""

import json
from collections import defaultdict, namedtuple

from django.core.serializers.json import DjangoJSONEncoder

from .. import conf
from .clusters import clusters_of
from .opendata import board_json
from .scoreboard import board_cache, board_key, board_version, cache_entries, resolve_as_of
from .selfassessment import self_points_of


def dumps(value):
    """JSON text as scoreboard.json is written: UTF-8 as it is, no space after the separators
    (a tenth smaller, docs/opendata.md)."""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def encoded(value):
    """`dumps` of `value` as the bytes of the response (UTF-8)."""
    return dumps(value).encode()


def compose(competition, agencies, targets, groups, clusters):
    """The bytes of scoreboard.json from its parts' bytes: exactly `dumps` of the whole document,
    encoded, since the JSON text of a list or an object is its members' texts joined by commas."""
    return b"".join(
        (
            b'{"competition":',
            competition,
            b',"agencies":[',
            b",".join(agencies),
            b'],"targets":',
            targets,
            b',"groups":[',
            b",".join(groups),
            b'],"clusters":[',
            b",".join(clusters),
            b"]}",
        )
    )


def parts_key(competition, day):
    """The key of the whole board's entry; each agency's and group's key starts with it. (`jsonb`:
    the parts are bytes; entries of texts kept by an earlier version of this code are not read.)"""
    return f"{board_key(competition, day)}:jsonb"


def part_key(base, name, code):
    return f"{base}:{name}:{code}"


class Parts:
    """The public JSON document of `board` (with the self-assessed points and the clusters, as
    the view writes it: 2 queries) as the texts of its parts, encoded."""

    def __init__(self, competition, board):
        clusters = clusters_of(board)
        data = board_json(board, self_points_of(competition, board), clusters)
        self.competition = encoded(data["competition"])
        self.targets = encoded(data["targets"])
        self.clusters = tuple(encoded(cluster) for cluster in data["clusters"])
        self.agencies = {agency["code"]: encoded(agency) for agency in data["agencies"]}  # board order
        self.groups = {group["code"]: encoded(group) for group in data["groups"]}
        self.held = defaultdict(list)  # agency code -> positions of the clusters holding it
        for position, cluster in enumerate(clusters):
            for code in cluster.members:
                self.held[code].append(position)
        self.parent = {agency.code: agency.parent_code for agency in board.agencies}
        self.members = defaultdict(list)  # group code -> its agencies' codes, in the board's order
        for agency in board.agencies:
            if agency.parent_code:
                self.members[agency.parent_code].append(agency.code)

    def _positions(self, codes):
        return tuple(sorted({position for code in codes for position in self.held[code]}))

    def text(self, name=None, code=None):
        """The document's bytes, whole (no `name`) or the slice `name` (`group` or `agency`) `code`
        (a code on the board: see `opendata.board_slice`), as the view answers it."""
        if name is None:
            agencies, groups, clusters = list(self.agencies.values()), list(self.groups.values()), self.clusters
            return compose(self.competition, agencies, self.targets, groups, clusters)
        codes = self.members[code] if name == "group" else [code]
        group = self.groups.get(code if name == "group" else self.parent[code])
        return compose(
            self.competition,
            [self.agencies[agency] for agency in codes],
            self.targets,
            [] if group is None else [group],
            [self.clusters[position] for position in self._positions(codes)],
        )

    def entries(self, base, version):
        """The cache entries of the parts (key -> entry), made at `version`."""
        entries = {base: (version, self.competition, self.targets, self.clusters)}
        for code, text in self.agencies.items():
            group = self.groups.get(self.parent[code])
            entries[part_key(base, "agency", code)] = (version, text, group, self._positions([code]))
        for code, text in self.groups.items():
            members = tuple(self.members[code])
            entries[part_key(base, "group", code)] = (version, text, members, self._positions(members))
        return entries


def keep(competition, day, parts, version):
    """Keep the parts of the public board of `day` made at `version` (read before the board was,
    as `get_board` reads it): one `set_many`."""
    entries = parts.entries(parts_key(competition, day), version)
    board_cache().set_many(entries, timeout=conf.get("SCOREBOARD_CACHE_SECONDS"))


def kept_text(competition, day, name, code, *, at=None):
    """The bytes of the slice `name` (`group` or `agency`) `code` of the public board of `day`,
    joined from the kept parts; None unless every part it needs is kept at the current version
    (none made yet, a change since, an entry evicted, or a code not on the board), and, given
    `at`, unless the current version is `at`."""
    base = parts_key(competition, day)
    own_key = part_key(base, name, code)
    version, _floor, found = cache_entries(competition.pk, [own_key, base], floor=False)
    whole, own = found.get(base), found.get(own_key)
    if at is not None and version != at:
        return None
    if whole is None or own is None or whole[0] != version or own[0] != version:
        return None
    _version, competition_text, targets, clusters = whole
    if name == "agency":
        _version, text, group, positions = own
        texts, groups = [text], [] if group is None else [group]
    else:
        _version, group, members, positions = own
        keys = [part_key(base, "agency", member) for member in members]
        kept = board_cache().get_many(keys)
        if any(key not in kept or kept[key][0] != version for key in keys):
            return None
        texts, groups = [kept[key][1] for key in keys], [group]
    return compose(competition_text, texts, targets, groups, [clusters[position] for position in positions])


# Where a slice's competition page is, remembered by this process so that a kept slice is answered
# without a query: finding the page the Wagtail way (the request's site, the restrictions, the
# page) was nine tenths of a kept slice's time (docs/performance.md, run J).
#
# (host, port, page path) -> (version, Route): the live, unrestricted competition page found at
# that address under the request's site, at the competition's cache version `version` (read
# before the page was). Every change that can move, unpublish, restrict or delete the page, or
# change its period or its judging state, or any site, makes the competition's version new
# (competition.signals), so a route is used only while the version it was found at is current.
Route = namedtuple("Route", "pk start_date end_date closed")
MAX_ROUTES = 10_000
routes = {}


def route_of(request, page_path):
    """The key of `routes` for the competition page at `page_path` of the request's host."""
    return (request._get_raw_host(), request.get_port(), page_path)


def remember_route(request, page_path, competition_id):
    """Remember where the competition `competition_id`, just served at `page_path`, is: its
    version read first, then the site and the page found again (3 queries), so that a change
    committed meanwhile leaves the route under an older version than the competition's."""
    from wagtail.models import Site

    from ..models import CompetitionPage

    version = board_version(competition_id)
    site = Site._find_for_request(request)  # not the request's own copy: read after the version
    if site is None:
        return
    row = (
        CompetitionPage.objects.live()
        .public()
        .filter(pk=competition_id, url_path=site.root_page.url_path + page_path)
        .values_list("start_date", "end_date", "closed")
        .first()
    )
    if row is None:
        return
    if len(routes) >= MAX_ROUTES:
        routes.clear()
    routes[route_of(request, page_path)] = (version, Route(competition_id, *row))


def kept_slice(request, page_path, name, code, as_of):
    """(the competition's route, the day, the text) of the slice `name` `code` of the public
    board at `as_of` (None: today) of the competition page at `page_path`, when this process
    remembers the page at the competition's current version and every part is kept; None
    otherwise. No query."""
    known = routes.get(route_of(request, page_path))
    if known is None:
        return None
    version, route = known
    day = resolve_as_of(route, as_of)
    text = kept_text(route, day, name, code, at=version)
    return None if text is None else (route, day, text)
