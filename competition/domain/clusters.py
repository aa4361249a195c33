"""Clusters on the public side: the agencies' tree read from the database (one query), the
ranking's filter by cluster and search by name or code (on the board already loaded: no query
however many agencies), and a cluster's own page (`<competition URL>clusters/<code>/`)."""

import unicodedata

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .. import conf
from ..clusters import cluster_tree, ranks_within, tree_order, widest
from ..models import Agency
from .presentation import (
    _as_of_from,
    _as_of_query,
    commitment_urls,
    configure_table,
    note_canonical_query,
    ranking_rows,
    target_urls,
)
from .scoreboard import get_board

# The longest search a reader may type: longer ones are cut (a name is at most 255 characters).
MAX_SEARCH = 100


def load_hierarchy():
    """Agency code -> (name, parent code) of every agency with children (1 query): the levels
    above the participating agencies, which the board does not hold beyond their parents."""
    parents = Agency.objects.filter(Exists(Agency.objects.filter(parent=OuterRef("pk"))))
    return {
        code: (name, parent_code) for code, name, parent_code in parents.values_list("code", "name", "parent__code")
    }


def clusters_of(board):
    """Every cluster of `board` at every level (competition.clusters.cluster_tree)."""
    if not any(agency.parent_code for agency in board.agencies):
        return ()
    return cluster_tree(board, load_hierarchy())


def folded(text):
    """`text` for matching as readers type: case and diacritics aside ("sai gon" finds "Sài Gòn")."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())


def search_of(request):
    """The reader's search (`q`) as typed, trimmed and with its spaces collapsed; "" for none."""
    return " ".join(request.GET.get("q", "").split())[:MAX_SEARCH]


def matches(search):
    """A predicate on ranking rows: the agency's name or code contains `search`."""
    wanted = folded(search)
    return lambda row: wanted in folded(row["name"]) or wanted in folded(row["code"])


def cluster_options(clusters):
    """The choices of the ranking's cluster filter: the tree in reading order, each name indented
    by its level (a select cannot nest deeper than one group)."""
    return [
        {"code": cluster.code, "label": "\u2003" * level + cluster.name, "agencies": cluster.agencies}
        for cluster, level in tree_order(clusters)
    ]


def cluster_url(competition_url, code):
    return f"{competition_url}clusters/{code}/" if competition_url else None


def tree_rows(clusters, competition_url):
    """The rows of the table of clusters: the tree in reading order, each with its level (for
    the indent), the name of the cluster above it (for screen readers) and its page's URL."""
    by_code = widest(clusters)
    return [
        {
            "cluster": cluster,
            "level": level,
            "above": by_code[cluster.parent_code].name if cluster.parent_code in by_code else None,
            "url": cluster_url(competition_url, cluster.code),
        }
        for cluster, level in tree_order(clusters)
    ]


def filter_ranking(request, rows, clusters, errors):
    """The rows the reader asked for (`cluster`, `q`), and what the page says about them: the
    chosen cluster (None: all), the search, and the canonical `cluster` part of the query (None
    when the code is unknown, so that the page is not kept in the cache)."""
    by_code = widest(clusters)
    codes = request.GET.getlist("cluster")
    cluster, query = None, {}
    if codes and codes[-1].strip():
        code = codes[-1].strip()
        cluster = by_code.get(code)
        if cluster is None:
            errors.append(_("There is no cluster with the code %(code)s; showing every agency.") % {"code": code[:64]})
            query = None
        else:
            members = set(cluster.members)
            rows = [row for row in rows if row["code"] in members]
            query = {"cluster": cluster.code}
    search = search_of(request)
    if search:
        rows = [row for row in rows if matches(search)(row)]
    return rows, cluster, search, query


def cluster_context(competition, request, code):
    """The page of one cluster: its members ranked among themselves, its figures, the clusters
    right below it and its targets' summaries; 404 for a code that is no cluster of the board."""
    from ..tables import RankingTable

    errors = []
    board = get_board(competition, _as_of_from(request, errors))
    clusters = clusters_of(board)
    cluster = widest(clusters).get(code)
    if cluster is None:
        raise Http404(_("No such cluster in this competition."))
    url = competition.get_url(request)
    members = set(cluster.members)
    results = [agency for agency in board.agencies if agency.code in members]
    rows = ranking_rows(board, commitment_urls(competition, url))
    by_code = {row["code"]: row for row in rows}
    rows = []
    for agency, rank in zip(results, ranks_within(results), strict=True):
        rows.append({**by_code[agency.code], "group_rank": rank})
    table = RankingTable(rows)
    query = configure_table(request, table, conf.get("RANKING_PER_PAGE"))
    as_of = _as_of_query(request, board, errors)
    note_canonical_query(request, None if as_of is None else {**as_of, **query})
    urls_of_targets = target_urls(competition, url)
    summaries = {summary.code: summary for summary in board.targets}
    parent = widest(clusters).get(cluster.parent_code)
    return {
        "competition_base_template": conf.get("BASE_TEMPLATE"),
        "page": competition,
        "competition_url": url,
        "board": board,
        "as_of_errors": errors,
        "table_query": query,
        "cluster": cluster,
        "parent_cluster": parent,
        "parent_url": cluster_url(url, parent.code) if parent else None,
        "sub_clusters": _below(tree_rows(clusters, url), cluster),
        "filtered_ranking_url": f"{url}?{urlencode({'cluster': cluster.code})}" if url else None,
        "ranking_table": table,
        "targets": [
            (summaries[target.code], target, urls_of_targets.get(target.code))
            for target in cluster.targets
            if target.committed
        ],
        "chart_data": {},
    }


def _below(rows, cluster):
    """The rows of `tree_rows` below `cluster`, their levels counted from right below it."""
    start = next(index for index, row in enumerate(rows) if row["cluster"] is cluster)
    level = rows[start]["level"]
    below = []
    for row in rows[start + 1 :]:
        if row["level"] <= level:
            break
        below.append({**row, "level": row["level"] - level - 1})
    return below
