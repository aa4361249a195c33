"""One group's or one agency's part of the scoreboard (`scoreboard.json?group=CODE`,
`?agency=CODE`, docs/opendata.md): the same figures as the whole file, a clear error for a code
that is not on the board, kept by the page cache like the whole file and renewed with it."""

import csv
import io
from datetime import date

import pytest

from competition.models import Agency, CommitmentLine
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db

BASE = "/comp/scoreboard"


@pytest.fixture
def clustered(db):
    """Agencies A1, A2 under parent P, B1 under Q, C without a parent."""
    competition = make_competition(slug="comp")
    targets = [make_target(competition, code="T1"), make_target(competition, code="T2", max_points=20)]
    parents = {code: AgencyFactory(code=code, name=f"Cluster {code}") for code in ("P", "Q")}
    for code, parent, value in (("A1", "P", 80), ("A2", "P", 30), ("B1", "Q", 55), ("C", None, 10)):
        make_commitment(competition, AgencyFactory(code=code, parent=parents.get(parent)), targets)
        line = CommitmentLine.objects.get(commitment__agency__code=code, target__code="T1")
        make_submission(line, value, date(2025, 6, 30))
    return competition


def test_a_group_is_its_agencies_and_its_group_figures(clustered, client):
    whole = client.get(f"{BASE}.json?as_of=2025-07-01").json()

    response = client.get(f"{BASE}.json?as_of=2025-07-01&group=P")

    assert response.status_code == 200
    data = response.json()
    assert [agency["code"] for agency in data["agencies"]] == ["A1", "A2"]
    # The same figures as in the whole file: ranks among every agency, the group's own means.
    assert data["agencies"] == [agency for agency in whole["agencies"] if agency["parent_code"] == "P"]
    assert data["groups"] == [group for group in whole["groups"] if group["code"] == "P"]
    assert (data["competition"], data["targets"]) == (whole["competition"], whole["targets"])


def test_an_agency_is_its_figures_and_its_group(clustered, client):
    whole = client.get(f"{BASE}.json").json()

    data = client.get(f"{BASE}.json?agency=B1").json()

    assert data["agencies"] == [agency for agency in whole["agencies"] if agency["code"] == "B1"]
    assert [group["code"] for group in data["groups"]] == ["Q"]
    assert client.get(f"{BASE}.json?agency=C").json()["groups"] == []  # no parent, no group


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("group=NOPE", "No group with the code 'NOPE' takes part in this scoreboard."),
        ("group=A1", "No group with the code 'A1' takes part in this scoreboard."),  # an agency, not a group
        ("agency=NOPE", "No agency with the code 'NOPE' takes part in this scoreboard."),
        ("agency=P", "No agency with the code 'P' takes part in this scoreboard."),  # a parent only
    ],
)
def test_a_code_not_on_the_board_is_a_json_404(clustered, client, query, message):
    response = client.get(f"{BASE}.json?{query}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": message}


@pytest.mark.parametrize("query", ["group=P&agency=A1", "group=P&group=Q", "agency=A1&agency=A2"])
def test_more_than_one_code_is_a_json_400(clustered, client, query):
    response = client.get(f"{BASE}.json?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": "Ask for one group or one agency at a time."}


def test_the_csv_and_xlsx_are_sliced_too(clustered, client):
    response = client.get(f"{BASE}.csv?as_of=2025-07-01&group=P")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["agency_code"] for row in rows} == {"A1", "A2"}
    assert len(rows) == 4  # two agencies, two targets each
    assert 'filename="comp-scoreboard-P-2025-07-01.csv"' in response["Content-Disposition"]
    assert client.get(f"{BASE}.xlsx?agency=A1").status_code == 200
    assert client.get(f"{BASE}.xlsx?agency=ZZ").status_code == 404


def test_the_file_has_no_space_after_its_separators(clustered, client):
    content = client.get(f"{BASE}.json").content.decode()

    assert ", " not in content.replace("Cluster P", "").replace("Cluster Q", "")
    assert '": ' not in content and '"code":"A1"' in content


@pytest.fixture
def cached(settings):
    from competition import middleware

    settings.COMPETITION_RESPONSE_CACHE = True
    settings.COMPETITION_REBUILD_BOARDS = ""
    middleware.forget_in_process()
    yield settings
    middleware.forget_in_process()


