"""Review panels, declared conflicts and the jury's progress (docs/results.md, "Review panels and
declared conflicts"): the balanced proposal, the queue and the aggregate with panels, the
withdrawal of a score on a declared conflict (audited), the screens and their scope."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from competition.domain import jury, panels
from competition.domain.roles import MANAGERS, REVIEWERS, ensure_roles
from competition.domain.scoreboard import load_board
from competition.enums import SubmissionStatus
from competition.models import (
    CommitmentLine,
    CompetitionLogEntry,
    DeclaredConflict,
    Juror,
    JuryScore,
    ReviewPanel,
    Submission,
)
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    """Two clusters of three agencies, two targets (12 lines), four reviewers: rev1 affiliated
    with the first agency of the departments, the others free."""
    groups = ensure_roles()
    competition = make_competition(slug="city")
    targets = [make_target(competition, code=f"T{n}", max_points=10) for n in (1, 2)]
    city = AgencyFactory(code="CITY", name="City")
    departments = AgencyFactory(code="DEPT", name="Departments", parent=city)
    wards = AgencyFactory(code="WARD", name="Wards", parent=city)
    agencies = {}
    for code, parent in (("D1", departments), ("D2", departments), ("D3", departments)):
        agencies[code] = AgencyFactory(code=code, name=f"Department {code}", parent=parent)
    for code in ("W1", "W2", "W3"):
        agencies[code] = AgencyFactory(code=code, name=f"Ward {code}", parent=wards)
    for agency in agencies.values():
        make_commitment(competition, agency, targets)
    seats = {}
    for name, agency in (("rev1", agencies["D1"]), ("rev2", None), ("rev3", None), ("rev4", None)):
        user = UserFactory(username=name)
        user.groups.add(groups[REVIEWERS])
        seats[name] = Juror.objects.create(competition=competition, user=user, agency=agency)
    manager = UserFactory(username="boss")
    manager.groups.add(groups[MANAGERS])
    lines = {
        (line.commitment.agency.code, line.target.code): line
        for line in CommitmentLine.objects.filter(commitment__competition=competition).select_related(
            "commitment__agency", "target"
        )
    }
    return {
        "competition": competition,
        "targets": targets,
        "departments": departments,
        "wards": wards,
        "agencies": agencies,
        "seats": seats,
        "lines": lines,
        "manager": manager,
    }


def submitted(line, value=50):
    """A submitted report of `line` (as its agency's editor would have submitted it)."""
    from django.utils import timezone

    return Submission.objects.create(
        line=line,
        reported_on=date(2025, 6, 30),
        value=value,
        status=SubmissionStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )


def panel(city, name, members, clusters=(), targets=()):
    created = ReviewPanel.objects.create(competition=city["competition"], name=name)
    created.members.set([city["seats"][member] for member in members])
    created.clusters.set(list(clusters))
    created.targets.set(list(targets))
    created.save()  # parental relations are written on save
    panels.recount(city["competition"])
    return created


# --- The balanced proposal ------------------------------------------------------------------


def test_proposal_by_target_is_balanced_deterministic_and_never_affiliated(city):
    first = panels.propose(city["competition"], panels.BY_TARGET, 1)
    again = panels.propose(city["competition"], panels.BY_TARGET, 1)

    assert first.fingerprint == again.fingerprint
    assert [[seat.pk for seat in p.members] for p in first.panels] == [
        [seat.pk for seat in p.members] for p in again.panels
    ]
    # Two targets of 6 lines: two panels, each with two of the four reviewers.
    assert sorted(p.lines for p in first.panels) == [6, 6]
    assert sorted(len(p.members) for p in first.panels) == [2, 2]
    loads = {seat.user.username: lines for seat, lines in first.loads}
    # rev1 never reviews their own agency's line: 5 lines, the others 6.
    assert loads == {"rev1": 5, "rev2": 6, "rev3": 6, "rev4": 6}
    assert max(loads.values()) - min(loads.values()) <= 1


def test_proposal_by_cluster_never_puts_a_reviewer_on_a_panel_of_their_agency(city):
    DeclaredConflict.objects.create(juror=city["seats"]["rev2"], agency=city["agencies"]["W2"], reason="Sister")

    proposal = panels.propose(city["competition"], panels.BY_CLUSTER, 2)

    by_cluster = {p.clusters[0][0]: {seat.user.username for seat in p.members} for p in proposal.panels}
    assert "rev1" not in by_cluster[city["departments"].pk]  # affiliated with D1
    assert "rev2" not in by_cluster[city["wards"].pk]  # declared a conflict with W2
    assert set().union(*by_cluster.values()) == {"rev1", "rev2", "rev3", "rev4"}
    assert all(len(members) == 2 for members in by_cluster.values())
    assert not proposal.unassigned and not proposal.short


def test_accepting_a_proposal_replaces_the_panels_with_audit_entries(city):
    old = panel(city, "Old", ["rev2"])
    proposal = panels.propose(city["competition"], panels.BY_TARGET, 2)

    created = panels.accept(city["competition"], proposal, city["manager"])

    assert not ReviewPanel.objects.filter(pk=old.pk).exists()
    assert [p.name for p in created] == [p.name for p in proposal.panels]
    actions = set(CompetitionLogEntry.objects.values_list("action", flat=True))
    assert {"wagtail.create", "wagtail.delete"} <= actions


# --- Queue, scoring and aggregate with panels -----------------------------------------------


def test_without_panels_every_reviewer_reviews_every_line_but_their_own(city):
    submission = submitted(city["lines"]["D2", "T1"])
    own = submitted(city["lines"]["D1", "T1"])

    assert set(jury.queue_for(city["seats"]["rev1"].user)) == {submission}
    assert set(jury.queue_for(city["seats"]["rev2"].user)) == {submission, own}


def test_queue_and_scoring_follow_the_panels(city, client):
    department = submitted(city["lines"]["D2", "T1"])
    ward = submitted(city["lines"]["W1", "T1"])
    panel(city, "Departments", ["rev2", "rev3"], clusters=[city["departments"]])

    rev2, rev4 = city["seats"]["rev2"].user, city["seats"]["rev4"].user
    assert set(jury.queue_for(rev2)) == {department, ward}  # the ward's line is in no panel
    assert set(jury.queue_for(rev4)) == {ward}
    # A reviewer off the panel can neither open the line nor score it.
    client.force_login(rev4)
    assert client.get(reverse("competition_review", args=[department.pk])).status_code == 404
    with pytest.raises(ValidationError):
        jury.record_score(department, rev4, Decimal(5))


def test_aggregate_counts_only_the_panels_reviewers(city):
    line = city["lines"]["W1", "T1"]
    submission = make_submission(line, 50)
    for name, points in (("rev2", 4), ("rev3", 6), ("rev4", 10)):
        JuryScore.objects.create(submission=submission, juror=city["seats"][name], points=Decimal(points))
    competition = city["competition"]

    def jury_points():
        board = load_board(competition, date(2025, 12, 31), with_jury=True)
        agency = next(agency for agency in board.agencies if agency.code == "W1")
        return next(result for result in agency.lines if result.target_code == "T1").jury_points

    assert jury_points() == Decimal(20) / 3  # the mean of all three, as without panels
    made = panel(city, "Wards", ["rev2", "rev3"], clusters=[city["wards"]])
    assert jury_points() == Decimal(5)
    assert not JuryScore.objects.get(juror=city["seats"]["rev4"]).counted  # kept, not counted
    made.delete()
    panels.recount(competition)
    assert jury_points() == Decimal(20) / 3


# --- Declared conflicts ---------------------------------------------------------------------


def test_a_declared_conflict_withdraws_the_score_with_an_audit_entry(city, client):
    submission = submitted(city["lines"]["W1", "T1"])
    seat = city["seats"]["rev2"]
    jury.record_score(submission, seat.user, Decimal("7.5"), "Good")

    conflict = panels.declare_conflict(seat, city["agencies"]["W1"], "My brother heads the ward", seat.user)

    assert conflict.withdrawn == 1
    assert not JuryScore.objects.filter(juror=seat).exists()
    entry = CompetitionLogEntry.objects.get(action=panels.WITHDRAW)
    assert entry.data["old_points"] == "7.5" and entry.data["reason"] == "My brother heads the ward"
    assert CompetitionLogEntry.objects.filter(action=panels.DECLARE, data__agency="W1").exists()
    seat = Juror.objects.get(pk=seat.pk)
    assert seat.has_conflict_with(city["agencies"]["W1"].pk)
    assert submission not in jury.queue_for(seat.user)
    client.force_login(seat.user)
    response = client.get(reverse("competition_review", args=[submission.pk]))
    assert response.status_code == 403 and b"declared a conflict" in response.content
    with pytest.raises(ValidationError):
        jury.record_score(submission, seat.user, Decimal(5))


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001, "Hidden\u202ereason"])
def test_a_declaration_without_a_proper_reason_changes_nothing(city, reason):
    seat = city["seats"]["rev2"]
    with pytest.raises(ValidationError):
        panels.declare_conflict(seat, city["agencies"]["W1"], reason, seat.user)
    assert not DeclaredConflict.objects.exists()


