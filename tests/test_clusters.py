"""Clusters at every level (competition.clusters): exact roll-ups of a board, pure, no database."""

from decimal import Decimal as D

from competition.clusters import cluster_tree, ranks_within, tree_order, widest
from competition.scoring import compute_board
from tests.test_scoring import MID_YEAR, SPEC, agency, line, target

TARGETS = [target("T1"), target("T2")]
# A city C above two clusters (departments D, wards W) and one unit X of its own.
HIERARCHY = {"C": ("City", None), "D": ("Departments", "C"), "W": ("Wards", "C")}


def city_board():
    agencies = [
        agency("D1", line("T1", "100"), line("T2", "100"), parent="D", parent_name="Departments"),  # 100 %
        agency("D2", line("T1", "50"), line("T2"), parent="D", parent_name="Departments"),  # 25 %
        agency("W1", line("T1", "100"), parent="W", parent_name="Wards"),  # 100 %
        agency("W2", line("T1", "40"), line("T2", "100"), parent="W", parent_name="Wards"),  # 70 %
        agency("W3", line("T1"), parent="W", parent_name="Wards"),  # 0 %
        agency("X", line("T1", "80"), parent="C", parent_name="City"),  # 80 %
    ]
    return compute_board(SPEC, TARGETS, agencies, MID_YEAR)


def figures(cluster):
    return (
        cluster.code,
        cluster.name,
        cluster.parent_code,
        cluster.depth,
        cluster.agencies,
        cluster.mean_score_percent,
        cluster.mean_progress_percent,
    )


def target_figures(cluster):
    return [(t.code, t.committed, t.reporting, t.achieved, t.mean_progress) for t in cluster.targets]


def test_every_level_rolls_up_exactly():
    clusters = cluster_tree(city_board(), HIERARCHY)

    assert [figures(cluster) for cluster in clusters] == [
        ("C", "City", None, 1, 1, D(80), D(80)),  # its own unit X: the group of section 8
        ("C", "City", None, 2, 6, D("62.5"), D("62.5")),  # (100 + 25 + 100 + 70 + 0 + 80) / 6
        ("D", "Departments", "C", 1, 2, D("62.5"), D("62.5")),
        ("W", "Wards", "C", 1, 3, D(170) / 3, D(170) / 3),
    ]
    city_own, city, departments, wards = clusters
    assert target_figures(city_own) == [("T1", 1, 1, 0, D("0.8")), ("T2", 0, 0, 0, 0)]
    assert target_figures(city) == [
        ("T1", 6, 5, 2, D("3.7") / 6),  # W3 has no data; D1 and W1 achieved
        ("T2", 3, 2, 2, D(2) / 3),  # D2 has no data (progress 0)
    ]
    assert target_figures(departments) == [("T1", 2, 2, 1, D("0.75")), ("T2", 2, 1, 1, D("0.5"))]
    assert target_figures(wards) == [("T1", 3, 2, 1, D("1.4") / 3), ("T2", 1, 1, 1, D(1))]
    assert (city.achieved, city.committed) == (4, 9)
    assert city.members == ("D1", "W1", "X", "W2", "D2", "W3")  # the board's order: by rank


def test_groups_of_depth_one_are_the_boards_groups():
    board = city_board()

    clusters = cluster_tree(board, HIERARCHY)

    depth_one = [
        (c.code, c.name, c.agencies, c.mean_score_percent, c.mean_progress_percent) for c in clusters if c.depth == 1
    ]
    assert depth_one == [
        (g.code, g.name, g.agencies, g.mean_score_percent, g.mean_progress_percent) for g in board.groups
    ]


def test_depth_is_the_longest_way_down_to_a_member():
    agencies = [
        agency("U1", line("T1", "60"), parent="R", parent_name="Cluster R"),
        agency("U2", line("T1", "20"), parent="Q", parent_name="District Q"),
    ]
    hierarchy = {"P": ("Province", None), "Q": ("District Q", "P"), "R": ("Cluster R", "Q")}

    clusters = cluster_tree(compute_board(SPEC, [target()], agencies, MID_YEAR), hierarchy)

    assert [(c.code, c.depth, c.agencies, c.mean_score_percent) for c in clusters] == [
        ("P", 3, 2, D(40)),  # U1 is three steps below the province
        ("Q", 1, 1, D(20)),  # U2, its direct child
        ("Q", 2, 2, D(40)),
        ("R", 1, 1, D(60)),
    ]
    assert [(cluster.code, level) for cluster, level in tree_order(clusters)] == [("P", 0), ("Q", 1), ("R", 2)]
    assert widest(clusters)["Q"].depth == 2


def test_no_clusters_without_parents_and_a_loop_in_the_parents_stops():
    loose = compute_board(SPEC, [target()], [agency("A", line("T1", "60"))], MID_YEAR)
    assert cluster_tree(loose, {}) == ()

    looped = compute_board(SPEC, [target()], [agency("A", line("T1", "60"), parent="P")], MID_YEAR)
    clusters = cluster_tree(looped, {"P": ("P", "Q"), "Q": ("Q", "P")})

    assert [(c.code, c.depth, c.agencies) for c in clusters] == [("P", 1, 1), ("Q", 2, 1)]


def test_tree_order_reads_from_the_top_siblings_by_name():
    clusters = cluster_tree(city_board(), HIERARCHY)

    assert [(cluster.code, cluster.depth, level) for cluster, level in tree_order(clusters)] == [
        ("C", 2, 0),
        ("D", 1, 1),  # "Departments" before "Wards"
        ("W", 1, 1),
    ]


def test_ranks_within_a_cluster_follow_the_rule_of_section_7():
    agencies = [
        agency("A", line("T1", "90"), parent="P"),
        agency("B", line("T1", "80"), parent="Q"),
        agency("C", line("T1", "70"), parent="P"),
        agency("D", line("T1", "70"), parent="Q"),
        agency("E", line("T1", "60"), parent="P"),
    ]
    board = compute_board(SPEC, [target()], agencies, MID_YEAR)
    clusters = cluster_tree(board, {"P": ("P", "R"), "Q": ("Q", "R")})
    by_code = {agency.code: agency for agency in board.agencies}

    city = widest(clusters)["R"]
    members = [by_code[code] for code in city.members]
    assert ranks_within(members) == [1, 2, 3, 3, 5]
    for cluster in clusters:
        if cluster.depth == 1:  # the group rank of section 8, for each group
            members = [by_code[code] for code in cluster.members]
            assert ranks_within(members) == [member.group_rank for member in members]
