"""How a competition ends (docs/results.md): closing judging publishes an official result that
later changes to the data never alter, refuses every write that would, can be reopened only with
a reason and before a commendation decision; awards are proposed from the result by the rules,
changed by managers with reasons, and granted by a recorded decision."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.models import GroupPagePermission, PageLogEntry

from competition import scoring
from competition.domain import commendations, evidence, judging, jury, scoreboard
from competition.enums import SubmissionStatus
from competition.models import (
    Adjustment,
    Award,
    AwardBasis,
    AwardRule,
    CommendationDecision,
    CommitmentLine,
    OfficialResult,
    Submission,
    TargetPage,
)
from tests.factories import (
    AgencyFactory,
    UserFactory,
    make_commitment,
    make_competition,
    make_score,
    make_submission,
    make_target,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
END = date(2025, 12, 31)


@pytest.fixture
def contest(db):
    """Six agencies in two clusters on one target (0 -> 100, 10 points), reported on 30 June:
    E1 90, E2 80, E3 80 (tied with E2), W1 70, W2 60, W3 50. Award rules: a flag for the best,
    a certificate for the best of each cluster, a letter of praise for tier Fair and above."""
    competition = make_competition(slug="contest", title="Contest 2025")
    target = make_target(competition, code="T1", max_points=10)
    east, west = AgencyFactory(code="EAST", name="East"), AgencyFactory(code="WEST", name="West")
    values = {"E1": 90, "E2": 80, "E3": 80, "W1": 70, "W2": 60, "W3": 50}
    for code, value in values.items():
        agency = AgencyFactory(code=code, name=f"Agency {code}", parent=east if code[0] == "E" else west)
        make_commitment(competition, agency, [target])
        line = CommitmentLine.objects.get(commitment__agency=agency)
        make_submission(line, value, date(2025, 6, 30))
    AwardRule.objects.bulk_create(
        [
            AwardRule(page=competition, sort_order=0, name="Cờ thi đua", basis=AwardBasis.RANK, rank=1),
            AwardRule(page=competition, sort_order=1, name="Bằng khen", basis=AwardBasis.CLUSTER_RANK, rank=1),
            AwardRule(page=competition, sort_order=2, name="Giấy khen", basis=AwardBasis.TIER, tier="Fair", limit=1),
        ]
    )
    return competition


@pytest.fixture
def boss(contest):
    user = UserFactory(username="contest.boss")
    group = Group.objects.create(name="Contest managers")
    group.permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "add_adjustment", "change_adjustment"])
    )
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group, page=contest, permission=Permission.objects.get(codename=codename)
        )
    user.groups.add(group)
    return user


def awards(contest):
    return [
        (award.name, award.agency.code, award.removed)
        for award in commendations.awards_of(contest).select_related("agency")
    ]


# The proposal, on plain data.


def board_of(*agencies):
    spec = scoring.CompetitionSpec(slug="c", title="C", start=date(2025, 1, 1), end=END, closed=True)
    targets = [scoring.TargetSpec("T1", "T", "percent", "higher", Decimal(0), Decimal(100), Decimal(10))]
    inputs = [
        scoring.AgencyInput(
            code=code,
            name=code,
            parent_code=parent,
            lines=(scoring.LineInput("T1", reading=scoring.Reading(Decimal(value), date(2025, 6, 30))),),
        )
        for code, parent, value in agencies
    ]
    return scoring.compute_board(spec, targets, inputs, END)


DEFAULT_TIERS = [("Excellent", 90), ("Good", 75), ("Fair", 50), ("Below target", 0)]


def rule(name, basis, rank=None, tier="", limit=None):
    return AwardRule(name=name, basis=basis, rank=rank, tier=tier, limit=limit)


def test_each_agency_receives_the_first_award_it_qualifies_for():
    board = board_of(("A", "P", 95), ("B", "P", 85), ("C", "Q", 80), ("D", "Q", 40))
    rules = [rule("Flag", "rank", 1), rule("Cluster", "cluster_rank", 1), rule("Letter", "tier", tier="Good")]

    proposal = commendations.propose(rules, board, DEFAULT_TIERS)

    assert [(r.name, a.code, over) for _position, r, a, over in proposal] == [
        ("Flag", "A", False),
        ("Cluster", "C", False),  # A, first of P, already has the flag
        ("Letter", "B", False),  # Good (85); C is awarded already; D (40) is below Good
    ]


def test_a_limit_takes_the_best_ranked_and_proposes_agencies_tied_at_it():
    board = board_of(("A", None, 90), ("B", None, 80), ("C", None, 80), ("D", None, 70))

    proposal = commendations.propose([rule("Letter", "tier", tier="Fair", limit=2)], board, DEFAULT_TIERS)

    assert [(a.code, over) for _position, _rule, a, over in proposal] == [("A", False), ("B", False), ("C", True)]


def test_agencies_without_a_cluster_never_qualify_by_cluster_rank():
    board = board_of(("A", None, 90), ("B", "P", 60))

    proposal = commendations.propose([rule("Cluster", "cluster_rank", 1)], board, DEFAULT_TIERS)

    assert [a.code for _position, _rule, a, _over in proposal] == ["B"]


# Closing publishes an official result.


def test_closing_publishes_the_board_of_the_end_and_proposes_awards(contest, boss):
    judging.close_judging(contest, boss)

    result = OfficialResult.objects.get(competition=contest)
    board = result.scoreboard()
    assert (result.as_of, result.published_by, board.with_jury) == (END, boss, True)
    assert [agency.code for agency in board.agencies] == ["E1", "E2", "E3", "W1", "W2", "W3"]
    assert awards(contest) == [
        ("Cờ thi đua", "E1", False),
        ("Bằng khen", "W1", False),
        ("Giấy khen", "E2", False),
        ("Giấy khen", "E3", False),
    ]


def test_a_published_board_does_not_change_when_data_changes_later(contest, boss, client):
    judging.close_judging(contest, boss)
    published = client.get("/contest/scoreboard.json").json()

    # Data changed behind the application's back (no screen or import allows it now).
    TargetPage.objects.filter(competition=contest).update(max_points=20)
    Submission.objects.filter(line__commitment__agency__code="W3").update(value=100)
    scoreboard.invalidate(contest.pk)

    again = client.get("/contest/scoreboard.json").json()
    earlier_day = client.get("/contest/scoreboard.json?as_of=2025-12-30").json()
    assert again == published
    assert again["agencies"][0]["code"] == "E1"
    assert earlier_day["agencies"][0]["code"] == "W3"  # other dates are computed, with the change


def test_the_public_page_says_official_results_and_when_they_were_published(contest, boss, client):
    judging.close_judging(contest, boss)

    end = client.get("/contest/").content.decode()
    earlier = client.get("/contest/?as_of=2025-09-30").content.decode()

    assert "Official results, published on" in end
    assert "Results with the jury&#x27;s points." in earlier or "Results with the jury's points." in earlier


# Writes refused once the results are published.


def test_writes_to_a_closed_competition_are_refused_everywhere(contest, boss, import_file):
    line = CommitmentLine.objects.get(commitment__agency__code="W3")
    submitted = make_submission(line, 55, date(2025, 9, 30), status=SubmissionStatus.SUBMITTED)
    draft = make_submission(line, 58, date(2025, 10, 31), status=SubmissionStatus.DRAFT)
    judging.close_judging(contest, boss)
    contest.refresh_from_db()

    with pytest.raises(ValidationError, match="are published"):
        Submission(line=line, value=60, reported_on=date(2025, 11, 30)).full_clean()
    with pytest.raises(ValidationError, match="are published"):
        evidence.decide(submitted, boss, "accept")
    with pytest.raises(ValidationError, match="are published"):
        Adjustment(competition=contest, agency=line.commitment.agency, points=1, reason="Late bonus").full_clean()
    from competition import permissions

    assert not permissions.can_change_submission(boss, draft) or not boss.is_superuser
    assert not permissions.can_decide_submission(boss, submitted)
    refused = [
        import_file("values", "competition,agency,target,reported_on,value\ncontest,W3,T1,2025-11-30,99\n"),
        import_file("adjustments", "competition,agency,points,reason\ncontest,W3,2,Late\n", name="adj.csv"),
    ]
    for code, output in refused:
        assert code == 1 and "column competition: The results of “Contest 2025” are published" in output, output
    unchanged = import_file(
        "values", "competition,agency,target,reported_on,value\ncontest,W3,T1,2025-06-30,50\n", name="same.csv"
    )
    assert unchanged[0] == 0 and "1 unchanged" in unchanged[1]


def test_reviewers_queue_leaves_out_closed_competitions(contest, boss):
    from competition.models import Juror

    reviewer = UserFactory(username="contest.reviewer")
    Juror.objects.create(competition=contest, user=reviewer)
    assert jury.queue_for(reviewer).count() == 6

    judging.close_judging(contest, boss)

    assert jury.queue_for(reviewer).count() == 0


def test_adjustments_of_a_closed_competition_cannot_be_changed_in_the_admin(contest, boss, client):
    agency = CommitmentLine.objects.get(commitment__agency__code="W1").commitment.agency
    adjustment = Adjustment.objects.create(competition=contest, agency=agency, points=1, reason="Bonus")
    judging.close_judging(contest, boss)
    client.force_login(boss)

    edit = client.post(
        f"/admin/snippets/competition/adjustment/edit/{adjustment.pk}/",
        {"competition": contest.pk, "agency": agency.pk, "points": "5", "reason": "Bonus"},
    )

    adjustment.refresh_from_db()
    assert edit.status_code == 404 and adjustment.points == 1  # frozen: out of reach, as elsewhere


# Reopening.


def test_reopening_withdraws_the_result_with_its_reason_and_publishing_again_keeps_both(contest, boss):
    judging.close_judging(contest, boss)
    judging.reopen_judging(contest, boss, "W3's June report was entered with a typo")
    line = CommitmentLine.objects.get(commitment__agency__code="W3")
    Submission.objects.filter(line=line).update(value=95)
    judging.close_judging(contest, boss)

    first, second = OfficialResult.objects.filter(competition=contest).order_by("published_at", "pk")
    assert first.withdrawn_reason == "W3's June report was entered with a typo" and first.withdrawn_by == boss
    assert second.withdrawn_at is None
    assert second.scoreboard().agencies[0].code == "W3"
    actions = list(PageLogEntry.objects.filter(page=contest).values_list("action", flat=True).order_by("pk"))
    assert actions[-3:] == ["competition.judging_close", "competition.judging_reopen", "competition.judging_close"]


def test_judging_cannot_reopen_once_a_decision_is_recorded(contest, boss):
    judging.close_judging(contest, boss)
    commendations.record_decision(
        contest,
        boss,
        number="125/QĐ-UBND",
        issued_on=date(2026, 1, 15),
        issued_by="City People's Committee",
        upload=SimpleUploadedFile("decision.pdf", PDF, "application/pdf"),
    )

    with pytest.raises(ValidationError, match="125/QĐ-UBND"):
        judging.reopen_judging(contest, boss, "Late correction")


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("  ", None),
        ("x" * 1001, "Keep the reason under 1000 characters."),
        ("Late\u202e score", "The text holds invisible characters that can disguise it (U+202E); remove them."),
    ],
)
@pytest.mark.parametrize(
    ("action", "missing"),
    [
        ("reopen", "Say why judging reopens: the reason is kept in the history."),
        ("take_off", "Give the reason: it is kept with the award and in the history."),
        ("add", "Give the reason: it is kept with the award and in the history."),
    ],
)
def test_reopening_and_changing_awards_refuse_an_improper_reason_and_change_nothing(
    contest, boss, action, missing, reason, message
):
    judging.close_judging(contest, boss)
    awards = list(Award.objects.values_list("pk", "removed").order_by("pk"))
    entries = PageLogEntry.objects.count()
    calls = {
        "reopen": lambda: judging.reopen_judging(contest, boss, reason),
        "take_off": lambda: commendations.take_off(Award.objects.get(agency__code="E3"), boss, reason),
        "add": lambda: commendations.add(contest, boss, "W2", "Giấy khen", reason),
    }

    with pytest.raises(ValidationError) as refused:
        calls[action]()

    assert refused.value.message_dict == {"reason": [message or missing]}
    contest.refresh_from_db()
    assert contest.closed and OfficialResult.objects.get(competition=contest).withdrawn_at is None
    assert list(Award.objects.values_list("pk", "removed").order_by("pk")) == awards
    assert PageLogEntry.objects.count() == entries


# The commendations screen.


def test_manager_takes_one_off_adds_one_and_records_the_decision(contest, boss, client):
    judging.close_judging(contest, boss)
    client.force_login(boss)
    url = f"/admin/competition/{contest.pk}/commendations/"
    e3 = Award.objects.get(agency__code="E3")

    page = client.get(url).content.decode()
    no_reason = client.post(url, {"action": "take_off", "award": e3.pk, "reason": ""})
    assert no_reason.status_code == 200 and not Award.objects.get(pk=e3.pk).removed
    taken_off = client.post(url, {"action": "take_off", "award": e3.pk, "reason": "Tied with E2; one letter left"})
    added = client.post(url, {"action": "add", "agency": "W2", "name": "Giấy khen", "reason": "Most improved ward"})
    decided = client.post(
        url,
        {
            "action": "decide",
            "number": "125/QĐ-UBND",
            "issued_on": "2026-01-15",
            "issued_by": "City People's Committee",
            "signed_by": "Chairman",
            "document": SimpleUploadedFile("decision.pdf", PDF, "application/pdf"),
        },
    )

    assert "over the limit" in page and "Cờ thi đua" in page
    assert taken_off.status_code == added.status_code == decided.status_code == 302
    decision = CommendationDecision.objects.get(competition=contest)
    assert (decision.number, decision.document.title) == ("125/QĐ-UBND", "decision.pdf")
    granted = [(a.name, a.agency.code) for a in commendations.granted(contest)]
    assert granted == [("Cờ thi đua", "E1"), ("Bằng khen", "W1"), ("Giấy khen", "E2"), ("Giấy khen", "W2")]
    logged = set(PageLogEntry.objects.filter(page=contest).values_list("action", flat=True))
    assert {"competition.award_remove", "competition.award_add", "competition.commendation_decision"} <= logged
    public = client.get("/contest/").content.decode()
    assert "Decision No. 125/QĐ-UBND" in public and "Most improved" not in public
    commitment = client.get("/contest/agency-w2/").content.decode()
    assert "Giấy khen" in commitment


def test_the_decision_needs_a_signed_pdf(contest, boss, client):
    judging.close_judging(contest, boss)
    client.force_login(boss)

    response = client.post(
        f"/admin/competition/{contest.pk}/commendations/",
        {
            "action": "decide",
            "number": "1",
            "issued_on": "2026-01-15",
            "issued_by": "Committee",
            "document": SimpleUploadedFile("decision.csv", b"a,b\n1,2\n", "text/csv"),
        },
    )

    assert response.status_code == 200
    assert "must be a PDF" in response.content.decode()
    assert not CommendationDecision.objects.exists()


def test_commendations_are_for_the_competitions_managers_only(contest, boss, client):
    judging.close_judging(contest, boss)
    other = UserFactory(username="someone.else")
    other.groups.add(Group.objects.get_or_create(name="Admins only")[0])
    other.groups.get().permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(other)

    url = f"/admin/competition/{contest.pk}/commendations/"
    assert client.get(url).status_code == 404
    e1 = Award.objects.get(agency__code="E1")
    assert client.post(url, {"action": "take_off", "award": e1.pk, "reason": "x"}).status_code == 404
    assert not Award.objects.get(pk=e1.pk).removed


def test_unscored_lines_in_the_result_use_computed_points(contest, boss):
    line = CommitmentLine.objects.get(commitment__agency__code="W1")
    make_score(Submission.objects.get(line=line), "contest.juror", "10")
    judging.close_judging(contest, boss)

    board = OfficialResult.objects.get(competition=contest).scoreboard()

    assert board.agency("W1").lines[0].jury_points == 10
    assert board.agency("W1").total_points == 10
    assert board.agency("W2").lines[0].provisional