def test_declaring_twice_or_once_judging_is_closed_is_refused(city):
    seat = city["seats"]["rev2"]
    panels.declare_conflict(seat, city["agencies"]["W1"], "Relative", seat.user)
    with pytest.raises(ValidationError):
        panels.declare_conflict(Juror.objects.get(pk=seat.pk), city["agencies"]["W1"], "Again", seat.user)
    city["competition"].__class__.objects.filter(pk=city["competition"].pk).update(closed=True)
    with pytest.raises(ValidationError):
        panels.declare_conflict(Juror.objects.get(pk=seat.pk), city["agencies"]["W2"], "Relative", seat.user)
    assert DeclaredConflict.objects.count() == 1


def test_the_declaration_screen(city, client):
    submission = submitted(city["lines"]["W1", "T1"])
    seat = city["seats"]["rev3"]
    client.force_login(seat.user)
    url = reverse("competition_declare_conflict", args=[submission.pk])

    assert b"Ward W1" in client.get(url).content
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and not DeclaredConflict.objects.exists()
    response = client.post(url, {"reason": "I audited this ward last year"})
    assert response.status_code == 302 and response["Location"] == reverse("competition_review_queue")
    assert DeclaredConflict.objects.get().agency.code == "W1"
    # Now out of reach: the declaration screen is a 404 too.
    assert client.get(url).status_code == 404
    # A reviewer affiliated with the agency has nothing to declare.
    client.force_login(city["seats"]["rev1"].user)
    own = submitted(city["lines"]["D1", "T2"])
    assert client.get(reverse("competition_declare_conflict", args=[own.pk])).status_code == 404