def test_a_slice_is_kept_and_renewed_like_the_whole_file(
    cached, clustered, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    url = f"{BASE}.json?as_of=2025-07-01&group=P"
    client.get(url)  # teaches the cache the URL's competition
    assert client.get(url)["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get(url)["X-Cache"] == "hit"
    # Another slice, or another spelling of one, is another copy (or none).
    assert client.get(f"{BASE}.json?as_of=2025-07-01&group=Q")["X-Cache"] == "miss"
    assert client.get(f"{BASE}.json?as_of=2025-07-01&group=P&group=P").status_code == 400

    line = CommitmentLine.objects.get(commitment__agency__code="A2", target__code="T1")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 95, date(2025, 7, 1))

    response = client.get(url)
    assert response["X-Cache"] == "miss"
    assert [agency["code"] for agency in response.json()["agencies"]] == ["A2", "A1"]
    assert client.get(url)["X-Cache"] == "hit"


def test_an_unknown_code_is_never_kept(cached, clustered, client):
    url = f"{BASE}.json?group=NOPE"
    for _attempt in range(3):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get("X-Cache") != "hit"
    assert Agency.objects.filter(code="NOPE").count() == 0


# The parts of the file kept beside the board (competition.domain.slices): a slice reads its own.


def cut_from_board(competition, query):
    """The slice as the view cut it from the whole board before its parts were kept: the
    reference its bytes must equal."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder
    from django.http import QueryDict

    from competition.domain.clusters import clusters_of
    from competition.domain.opendata import board_json, board_slice
    from competition.domain.scoreboard import get_board
    from competition.domain.selfassessment import self_points_of

    board = get_board(competition, date(2025, 7, 1))
    part, agencies, groups = board_slice(board, QueryDict(query))
    clusters = clusters_of(board)
    if part:
        codes = {agency.code for agency in agencies}
        clusters = [cluster for cluster in clusters if codes.intersection(cluster.members)]
    data = board_json(board, self_points_of(competition, board), clusters, agencies=agencies, groups=groups)
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture
def nested(db):
    """R above P and Q; A1, A2 under P, B1 under Q, D right under R (so R is a group and a
    roll-up of every agency below it), E under R with F under E (an agency that is a group too),
    C without a parent."""
    competition = make_competition(slug="comp")
    targets = [make_target(competition, code="T1"), make_target(competition, code="T2", max_points=20)]
    top = AgencyFactory(code="R", name="Thành phố R")
    parents = {"R": top, **{code: AgencyFactory(code=code, name=f"Cụm {code}", parent=top) for code in ("P", "Q")}}
    values = (("A1", "P", 80), ("A2", "P", 30), ("B1", "Q", 55), ("D", "R", 70), ("E", "R", 55), ("C", None, 10))
    for code, parent, value in (*values, ("F", "E", 40)):
        agency = AgencyFactory(code=code, name=f"Đơn vị {code}", parent=parents.get(parent))
        parents[code] = agency
        make_commitment(competition, agency, targets)
        line = CommitmentLine.objects.get(commitment__agency__code=code, target__code="T1")
        make_submission(line, value, date(2025, 6, 30), self_points=3)
    return competition


@pytest.fixture
def reads(monkeypatch):
    """Every call that reads the cache of boards, as (method, keys); the gets a `get_many` makes
    of its own (the local-memory cache's) are not counted apart."""
    from competition.domain.scoreboard import board_cache

    cache, calls, inside = board_cache(), [], []
    get, get_many = cache.get, cache.get_many

    def counted_get(key, *args, **kwargs):
        if not inside:
            calls.append(("get", [key]))
        return get(key, *args, **kwargs)

    def counted_get_many(keys, *args, **kwargs):
        calls.append(("get_many", list(keys)))
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(cache, "get", counted_get)
    monkeypatch.setattr(cache, "get_many", counted_get_many)
    return calls


SLICES = ["group=P", "group=Q", "group=R", "group=E", "agency=A1", "agency=D", "agency=E", "agency=F", "agency=C"]


@pytest.mark.parametrize("closed", [False, True])
def test_every_slice_joined_from_its_parts_is_the_cut_of_the_board_byte_for_byte(nested, client, closed):
    from competition.domain import judging

    if closed:  # the agencies' own points are public
        judging.close_judging(nested)
    client.get(f"{BASE}.json?as_of=2025-07-01")  # keeps the board and its parts
    for query in SLICES:
        response = client.get(f"{BASE}.json?as_of=2025-07-01&{query}")
        assert response.content == cut_from_board(nested, query), query
    whole = client.get(f"{BASE}.json?as_of=2025-07-01").content
    assert whole == cut_from_board(nested, "")
    assert (b'"self_points":3' in whole) is closed
    # A slice lists the clusters that hold its agencies, at every level: F is in E and in R.
    clusters = client.get(f"{BASE}.json?as_of=2025-07-01&agency=F").json()["clusters"]
    assert [(cluster["code"], cluster["depth"]) for cluster in clusters] == [("E", 1), ("R", 2)]


def test_a_slice_reads_its_own_parts_not_the_board(nested, client, reads, django_assert_num_queries):
    from competition.domain.scoreboard import board_key

    day = date(2025, 7, 1)
    client.get(f"{BASE}.json?as_of=2025-07-01&agency=C")  # the first slice cuts the board, keeps the parts
    board = board_key(nested, day)
    assert any(board in keys for _method, keys in reads)
    reads.clear()

    # No query: the competition page's place is remembered from the first slice (slices.routes).
    with django_assert_num_queries(0):
        agency = client.get(f"{BASE}.json?as_of=2025-07-01&agency=A1")
    # One round trip: the version, the agency's part and the whole board's texts (a slice serves
    # nothing stale, so it does not read the floor).
    assert [(method, len(keys)) for method, keys in reads] == [("get_many", 3)]
    reads.clear()
    group = client.get(f"{BASE}.json?as_of=2025-07-01&group=P")
    # A group's slice: a second round trip for its agencies' parts.
    assert [(method, len(keys)) for method, keys in reads] == [("get_many", 3), ("get_many", 2)]
    assert not any(board in keys for _method, keys in reads)
    assert (agency.content, group.content) == (cut_from_board(nested, "agency=A1"), cut_from_board(nested, "group=P"))


def test_the_parts_are_stale_exactly_when_the_board_is(nested, client, django_capture_on_commit_callbacks):
    from competition.domain.scoreboard import board_key, cache_entries
    from competition.domain.slices import part_key, parts_key

    base = parts_key(nested, date(2025, 7, 1))
    keys = [board_key(nested, date(2025, 7, 1)), base, part_key(base, "group", "P"), part_key(base, "agency", "A1")]

    def fresh():
        version, _floor, found = cache_entries(nested.pk, keys)
        return [key in found and found[key][0] == version for key in keys]

    url = f"{BASE}.json?as_of=2025-07-01&group=P"
    client.get(url)
    assert fresh() == [True] * 4
    line = CommitmentLine.objects.get(commitment__agency__code="A2", target__code="T1")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 95, date(2025, 7, 1))
    assert fresh() == [False] * 4

    response = client.get(url)

    assert [agency["code"] for agency in response.json()["agencies"]] == ["A2", "A1"]
    assert fresh() == [True] * 4
    assert response.content == cut_from_board(nested, "group=P")


def test_the_background_rebuild_keeps_the_parts(nested, client, settings, reads, django_capture_on_commit_callbacks):
    from competition.domain.scoreboard import board_key, resolve_as_of

    settings.COMPETITION_REBUILD_BOARDS = "inline"
    line = CommitmentLine.objects.get(commitment__agency__code="B1", target__code="T2")
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line, 20, date(2025, 7, 1))
    reads.clear()

    data = client.get(f"{BASE}.json?agency=B1").json()  # today's board, clamped into the period

    board = board_key(nested, resolve_as_of(nested))
    assert not any(board in keys for _method, keys in reads)
    assert data["agencies"][0]["targets"][1]["value"] == 20


