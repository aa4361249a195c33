"""The predicates of competition.permissions, tested directly: who is a manager (the publish
permission, not merely change), on which statuses a decision is allowed, that unknown actions
are refused, and that anonymous and deactivated users (whom login refuses first, so the admin
screens never reach these guards with them) are refused by every predicate itself."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.urls import reverse
from wagtail.models import GroupPagePermission

from competition import permissions
from competition.domain import evidence
from competition.enums import SubmissionStatus
from competition.models import Adjustment, Agency, AgencyMembership, Juror, Submission
from competition.permission_policies import SubmissionPermissionPolicy
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target
from tests.security import build_world

pytestmark = pytest.mark.django_db

PREDICATES = [
    permissions.can_view_submission,
    permissions.can_change_submission,
    permissions.can_submit_submission,
    permissions.can_delete_submission,
    permissions.can_decide_submission,
]


@pytest.fixture
def world():
    world = build_world()
    # Wagtail's default "Editors" group: every page permission but publish, on the whole site.
    group = Group.objects.create(name="Wagtail editors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "lock_page", "unlock_page"):
        GroupPagePermission.objects.create(
            group=group, page=world["competition"].get_parent(), permission=Permission.objects.get(codename=codename)
        )
    world["page_editor"] = UserFactory(username="page_editor")
    world["page_editor"].groups.add(group)
    return world


def submission_in(world, status, agency="a"):
    """A submission of agency A (or B) brought to `status` through the domain actions."""
    submission = Submission.objects.create(line=world[f"line_{agency}"], reported_on=date(2025, 6, 30), value=5)
    if status != SubmissionStatus.DRAFT:
        evidence.submit(submission, world[f"editor_{agency}"])
    decisions = {SubmissionStatus.ACCEPTED: "accept", SubmissionStatus.RETURNED: "return"}
    decisions[SubmissionStatus.REJECTED] = "reject"
    if status in decisions:
        evidence.decide(submission, world["manager"], decisions[status], "Because.")
    submission = Submission.objects.get(pk=submission.pk)
    assert submission.status == status
    return submission


# (a) A manager holds the publish permission; change_page alone makes nobody a manager.


def test_change_page_on_the_whole_site_does_not_make_a_manager(client, world):
    page_editor, submission = world["page_editor"], submission_in(world, SubmissionStatus.SUBMITTED)

    assert permissions.managed_competition_ids(page_editor) == frozenset()
    assert not permissions.is_manager(page_editor)
    assert not permissions.manages(page_editor, world["competition"].pk)
    assert not any(predicate(page_editor, submission) for predicate in PREDICATES)
    assert not Submission.objects.filter(permissions.visible_submissions_filter(page_editor)).exists()
    assert not Juror.objects.filter(permissions.competition_scope(page_editor)).exists()
    client.force_login(page_editor)
    assert client.get(reverse("wagtailsnippets_competition_submission:list")).status_code in (302, 403)
    assert client.get(reverse("competition_review_queue")).status_code in (302, 403)
    assert client.post(
        reverse("wagtailsnippets_competition_submission:decide", args=[submission.pk]), {"decision": "accept"}
    ).status_code in (302, 403, 404)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED


def test_the_publish_permission_on_the_competition_makes_a_manager(world):
    assert permissions.managed_competition_ids(world["manager"]) == frozenset({world["competition"].pk})
    submission = submission_in(world, SubmissionStatus.SUBMITTED)
    assert permissions.can_decide_submission(world["manager"], submission)


# (b) A decision only on a submitted submission, in the predicates and on the screens.


@pytest.mark.parametrize(
    "status",
    [SubmissionStatus.DRAFT, SubmissionStatus.RETURNED, SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED],
)
def test_no_decision_on_a_submission_that_is_not_submitted(client, world, status):
    submission = submission_in(world, status)

    for name in ("manager", "superuser"):
        assert not permissions.can_decide_submission(world[name], submission), name
        client.force_login(world[name])
        inspect = client.get(reverse("wagtailsnippets_competition_submission:inspect", args=[submission.pk]))
        assert inspect.status_code == 200
        assert 'name="decision"' not in inspect.content.decode()
        if status in (SubmissionStatus.ACCEPTED,):
            review = client.get(reverse("competition_review", args=[submission.pk]))
            assert review.status_code == 200 and 'name="decision"' not in review.content.decode()
        client.post(
            reverse("wagtailsnippets_competition_submission:decide", args=[submission.pk]),
            {"decision": "reject", "note": "No."},
        )
        assert Submission.objects.get(pk=submission.pk).status == status


def test_the_decision_controls_show_on_a_submitted_submission(client, world):
    submission = submission_in(world, SubmissionStatus.SUBMITTED)
    client.force_login(world["manager"])

    for name in ("inspect",):
        response = client.get(reverse(f"wagtailsnippets_competition_submission:{name}", args=[submission.pk]))
        assert 'name="decision"' in response.content.decode()
    assert 'name="decision"' in client.get(reverse("competition_review", args=[submission.pk])).content.decode()


# (c) Unknown actions are refused, to everyone.


@pytest.mark.parametrize("action", ["publish", "approve", "score", "", "VIEW", None])
def test_unknown_actions_are_refused_by_default(world, action):
    submission = submission_in(world, SubmissionStatus.DRAFT)
    policy = SubmissionPermissionPolicy(Submission)

    for name in ("editor_a", "manager", "superuser"):
        user = world[name]
        assert permissions.can(user, action, submission) is False, name
        assert policy.user_has_permission_for_instance(user, action, submission) is False, name
    for name in ("editor_a", "manager"):
        assert policy.user_has_permission(world[name], action) is False, name


def test_known_actions_still_answer(world):
    submission = submission_in(world, SubmissionStatus.DRAFT)

    assert permissions.can(world["editor_a"], "change", submission) is True
    assert permissions.can(world["editor_a"], "delete", submission) is True
    assert permissions.can(world["editor_b"], "view", submission) is False


# (d) Anonymous and deactivated users, whatever else they hold, are refused by every predicate.


def deactivated(world, name):
    user = world[name]
    user.is_active = False
    user.save()
    for cached in ("_competition_agency_ids", "_competition_managed_ids"):
        if hasattr(user, cached):
            delattr(user, cached)
    return user


@pytest.mark.parametrize("name", ["anonymous", "editor_a", "manager", "superuser"])
def test_anonymous_and_deactivated_users_are_refused_by_every_predicate(world, name):
    submissions = {status: submission_in(world, status) for status in SubmissionStatus.values}
    Adjustment.objects.create(competition=world["competition"], agency=world["agency_a"], points=1, reason="x")
    make_competition(slug="unpublished", title="Unpublished", publish=False)
    user = AnonymousUser() if name == "anonymous" else deactivated(world, name)

    assert permissions.editor_agency_ids(user) == frozenset()
    assert permissions.managed_competition_ids(user) == frozenset()
    assert not permissions.is_editor(user) and not permissions.is_manager(user)
    assert not permissions.edits_for(user, world["agency_a"].pk)
    assert not permissions.manages(user, world["competition"].pk)
    for status, submission in submissions.items():
        for predicate in PREDICATES:
            assert predicate(user, submission) is False, (predicate.__name__, status)
        for action in permissions.INSTANCE_RULES:
            assert permissions.can(user, action, submission) is False, (action, status)
    assert not Submission.objects.filter(permissions.visible_submissions_filter(user)).exists()
    assert not Adjustment.objects.filter(permissions.competition_scope(user)).exists()
    assert not Agency.objects.filter(permissions.agency_scope(user)).exists()
    assert permissions.hidden_competitions(user).values_list("slug", flat=True).get() == "unpublished"
    assert not SubmissionPermissionPolicy(Submission).user_has_permission(user, "view")


def test_the_same_users_active_are_allowed(world):
    """The other side of the guards above: active, the same users may act (so that the test
    above fails if a guard refused everyone)."""
    submission = submission_in(world, SubmissionStatus.SUBMITTED)
    draft = submission_in(world, SubmissionStatus.DRAFT)

    assert permissions.can_view_submission(world["editor_a"], submission)
    assert permissions.can_change_submission(world["editor_a"], draft)
    assert permissions.can_decide_submission(world["manager"], submission)
    assert permissions.can_decide_submission(world["superuser"], submission)
    assert permissions.can_delete_submission(world["superuser"], draft)
    assert Agency.objects.filter(permissions.agency_scope(world["superuser"])).exists()


def test_unpublished_competitions_are_hidden_only_from_those_without_a_page_permission_on_them(world):
    """The other side of the last assertion above: superusers and managers (whose page permission
    reaches every competition of this site) see the unpublished competitions, an editor none."""
    make_competition(slug="unpublished", title="Unpublished", publish=False)
    CompetitionPage = type(world["competition"])
    CompetitionPage.objects.filter(pk=world["competition"].pk).update(live=False)

    def hidden(name):
        return set(permissions.hidden_competitions(world[name]).values_list("slug", flat=True))

    assert hidden("superuser") == set()
    assert hidden("manager") == set()
    assert hidden("editor_a") == {"unpublished", world["competition"].slug}


def test_the_pages_hidden_from_a_user_are_the_unpublished_competitions_and_everything_below_them(world):
    """`hidden_pages_filter`, the Q that page choosers and the evidence downloads exclude: for an
    editor, both unpublished competitions and the pages below each of them, never a published
    competition or its pages; for a superuser, nothing; for an anonymous reader, the same as for
    the editor."""
    from wagtail.models import Page

    first = make_competition(slug="draft-one", title="Draft one", publish=False)
    second = make_competition(slug="draft-two", title="Draft two", publish=False)
    agency_c = AgencyFactory(code="C")
    below_first = make_commitment(first, agency_c, [make_target(first, code="D1")], publish=False)
    below_second = make_commitment(second, agency_c, [make_target(second, code="D2")], publish=False)
    published = world["competition"]
    unpublished_ids = {first.pk, second.pk, below_first.pk, below_second.pk}
    unpublished_ids |= set(Page.objects.filter(path__startswith=first.path).values_list("pk", flat=True))
    unpublished_ids |= set(Page.objects.filter(path__startswith=second.path).values_list("pk", flat=True))

    def hidden(user):
        return set(Page.objects.filter(permissions.hidden_pages_filter(user)).values_list("pk", flat=True))

    assert len(unpublished_ids) == 6  # two competitions, a target and a commitment below each
    assert hidden(world["editor_a"]) == unpublished_ids
    assert hidden(AnonymousUser()) == unpublished_ids
    assert hidden(world["superuser"]) == set()
    assert not hidden(world["editor_a"]) & set(
        Page.objects.filter(path__startswith=published.path).values_list("pk", flat=True)
    )


def test_the_scopes_of_active_users_reach_what_their_roles_give_and_no_further(world):
    """The scope functions for users who may act (the guards above refuse the others): a manager
    of two competitions in separate subtrees, each reached by its own page permission, manages
    both and not a third; an editor sees their agency's submissions only."""
    second = make_competition(slug="second", title="Second")
    third = make_competition(slug="third", title="Third")
    agency_c, agency_d, agency_x = AgencyFactory(code="C"), AgencyFactory(code="D"), AgencyFactory(code="X")
    make_commitment(second, agency_c, [make_target(second, code="S1")])
    make_commitment(third, agency_x, [make_target(third, code="X1")])  # agency D takes part nowhere
    group = Group.objects.create(name="Managers of two")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for page in (world["competition"], second):
        GroupPagePermission.objects.create(
            group=group, page=page, permission=Permission.objects.get(codename="publish_page")
        )
    two = UserFactory(username="manager_of_two")
    two.groups.add(group)
    for competition in (world["competition"], second, third):
        Adjustment.objects.create(competition=competition, agency=agency_d, points=1, reason=competition.slug)
    editor_x = UserFactory(username="editor_x")
    AgencyMembership.objects.create(user=editor_x, agency=agency_x)
    own, other = submission_in(world, SubmissionStatus.SUBMITTED), submission_in(world, SubmissionStatus.SUBMITTED, "b")

    assert permissions.managed_competition_ids(two) == {world["competition"].pk, second.pk}
    assert permissions.managed_competition_ids(world["superuser"]) == set(
        type(second).objects.values_list("pk", flat=True)
    )
    assert permissions.is_manager(two) and not permissions.is_editor(two)
    assert permissions.editor_agency_ids(world["editor_a"]) == {world["agency_a"].pk}
    assert permissions.is_editor(world["editor_a"]) and not permissions.is_manager(world["editor_a"])
    assert set(Submission.objects.filter(permissions.visible_submissions_filter(world["editor_a"]))) == {own}
    assert set(Submission.objects.filter(permissions.visible_submissions_filter(two))) == {own, other}
    assert set(Adjustment.objects.filter(permissions.competition_scope(two)).values_list("reason", flat=True)) == {
        world["competition"].slug,
        "second",
    }
    assert set(Agency.objects.filter(permissions.agency_scope(two)).values_list("code", flat=True)) == {
        "A",
        "B",
        "C",
        "D",
    }
    memberships = AgencyMembership.objects.filter(permissions.agency_scope(two, "agency__"))
    assert set(memberships.values_list("user__username", flat=True)) == {"editor_a", "editor_b"}


def test_the_roles_of_a_user_are_read_once_per_request_and_name_agencies_not_memberships(
    world, django_assert_num_queries
):
    """A request asks for a user's agencies and competitions many times: one query each, then the
    answer kept on the user object. The agencies are those of the memberships, not the
    memberships' own ids (made to differ here: two agencies without members come first)."""
    AgencyFactory(code="M1"), AgencyFactory(code="M2")
    editor = UserFactory(username="editor_of_m3")
    agency = AgencyFactory(code="M3")
    membership = AgencyMembership.objects.create(user=editor, agency=agency)
    assert membership.pk != agency.pk
    manager = type(world["manager"]).objects.get(pk=world["manager"].pk)  # nothing kept on it yet

    with django_assert_num_queries(1):
        assert permissions.editor_agency_ids(editor) == {agency.pk}
        assert permissions.editor_agency_ids(editor) == {agency.pk}
        assert permissions.is_editor(editor)
    with django_assert_num_queries(2):  # the page permissions, then the competitions under them
        assert permissions.managed_competition_ids(manager) == {world["competition"].pk}
        assert permissions.manages(manager, world["competition"].pk)
        assert permissions.is_manager(manager)
