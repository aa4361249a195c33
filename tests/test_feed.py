"""The data feed API (docs/feeds.md): an agency's system posts values with a feed token. The
same checks as the `values` import, one transaction per request, errors as JSON with row and
column, idempotent on (agency, target, reported_on), rate-limited per token, each value marked
with its source; tokens refused once revoked or expired, or outside their agency and
competition; the board and the audit log after a post."""

import json
import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.signals import task_finished

from competition.domain import feed_tokens, scoreboard
from competition.enums import SubmissionSource, SubmissionStatus
from competition.models import CommitmentLine, CompetitionLogEntry, FeedToken, Submission
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

pytestmark = pytest.mark.django_db

URL = "/api/feed/v1/values"


@pytest.fixture
def world():
    competition = make_competition(slug="comp", accept_feed_values=True)
    t1 = make_target(competition, code="T1")
    t2 = make_target(competition, code="T2", unit="number", target=1000)
    a, b = AgencyFactory(code="A", name="Agency A"), AgencyFactory(code="B", name="Agency B")
    make_commitment(competition, a, [t1, t2])
    make_commitment(competition, b, [t1])
    other = make_competition(slug="other")
    make_commitment(other, a, [make_target(other, code="X1")])
    manager = UserFactory(username="feed_manager", is_superuser=True)
    return {"competition": competition, "other": other, "a": a, "b": b, "manager": manager}


def issue(world, agency="a", competition="competition", expires_on=None, name="Document system"):
    token = FeedToken(
        name=name,
        competition=world[competition],
        agency=world[agency],
        expires_on=expires_on or timezone.localdate() + timedelta(days=30),
    )
    return token, feed_tokens.issue(token, world["manager"])


def post(client, token, values, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(URL, json.dumps({"values": values}), content_type="application/json", **headers, **extra)


ROWS = [
    {"target": "T1", "reported_on": "2025-06-30", "value": 86.5, "note": "From the document system"},
    {"target": "T2", "reported_on": "2025-06-30", "value": "420"},
]


def feed_values():
    return list(
        Submission.objects.filter(source=SubmissionSource.FEED)
        .order_by("line__target__code", "reported_on")
        .values_list("line__commitment__agency__code", "line__target__code", "reported_on", "value", "status")
    )


def test_a_feed_records_accepted_values_marked_as_fed(client, world):
    _token, secret = issue(world)

    response = post(client, secret, ROWS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["competition"], body["agency"]) == ("comp", "A")
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert [(v["row"], v["target"], v["result"], v["status"]) for v in body["values"]] == [
        (1, "T1", "created", "accepted"),
        (2, "T2", "created", "accepted"),
    ]
    assert feed_values() == [
        ("A", "T1", date(2025, 6, 30), Decimal("86.5"), SubmissionStatus.ACCEPTED),
        ("A", "T2", date(2025, 6, 30), Decimal("420"), SubmissionStatus.ACCEPTED),
    ]
    assert Submission.objects.get(pk=body["values"][0]["id"]).narrative == "From the document system"


def test_the_board_counts_fed_values_and_is_rebuilt_in_a_task(
    client, world, settings, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    finished = []

    def note(sender, task_result, **kwargs):
        finished.append((task_result.task.name, task_result.args, task_result.status))

    task_finished.connect(note)
    _token, secret = issue(world)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, secret, ROWS).status_code == 200
    finally:
        task_finished.disconnect(note)

    competition = world["competition"]
    assert ("refresh_competition", [competition.pk], TaskResultStatus.SUCCESSFUL) in finished
    board = scoreboard.get_board(competition, date(2025, 7, 1))
    line = next(line for line in board.agency("A").lines if line.target_code == "T1")
    assert (line.value, line.reported_on) == (Decimal("86.5"), date(2025, 6, 30))
    # The public file says so too.
    data = client.get("/comp/scoreboard.json?as_of=2025-07-01").json()
    agency = next(agency for agency in data["agencies"] if agency["code"] == "A")
    assert next(t for t in agency["targets"] if t["code"] == "T1")["value"] == 86.5


def test_a_replayed_request_changes_nothing(client, world):
    _token, secret = issue(world)
    post(client, secret, ROWS)
    before = list(Submission.objects.values_list("pk", "value", "narrative", "status", "updated_at"))
    entries = CompetitionLogEntry.objects.count()

    response = post(client, secret, ROWS)

    assert response.status_code == 200
    assert (response.json()["created"], response.json()["unchanged"]) == (0, 2)
    assert list(Submission.objects.values_list("pk", "value", "narrative", "status", "updated_at")) == before
    assert CompetitionLogEntry.objects.count() == entries


def test_a_changed_value_updates_the_one_for_that_date(client, world):
    _token, secret = issue(world)
    post(client, secret, ROWS)

    response = post(client, secret, [{**ROWS[0], "value": "90"}])

    assert response.json()["updated"] == 1
    assert feed_values()[0][3] == Decimal("90")
    assert Submission.objects.filter(source=SubmissionSource.FEED).count() == 2


def test_a_refused_row_writes_nothing_and_names_its_row_and_column(client, world):
    _token, secret = issue(world)
    rows = [
        ROWS[0],
        {"target": "T1", "reported_on": "2025-07-31", "value": 130},  # a percentage over 100
        {"target": "T9", "reported_on": "2025-07-31", "value": 1},
        {"target": "T2", "reported_on": "2026-02-01", "value": 5},  # outside the period
    ]

    response = post(client, secret, rows)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "nothing was written" in body["detail"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "value"), (3, "target"), (4, "reported_on")]
    assert "T9" in body["errors"][1]["message"]
    assert not Submission.objects.exists()