def test_a_slice_whose_part_is_missing_is_cut_from_the_board(nested, client, reads):
    from competition.domain.scoreboard import board_cache, board_key
    from competition.domain.slices import part_key, parts_key

    url = f"{BASE}.json?as_of=2025-07-01&group=P"
    client.get(url)
    base = parts_key(nested, date(2025, 7, 1))
    board_cache().delete(part_key(base, "agency", "A2"))  # evicted, say
    reads.clear()

    response = client.get(url)

    assert any(board_key(nested, date(2025, 7, 1)) in keys for _method, keys in reads)
    assert response.content == cut_from_board(nested, "group=P")
    assert board_cache().get(part_key(base, "agency", "A2")) is not None  # kept again
    # A code not on the board is still one, parts kept or not.
    assert client.get(f"{BASE}.json?as_of=2025-07-01&agency=R").status_code == 404
    assert client.get(f"{BASE}.json?as_of=2025-07-01&group=A1").status_code == 404


def test_parts_cut_from_a_board_served_stale_are_not_kept(nested, client):
    from competition.domain.scoreboard import board_cache, board_key, cache_state, invalidate
    from competition.domain.slices import part_key, parts_key

    url = f"{BASE}.json?as_of=2025-07-01&agency=A1"
    client.get(url)
    invalidate(nested.pk)
    key = board_key(nested, date(2025, 7, 1))
    board_cache().add(f"{key}:computing", 1)  # another process is computing the board
    try:
        response = client.get(url)  # served from the stale board meanwhile
    finally:
        board_cache().delete(f"{key}:computing")

    assert response.status_code == 200
    base = parts_key(nested, date(2025, 7, 1))
    version, _floor, entry = cache_state(nested.pk, part_key(base, "agency", "A1"))
    assert entry[0] < version