# --- Progress -------------------------------------------------------------------------------


def test_progress_of_a_reviewer_and_of_each_submission(city, client):
    subs = [submitted(city["lines"][code, "T1"]) for code in ("D1", "D2", "W1", "W2")]
    panel(city, "Departments", ["rev1", "rev2"], clusters=[city["departments"]])
    rev2 = city["seats"]["rev2"].user
    jury.record_score(subs[1], rev2, Decimal(5))

    assert jury.progress_of(rev2) == {"scored": 1, "total": 4}
    assert jury.progress_of(city["seats"]["rev1"].user) == {"scored": 0, "total": 3}  # not D1, their own
    assert jury.progress_of(city["manager"]) is None
    progress = panels.jury_progress(city["competition"])
    by_name = {row["seat"].user.username: (row["scored"], row["total"]) for row in progress["reviewers"]}
    assert by_name == {"rev1": (0, 3), "rev2": (1, 4), "rev3": (0, 2), "rev4": (0, 2)}
    assert progress["submissions"][subs[0].pk] == (0, 1)  # D1: rev2 only (rev1 affiliated)
    assert progress["submissions"][subs[1].pk] == (1, 2)
    assert progress["submissions"][subs[2].pk] == (0, 4)  # in no panel: the whole jury

    client.force_login(rev2)
    assert "1 of 4 scored" in client.get(reverse("competition_review_queue")).content.decode()
    assert "1 of 4 scored" in client.get(reverse("competition_review", args=[subs[2].pk])).content.decode()
    client.force_login(city["manager"])
    page = client.get(reverse("competition_jury_progress", args=[city["competition"].pk])).content.decode()
    assert "1 of 2" in page and "0 of 4" in page and "Departments" in page


