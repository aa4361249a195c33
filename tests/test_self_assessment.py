"""Self-assessment (tự chấm điểm) and structured updates on a submission: the agency proposes its
own points (0 to the target's maximum, with a justification) and says what was done, what comes
next and what stands in the way; reviewers and managers read them beside the suggested points;
self-assessed points never count on the scoreboard (docs/registration.md)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from competition.domain import evidence
from competition.domain.scoreboard import get_board
from competition.models import Submission
from tests.test_evidence import world  # noqa: F401  (the same people and lines)
from tests.test_jury import panel, review_url  # noqa: F401

pytestmark = pytest.mark.django_db

ADD = reverse("wagtailsnippets_competition_submission:add")


def form(line, **fields):
    return {
        "line": line.pk,
        "reported_on": "2025-06-30",
        "value": "40",
        "narrative": "From the document system.",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_an_editor_proposes_own_points_and_a_structured_update(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    fields = {
        "self_points": "6",
        "self_justification": "Every ward uses the system since May.",
        "done": "Trained 120 officials.",
        "next_steps": "Connect the last two wards.",
        "obstacles": "Slow network in two wards.",
    }
    assert client.post(ADD, form(world["line_a"], **fields)).status_code == 302
    submission = Submission.objects.get(line=world["line_a"])
    assert (submission.self_points, submission.self_justification) == (Decimal(6), fields["self_justification"])
    assert (submission.done, submission.next_steps, submission.obstacles) == (
        "Trained 120 officials.",
        "Connect the last two wards.",
        "Slow network in two wards.",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"self_points": "11", "self_justification": "Why"}, "between 0 and 10"),
        ({"self_points": "-1", "self_justification": "Why"}, "between 0 and 10"),
        ({"self_points": "5"}, "Say briefly why your agency proposes these points."),
    ],
)
def test_own_points_outside_the_range_or_without_a_reason_are_refused(client, world, fields, message):  # noqa: F811
    client.force_login(world["editor_a"])
    response = client.post(ADD, form(world["line_a"], **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Submission.objects.exists()


def test_the_model_refuses_own_points_above_the_maximum(world):  # noqa: F811
    submission = Submission(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    submission.self_points, submission.self_justification = Decimal("10.5"), "x"
    with pytest.raises(ValidationError) as error:
        submission.full_clean()
    assert "self_points" in error.value.message_dict


def test_reviewers_and_managers_see_the_agencys_points_beside_the_suggested_ones(client, panel):  # noqa: F811
    b = panel["subs"]["b"]
    Submission.objects.filter(pk=b.pk).update(
        self_points=Decimal(8), self_justification="All files online.", done="Went live in June."
    )
    for user in (panel["rev_free"], panel["manager"]):
        client.force_login(user)
        content = client.get(review_url(b)).content.decode()
        # Value 50 of 0 -> 100 on 10 points: 5 suggested; the agency proposes 8.
        assert "The agency's own points" in content
        assert "8 / 10 (+3 against the suggested points)" in content
        assert "All files online." in content and "Went live in June." in content
    a = panel["subs"]["a"]
    client.force_login(panel["rev_free"])
    assert "None proposed." in client.get(review_url(a)).content.decode()


def test_the_suggested_points_are_formatted_for_the_reader(client, panel):  # noqa: F811
    """'5.00' was printed raw; points read like every other figure of the admin: no trailing
    zeros, the reader's decimal separator."""
    from bs4 import BeautifulSoup
    from wagtail.users.models import UserProfile

    b = panel["subs"]["b"]  # 50 of 0 -> 100 on 10 points: 5 suggested
    client.force_login(panel["rev_free"])
    page = BeautifulSoup(client.get(review_url(b)).content, "html.parser")
    suggested = page.find("dt", string="Suggested points").find_next_sibling("dd").get_text(strip=True)
    assert suggested == "5 / 10"
    line = b.line
    line.target_value = Decimal(80)  # 50 on 0 -> 80: 6.25
    line.save()
    profile = UserProfile.get_for_user(panel["rev_free"])
    profile.preferred_language = "vi"
    profile.save()
    page = BeautifulSoup(client.get(review_url(b)).content, "html.parser")
    suggested = page.find("dt", string="Điểm gợi ý").find_next_sibling("dd").get_text(strip=True)
    assert suggested == "6,25 / 10"