# Where the competition page is, remembered by the process (slices.routes): a kept slice needs no
# query, and the page's place is never used once the competition has changed.

SLICE = f"{BASE}.json?as_of=2025-07-01&agency=A1"


def kept_slice_queries(client, django_assert_num_queries, url=SLICE):
    """The response of `url` asked twice more after a first time, the second without a query."""
    client.get(url)  # finds the page, cuts the board, keeps its parts, remembers the page
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response.status_code == 200
    return response


def test_a_kept_slice_of_today_and_of_a_group_costs_no_query(nested, client, django_assert_num_queries):
    for url in (f"{BASE}.json?agency=A1", f"{BASE}.json?as_of=2025-07-01&group=P", SLICE):
        response = kept_slice_queries(client, django_assert_num_queries, url)
    assert response.content == cut_from_board(nested, "agency=A1")
    # Errors are still the view's own, found with the page.
    assert client.get(f"{SLICE}&group=P").status_code == 400
    assert client.get(f"{BASE}.json?as_of=2025-07-32&agency=A1").status_code == 400
    assert client.get(f"{BASE}.json?as_of=2025-07-01&agency=NOPE").status_code == 404


@pytest.mark.parametrize("change", ["unpublish", "restrict", "restrict a parent", "move"])
def test_a_slice_is_never_served_for_a_page_no_longer_public_there(
    nested, client, change, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from wagtail.models import PageViewRestriction

    from competition.models import CompetitionPage

    kept_slice_queries(client, django_assert_num_queries)
    page = CompetitionPage.objects.get(pk=nested.pk)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "unpublish":
            page.unpublish()
        elif change == "restrict":
            PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        elif change == "restrict a parent":
            PageViewRestriction.objects.create(page=page.get_parent(), restriction_type=PageViewRestriction.LOGIN)
        else:
            page.slug = "renamed"
            page.save_revision().publish()

    assert client.get(SLICE).status_code == 404
    assert client.get(SLICE).status_code == 404
    if change == "move":
        assert client.get(SLICE.replace("/comp/", "/renamed/")).content == cut_from_board(nested, "agency=A1")


def test_a_site_changed_forgets_the_places_of_its_pages(
    nested, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from wagtail.models import Site

    kept_slice_queries(client, django_assert_num_queries)
    site = Site.objects.get(is_default_site=True)
    with django_capture_on_commit_callbacks(execute=True):
        site.root_page = nested  # the competition page becomes the site's root: "/comp/" is gone
        site.save()

    assert client.get(SLICE).status_code == 404


def test_a_new_period_or_judging_state_is_read_again(
    nested, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from competition.domain import judging

    kept_slice_queries(client, django_assert_num_queries, f"{BASE}.json?agency=A1")  # today, clamped
    with django_capture_on_commit_callbacks(execute=True):
        nested.end_date = date(2025, 7, 1)
        nested.save_revision().publish()
    assert client.get(f"{BASE}.json?agency=A1").content == cut_from_board(nested, "agency=A1")
    with django_capture_on_commit_callbacks(execute=True):
        judging.close_judging(nested)
    closed = kept_slice_queries(client, django_assert_num_queries, f"{BASE}.json?agency=A1")
    assert closed.content == cut_from_board(nested, "agency=A1")
    assert b'"self_points":3' in closed.content


def test_a_place_remembered_under_an_older_version_is_not_used(nested, client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from competition.domain import slices
    from competition.domain.scoreboard import invalidate

    slices.routes.clear()  # of the other tests
    kept_slice_queries(client, django_assert_num_queries)
    ((version, _route),) = slices.routes.values()
    invalidate(nested.pk)  # a change committed, whatever it was
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SLICE).content == cut_from_board(nested, "agency=A1")
    assert any("wagtailcore_site" in query["sql"] for query in queries.captured_queries)  # found again
    ((again, _route),) = slices.routes.values()
    assert again > version