def test_the_same_key_twice_in_one_request_is_refused(client, world):
    _token, secret = issue(world)

    response = post(client, secret, [ROWS[0], {**ROWS[0], "value": 80}])

    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "reported_on")]
    assert not Submission.objects.exists()


def test_a_malformed_value_is_a_row_error(client, world):
    _token, secret = issue(world)

    response = post(client, secret, [ROWS[0], {"target": "T1", "reported_on": "2025-07-31", "value": [1]}])

    assert response.status_code == 400
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {(2, "value")}
    unknown = post(client, secret, [{**ROWS[0], "colour": "red"}])
    assert [(e["row"], e["column"]) for e in unknown.json()["errors"]] == [(1, "colour")]
    assert not Submission.objects.exists()


def test_a_value_with_a_huge_exponent_is_a_row_error(client, world):
    """ "1e1000000" (a typo, a unit mix-up): the row's value is too large, not a server error."""
    _token, secret = issue(world)

    response = post(client, secret, [{"target": "T1", "reported_on": "2025-06-30", "value": "1e1000000"}])

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(1, "value")]
    assert "too large" in errors[0]["message"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("field", ["note", "target"])
def test_text_holding_a_lone_surrogate_is_a_row_error(client, world, field):
    """JSON may escape a lone UTF-16 surrogate ("\\ud800", what a system that cuts text inside an
    emoji sends): no database can store it, so the row and column are named, never a 500."""
    _token, secret = issue(world)
    value = {"target": "T1", "reported_on": "2025-06-30", "value": 50, "note": "Counted"}
    value[field] += "\ud800"

    response = post(client, secret, [value])

    assert response.status_code == 400, response.content
    assert (1, field) in {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert not Submission.objects.exists()


def test_a_body_that_is_not_json_is_refused(client, world):
    _token, secret = issue(world)

    response = client.post(URL, "{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 400
    assert response.json()["code"] == "unreadable"


def test_another_agencys_line_is_refused(client, world):
    _token, secret = issue(world)

    response = post(client, secret, [ROWS[0], {"agency": "B", "target": "T1", "reported_on": "2025-06-30", "value": 5}])

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (2, "agency")
    assert "'A'" in error["message"] and "'B'" in error["message"]
    assert not Submission.objects.exists()


def test_another_competition_is_refused(client, world):
    _token, secret = issue(world)

    response = post(client, secret, [{"competition": "other", "target": "X1", "reported_on": "2025-06-30", "value": 5}])

    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(1, "competition")]
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("revoked", "token_revoked"),
        ("expired", "token_expired"),
        ("unknown", "token_invalid"),
        ("none", "token_missing"),
    ],
)
def test_a_token_that_is_not_usable_is_refused(client, world, state, code):
    token, secret = issue(world)
    if state == "revoked":
        feed_tokens.revoke(token, world["manager"])
    elif state == "expired":
        FeedToken.objects.filter(pk=token.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    elif state == "unknown":
        secret = secret[:-4] + "AAAA"
    elif state == "none":
        secret = None

    response = post(client, secret, ROWS)

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_token_valid_until_today_is_accepted(client, world):
    _token, secret = issue(world, expires_on=timezone.localdate())

    assert post(client, secret, ROWS[:1]).status_code == 200


def test_a_session_is_no_token(client, world):
    client.force_login(world["manager"])

    response = post(client, None, ROWS)

    assert response.status_code == 401
    assert not Submission.objects.exists()


def test_values_wait_for_a_manager_when_the_competition_says_so(client, world):
    world["competition"].accept_feed_values = False
    world["competition"].save()
    _token, secret = issue(world)

    first = post(client, secret, ROWS)
    replay = post(client, secret, ROWS)
    changed = post(client, secret, [{**ROWS[0], "value": 87}])

    assert [v["status"] for v in first.json()["values"]] == ["submitted", "submitted"]
    assert (replay.json()["unchanged"], changed.json()["updated"]) == (2, 1)
    assert feed_values() == [
        ("A", "T1", date(2025, 6, 30), Decimal("87"), SubmissionStatus.SUBMITTED),
        ("A", "T2", date(2025, 6, 30), Decimal("420"), SubmissionStatus.SUBMITTED),
    ]
    # Nothing counts until a manager accepts it.
    board = scoreboard.get_board(world["competition"], date(2025, 7, 1))
    assert all(line.value is None for line in board.agency("A").lines)


def test_a_value_a_manager_decided_on_is_not_sent_for_review_again(client, world):
    from competition.domain import evidence

    world["competition"].accept_feed_values = False
    world["competition"].save()
    _token, secret = issue(world)
    first = post(client, secret, ROWS[:1]).json()
    evidence.decide(Submission.objects.get(pk=first["values"][0]["id"]), world["manager"], "reject", "Wrong scope")

    replay = post(client, secret, ROWS[:1])

    assert replay.json()["unchanged"] == 1
    assert Submission.objects.count() == 1


def test_judging_closed_refuses_new_values(client, world):
    _token, secret = issue(world)
    post(client, secret, ROWS[:1])
    world["competition"].closed = True
    world["competition"].save()

    replay = post(client, secret, ROWS[:1])
    new = post(client, secret, ROWS[1:])

    assert replay.status_code == 200 and replay.json()["unchanged"] == 1
    assert new.status_code == 400
    assert [(e["row"], e["column"]) for e in new.json()["errors"]] == [(1, "competition")]
    assert Submission.objects.count() == 1


def test_too_many_values_in_one_request(client, world, settings):
    settings.COMPETITION_FEED_MAX_VALUES = 1
    _token, secret = issue(world)

    response = post(client, secret, ROWS)

    assert response.status_code == 400
    assert response.json()["code"] == "too_many_values"


def test_requests_are_limited_per_token(client, world, settings):
    settings.COMPETITION_FEED_RATE = "2/m"
    _token, secret = issue(world)
    _other, other_secret = issue(world, agency="b", name="Ward system")

    answers = [post(client, secret, ROWS[:1]).status_code for _ in range(3)]
    refused = post(client, secret, ROWS[:1])

    assert answers == [200, 200, 429]
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 60
    # Another token has its own allowance.
    assert post(client, other_secret, [{"target": "T1", "reported_on": "2025-06-30", "value": 1}]).status_code == 200


def test_the_audit_log_records_the_token_never_its_secret(client, world, caplog):
    token, secret = issue(world)
    caplog.set_level(logging.DEBUG)
    post(client, secret, ROWS)
    post(client, secret, [{**ROWS[0], "value": 91}])
    post(client, f"{secret}x", ROWS)
    feed_tokens.revoke(token, world["manager"])
    post(client, secret, ROWS)

    entries = CompetitionLogEntry.objects.all()
    actions = sorted(entries.values_list("action", flat=True))
    assert actions.count("competition.feed_value") == 3  # two created, one updated
    assert "competition.feed_token_issue" in actions and "competition.feed_token_revoke" in actions
    fed = entries.filter(action="competition.feed_value").first()
    assert fed.data["token"] == str(token) and fed.data["source"] == "feed"
    issued = entries.get(action="competition.feed_token_issue")
    assert issued.user == world["manager"] and issued.data["agency"] == "A"
    every_entry = json.dumps(list(entries.values("label", "data")), default=str)
    assert secret not in every_entry and secret[len(token.prefix) :] not in every_entry
    assert secret not in caplog.text
    assert not FeedToken.objects.filter(key_hash__contains=secret).exists()
    assert token.prefix == secret[: len(token.prefix)] and len(token.prefix) < len(secret) / 2


def test_the_openapi_schema_is_served(client):
    response = client.get(reverse("competition:competition_feed:openapi-json"))

    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/feed/v1/values"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "429"}
    assert schema["components"]["securitySchemes"]["FeedTokenAuth"]["scheme"] == "bearer"


def test_the_query_count_of_a_post_does_not_grow_with_its_rows(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    competition = world["competition"]
    targets = [make_target(competition, code=f"N{i}", unit="number", target=100) for i in range(12)]
    world["n"] = AgencyFactory(code="N")
    make_commitment(competition, world["n"], targets)
    _token, secret_n = issue(world, agency="n")

    def rows(count, day):
        return [{"target": f"N{i}", "reported_on": day, "value": i} for i in range(count)]

    counts = []
    for count, day in ((2, "2025-03-31"), (12, "2025-04-30")):
        with CaptureQueriesContext(connection) as queries:
            assert post(client, secret_n, rows(count, day)).json()["created"] == count
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as replay:
        assert post(client, secret_n, rows(12, "2025-04-30")).json()["unchanged"] == 12

    assert counts[0] == counts[1], counts
    assert len(replay) <= counts[1]


# --- The admin's token screens -------------------------------------------------------------------


def token_url(name, *args):
    return reverse(f"wagtailsnippets_competition_feedtoken:{name}", args=args)


def test_a_manager_issues_a_token_that_is_shown_once(client, world):
    client.force_login(world["manager"])
    data = {
        "name": "Document system",
        "competition": world["competition"].pk,
        "agency": world["a"].pk,
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
    }

    response = client.post(token_url("add"), data)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = FeedToken.objects.get()
    secret = response.context["token"]
    assert secret in response.content.decode()
    assert feed_tokens.authenticate(secret) == token
    assert (token.created_by, token.agency, token.competition) == (world["manager"], world["a"], world["competition"])
    for url in (token_url("list"), token_url("edit", token.pk), token_url("history", token.pk)):
        page = client.get(url).content.decode()
        assert secret not in page and token.prefix in page
    assert post(client, secret, ROWS[:1]).status_code == 200


def test_a_token_for_an_agency_without_a_commitment_or_already_expired_is_refused(client, world):
    client.force_login(world["manager"])
    outsider = AgencyFactory(code="Z")

    response = client.post(
        token_url("add"),
        {
            "name": "X",
            "competition": world["competition"].pk,
            "agency": outsider.pk,
            "expires_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"agency", "expires_on"}
    assert not FeedToken.objects.exists()


def test_an_issued_tokens_agency_and_competition_never_change(client, world):
    token, _secret = issue(world)
    client.force_login(world["manager"])

    client.post(
        token_url("edit", token.pk),
        {"name": "Renamed", "competition": world["other"].pk, "agency": world["b"].pk, "expires_on": "2030-01-01"},
    )

    token.refresh_from_db()
    assert (token.name, token.expires_on) == ("Renamed", date(2030, 1, 1))
    assert (token.competition, token.agency) == (world["competition"], world["a"])


def test_revoking_keeps_the_token_listed_and_refuses_it(client, world):
    token, secret = issue(world)
    client.force_login(world["manager"])

    assert "revoke" in client.get(token_url("delete", token.pk)).content.decode().lower()
    client.post(token_url("delete", token.pk))

    token.refresh_from_db()
    assert token.revoked_by == world["manager"] and token.state == "revoked"
    assert post(client, secret, ROWS).status_code == 401
    client.post(token_url("delete", token.pk))  # again: nothing more happens
    assert CompetitionLogEntry.objects.filter(action="competition.feed_token_revoke").count() == 1


def test_the_listings_bulk_action_revokes_and_never_deletes(client, world):
    tokens = [issue(world)[0], issue(world, agency="b")[0]]
    client.force_login(world["manager"])
    url = reverse("wagtail_bulk_action", args=("competition", "feedtoken", "delete"))
    query = "&".join(f"id={token.pk}" for token in tokens)

    assert "Revoke" in client.get(f"{url}?{query}").content.decode()
    client.post(f"{url}?{query}")

    assert [token.state for token in FeedToken.objects.all()] == ["revoked", "revoked"]


def test_the_commitment_page_says_which_values_were_measured_automatically(client, world):
    from tests.factories import make_submission

    _token, secret = issue(world)
    post(client, secret, ROWS[:1])
    line = CommitmentLine.objects.get(commitment__agency=world["a"], target__code="T2")
    make_submission(line, 300, date(2025, 6, 30))

    page = client.get("/comp/agency-a/?as_of=2025-07-01").content.decode()

    assert page.count("measured automatically") == 2  # the table's T1 and its evidence
    assert "<dt>Rank</dt><dd>1</dd>" in page  # the agency's own figures are still there
    assert "reported" in page
    submission = Submission.objects.get(source=SubmissionSource.FEED)
    client.force_login(world["manager"])
    listing = client.get(reverse("wagtailsnippets_competition_submission:list") + "?source=feed").content.decode()
    assert "Data feed" in listing
    inspect = client.get(reverse("wagtailsnippets_competition_submission:inspect", args=[submission.pk]))
    assert "Data feed" in inspect.content.decode()


def test_errors_follow_the_callers_language(client, world):
    token, secret = issue(world)

    refused = post(
        client, secret, [{"target": "T9", "reported_on": "2025-06-30", "value": 1}], HTTP_ACCEPT_LANGUAGE="vi"
    )
    feed_tokens.revoke(token, world["manager"])
    revoked = post(client, secret, ROWS, HTTP_ACCEPT_LANGUAGE="vi")

    assert refused.json()["detail"] == "Yêu cầu bị từ chối: không ghi gì cả."
    assert revoked.json()["detail"].startswith("Mã truy cập này đã bị thu hồi")