def test_self_assessed_points_never_count_on_the_scoreboard(world):  # noqa: F811
    competition = world["competition"]
    for line, editor, own in ((world["line_a"], "editor_a", Decimal(10)), (world["line_b"], "editor_b", None)):
        submission = Submission.objects.create(
            line=line, reported_on=date(2025, 6, 30), value=50, self_points=own, self_justification="x" if own else ""
        )
        evidence.submit(submission, world[editor])
        evidence.decide(submission, world["manager"], "accept")
    board = get_board(competition, date(2025, 12, 31), fresh=True)
    a, b = board.agency("A"), board.agency("B")
    assert a.total_points == b.total_points == Decimal(5)
    assert [line.awarded_points for line in a.lines] == [line.awarded_points for line in b.lines]


def test_the_review_shows_the_agencys_own_target_as_it_is_scored(client, panel):  # noqa: F811
    b = panel["subs"]["b"]
    line = b.line
    line.target_value = Decimal(80)
    line.save()
    client.force_login(panel["rev_free"])
    content = client.get(review_url(b)).content.decode()
    # 50 on 0 -> 80 (the agency's own target) on 10 points: 6.25 suggested.
    assert "baseline 0, target 80" in content
    assert "6.25 / 10" in content


def test_own_points_are_public_only_once_judging_is_closed(client, world):  # noqa: F811
    from competition.domain import judging

    competition = world["competition"]
    submissions = {}
    for key, line, editor, day, own in (
        ("early", world["line_a"], "editor_a", date(2025, 3, 31), Decimal(9)),
        ("read", world["line_a"], "editor_a", date(2025, 6, 30), Decimal("7.5")),
        ("none", world["line_b"], "editor_b", date(2025, 6, 30), None),
    ):
        submission = Submission.objects.create(
            line=line, reported_on=day, value=60, self_points=own, self_justification="x" if own else "", done=key
        )
        evidence.submit(submission, world[editor])
        evidence.decide(submission, world["manager"], "accept")
        submissions[key] = submission
    json_url = f"{competition.url}scoreboard.json?as_of=2025-12-31"
    page_url = world["line_a"].commitment.url

    lines = {a["code"]: a["targets"][0] for a in client.get(json_url).json()["agencies"]}
    assert lines["A"]["self_points"] is None and lines["B"]["self_points"] is None
    assert "Own points" not in client.get(page_url).content.decode()

    judging.close_judging(competition, world["manager"])
    lines = {a["code"]: a["targets"][0] for a in client.get(json_url).json()["agencies"]}
    # The submission the board reads (the latest), not an earlier one; none proposed: null.
    assert (lines["A"]["self_points"], lines["B"]["self_points"]) == (7.5, None)
    assert lines["A"]["awarded_points"] == 6  # 60 % of 10: the own points never count
    content = client.get(page_url).content.decode()
    assert '<th scope="col" role="columnheader">Own points</th>' in content
    assert '<td class="num" role="cell" data-label="Own points">7.5</td>' in content
    # An earlier date reads the earlier submission.
    early = client.get(f"{competition.url}scoreboard.json?as_of=2025-04-30").json()["agencies"]
    assert {a["code"]: a["targets"][0]["self_points"] for a in early}["A"] == 9


def test_the_public_commitment_page_shows_the_structured_update(client, world):  # noqa: F811
    submission = Submission.objects.create(
        line=world["line_a"],
        reported_on=date(2025, 6, 30),
        value=60,
        done="Trained 120 officials.",
        next_steps="Connect the last wards.",
        obstacles="Slow network.",
    )
    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], "accept")
    content = client.get(world["line_a"].commitment.url).content.decode()
    for text in (
        "What was done",
        "Trained 120 officials.",
        "What comes next",
        "Connect the last wards.",
        "What stands in the way",
        "Slow network.",
    ):
        assert text in content


def test_the_review_queue_sorts_by_the_gap_with_a_constant_number_of_queries(
    client,
    panel,  # noqa: F811
    django_assert_max_num_queries,
):
    a, b = panel["subs"]["a"], panel["subs"]["b"]  # both 50 of 0 -> 100 on 10 points: 5 suggested
    Submission.objects.filter(pk=a.pk).update(self_points=Decimal(6), self_justification="x")
    Submission.objects.filter(pk=b.pk).update(self_points=Decimal(1), self_justification="x")
    client.force_login(panel["rev_free"])
    url = reverse("competition_review_queue") + "?sort=gap"
    content = client.get(url).content.decode()
    assert content.index("1 (-4)") < content.index("6 (+1)")  # the largest gap first
    assert "6 (+1)" in client.get(reverse("competition_review_queue")).content.decode()
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    for day in range(1, 20):
        more = Submission.objects.create(line=panel["line_b"], reported_on=date(2025, 1, day), value=day)
        Submission.objects.filter(pk=more.pk).update(self_points=Decimal(2), self_justification="x")
        evidence.submit(more, panel["editor_b"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        content = client.get(url + "&include_earlier=on").content.decode()
    assert content.count("2 (+") == 19