def test_queue_query_count_is_constant_with_panels(city, client, django_assert_max_num_queries):
    panel(city, "Departments", ["rev2", "rev3"], clusters=[city["departments"]])
    panel(city, "Wards T1", ["rev2", "rev4"], clusters=[city["wards"]], targets=[city["targets"][0]])
    DeclaredConflict.objects.create(juror=city["seats"]["rev2"], agency=city["agencies"]["W3"], reason="Cousin")
    submitted(city["lines"]["D2", "T1"])
    client.force_login(city["seats"]["rev2"].user)
    url = reverse("competition_review_queue")
    client.get(url)
    with django_assert_max_num_queries(60) as small:
        client.get(url)
    for code in ("D3", "W1", "W2", "W3"):
        for target in ("T1", "T2"):
            submitted(city["lines"][code, target])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


# --- Managers' screens ----------------------------------------------------------------------


def test_manager_proposes_and_accepts_panels(city, client):
    client.force_login(city["manager"])
    url = reverse("competition_propose_panels", args=[city["competition"].pk])
    response = client.get(url, {"split": "clusters", "per_panel": "2"})
    proposal = response.context["proposal"]
    assert len(proposal.panels) == 2

    stale = client.post(url, {"split": "clusters", "per_panel": "2", "fingerprint": "0"})
    assert stale.status_code == 200 and not ReviewPanel.objects.exists()
    accepted = client.post(url, {"split": "clusters", "per_panel": "2", "fingerprint": proposal.fingerprint})
    assert accepted.status_code == 302
    assert ReviewPanel.objects.filter(competition=city["competition"]).count() == 2


def test_another_competitions_panels_and_conflicts_are_out_of_reach(city, client):
    other = make_competition(slug="other-city")
    other_panel = ReviewPanel.objects.create(competition=other, name="Elsewhere")
    client.force_login(city["manager"])
    # The manager group manages the site root: give this one the city only.
    from wagtail.models import GroupPagePermission

    GroupPagePermission.objects.filter(group__name=MANAGERS).delete()
    from tests.test_permission_matrix import _group

    city["manager"].groups.clear()
    city["manager"].groups.add(
        _group("City managers", city["competition"], ["competition.view_reviewpanel", "competition.change_reviewpanel"])
    )
    for name in ("competition_jury_progress", "competition_propose_panels"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
        assert client.get(reverse(name, args=[city["competition"].pk])).status_code == 200
    assert client.get(reverse("wagtailsnippets_competition_reviewpanel:edit", args=[other_panel.pk])).status_code == 404


def test_the_panel_form_keeps_to_its_competition_and_recounts(city, client):
    other = make_competition(slug="other-city")
    foreign_target = make_target(other, code="X1")
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    line = city["lines"]["W1", "T1"]
    submission = make_submission(line, 50)
    JuryScore.objects.create(submission=submission, juror=city["seats"]["rev4"], points=Decimal(3))
    add = reverse("wagtailsnippets_competition_reviewpanel:add")
    data = {"competition": city["competition"].pk, "name": "Wards", "clusters": [city["wards"].pk]}

    refused = client.post(add, {**data, "targets": [foreign_target.pk]})
    assert refused.status_code == 200 and not ReviewPanel.objects.exists()
    response = client.post(add, {**data, "members": [city["seats"]["rev2"].pk]})
    assert response.status_code == 302
    assert not JuryScore.objects.get(juror=city["seats"]["rev4"]).counted
    made = ReviewPanel.objects.get()
    assert CompetitionLogEntry.objects.filter(action="wagtail.create", object_id=str(made.pk)).exists()
