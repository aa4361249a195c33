"""Nothing is lost when people act at the same time: stale edit forms never undo a submit, a
decision or someone else's save; concurrent scores, submits and decisions on PostgreSQL give one
row per reviewer, one decision, a consistent audit trail and never a server error."""

import os
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from competition.domain import evidence, jury
from competition.domain.roles import REVIEWERS, ensure_roles
from competition.enums import SubmissionStatus
from competition.models import CompetitionLogEntry, Juror, JuryScore, Submission
from tests.factories import UserFactory
from tests.test_evidence import add_data, denied, url, world  # noqa: F401

# ---------------------------------------------------------------------------------------------
# Stale forms (every database): the edit view locks the row and compares revisions.


def loaded_revision(client, submission):
    """What the edit form carries when the user opened it."""
    response = client.get(url("edit", submission.pk))
    assert response.status_code == 200
    return str(response.context["object"].latest_revision_id)


@pytest.fixture
def draft(world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    submission.save_revision(user=world["editor_a"])
    return submission


@pytest.mark.django_db
def test_a_stale_form_never_undoes_a_submit(client, world, draft):  # noqa: F811
    client.force_login(world["editor_a"])
    opened = loaded_revision(client, draft)
    evidence.submit(draft, world["editor_a"])  # meanwhile, from another tab

    response = client.post(url("edit", draft.pk), add_data(world["line_a"], value="99", loaded_revision_id=opened))

    draft.refresh_from_db()
    assert denied(response)  # a submitted submission cannot be edited: refused before the form
    assert (draft.status, draft.value) == (SubmissionStatus.SUBMITTED, Decimal(40))


@pytest.mark.django_db
def test_a_stale_form_keeps_the_managers_return_note(client, world, draft):  # noqa: F811
    client.force_login(world["editor_a"])
    opened = loaded_revision(client, draft)
    evidence.submit(draft, world["editor_a"])
    evidence.decide(draft, world["manager"], "return", "Attach the scan.")

    first = client.post(url("edit", draft.pk), add_data(world["line_a"], value="99", loaded_revision_id=opened))
    draft.refresh_from_db()
    assert first.status_code == 200  # shown again with the user's input and a warning
    assert "Someone else saved this submission" in first.content.decode()
    assert 'value="99' in first.content.decode()
    assert draft.value == Decimal(40)

    newest = str(first.context["object"].latest_revision_id)
    second = client.post(url("edit", draft.pk), add_data(world["line_a"], value="99", loaded_revision_id=newest))
    draft.refresh_from_db()
    assert second.status_code == 302
    assert (draft.value, draft.status, draft.decision_note) == (
        Decimal(99),
        SubmissionStatus.RETURNED,
        "Attach the scan.",
    )


@pytest.mark.django_db
def test_two_editors_saving_one_draft(client, world, draft):  # noqa: F811
    colleague = Client()
    colleague.force_login(world["editor_a"])
    client.force_login(world["editor_a"])
    mine, theirs = loaded_revision(client, draft), loaded_revision(colleague, draft)

    saved = colleague.post(url("edit", draft.pk), add_data(world["line_a"], value="70", loaded_revision_id=theirs))
    stale = client.post(url("edit", draft.pk), add_data(world["line_a"], value="80", loaded_revision_id=mine))

    draft.refresh_from_db()
    assert saved.status_code == 302 and stale.status_code == 200
    assert draft.value == Decimal(70)


@pytest.mark.django_db
def test_a_revert_cannot_change_the_state(client, world, draft):  # noqa: F811
    first_revision = draft.latest_revision
    evidence.submit(draft, world["editor_a"])
    evidence.decide(draft, world["manager"], "return", "Wrong month.")
    client.force_login(world["editor_a"])
    revert_url = url("revisions_revert", draft.pk, first_revision.pk)
    opened = str(client.get(revert_url).context["object"].latest_revision_id)

    response = client.post(revert_url, add_data(world["line_a"], value="41", loaded_revision_id=opened))

    draft.refresh_from_db()
    assert response.status_code == 302
    assert (draft.value, draft.status, draft.decision_note) == (Decimal(41), SubmissionStatus.RETURNED, "Wrong month.")


# ---------------------------------------------------------------------------------------------
# Real concurrency (PostgreSQL only: SQLite serialises every writer at the file).

postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="row locks are exercised on PostgreSQL"
)


def race(*actions):
    """Run the callables at once in threads (each with its own connection); their results or
    the exceptions they raised, in order."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def reviewers(world, count):  # noqa: F811
    group = ensure_roles()[REVIEWERS]
    users = []
    for number in range(count):
        user = UserFactory(username=f"reviewer{number}")
        user.groups.add(group)
        Juror.objects.create(competition=world["competition"], user=user)
        users.append(user)
    return users


def score_trail(submission, username):
    entries = CompetitionLogEntry.objects.filter(object_id=str(submission.pk), action="competition.score").order_by(
        "pk"
    )
    return [entry.data for entry in entries if entry.data["juror"] == username]


def assert_consistent_trail(submission, user):
    """Each audited change starts from the points the previous one left: nothing was lost."""
    trail = score_trail(submission, user.get_username())
    previous = None
    for entry in trail:
        assert entry["old_points"] == previous
        previous = entry["new_points"]
    final = JuryScore.objects.get(submission=submission, juror__user=user).points
    assert Decimal(previous) == final
    return trail


@pytest.fixture
def submitted(world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 6, 30), value=50)
    evidence.submit(submission, world["editor_b"])
    return submission


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_reviewer_scoring_one_submission_from_many_tabs(world, submitted):  # noqa: F811
    (reviewer,) = reviewers(world, 1)
    points = [Decimal(value) for value in (1, 2, 3, 4, 5, 6)]

    results = race(*[lambda p=p: jury.record_score(submitted, reviewer, p) for p in points])

    assert all(isinstance(result, JuryScore) for result in results), results
    assert JuryScore.objects.filter(submission=submitted).count() == 1
    assert len(assert_consistent_trail(submitted, reviewer)) == len(points)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_reviewers_scoring_at_once(world, submitted):  # noqa: F811
    panel = reviewers(world, 3)
    actions = [lambda u=user, p=p: jury.record_score(submitted, u, Decimal(p)) for user in panel for p in (4, 7)]

    results = race(*actions)

    assert all(isinstance(result, JuryScore) for result in results), results
    assert JuryScore.objects.filter(submission=submitted).count() == 3
    for user in panel:
        assert len(assert_consistent_trail(submitted, user)) == 2


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_scoring_screens_posted_at_once_never_fail(world, submitted):  # noqa: F811
    panel = reviewers(world, 2)
    clients = []
    for user in panel + panel:
        client = Client()
        client.force_login(user)
        clients.append(client)
    review = reverse("competition_review", args=[submitted.pk])

    responses = race(*[lambda c=c, n=n: c.post(review, {"points": str(n + 1)}) for n, c in enumerate(clients)])

    assert [response.status_code for response in responses] == [302] * 4
    assert JuryScore.objects.filter(submission=submitted).count() == 2
    for user in panel:
        assert_consistent_trail(submitted, user)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_double_submit_submits_once(world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    clients = []
    for _ in range(3):
        client = Client()
        client.force_login(world["editor_a"])
        clients.append(client)

    responses = race(*[lambda c=c: c.post(url("submit", submission.pk)) for c in clients])

    assert [response.status_code for response in responses] == [302] * 3
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    assert CompetitionLogEntry.objects.filter(object_id=str(submission.pk), action="competition.submit").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_competing_decisions_leave_one_decision(world, submitted):  # noqa: F811
    decisions = [
        (world["manager"], {"decision": "accept"}),
        (world["superuser"], {"decision": "reject", "note": "Not our figure."}),
        (world["manager"], {"decision": "return", "note": "Attach the scan."}),
    ]
    clients = []
    for user, _data in decisions:
        client = Client()
        client.force_login(user)
        clients.append(client)

    responses = race(
        *[
            lambda c=c, d=d: c.post(url("decide", submitted.pk), d)
            for c, (_u, d) in zip(clients, decisions, strict=True)
        ]
    )

    assert [response.status_code for response in responses] == [302] * 3
    submitted.refresh_from_db()
    entries = CompetitionLogEntry.objects.filter(
        object_id=str(submitted.pk), action__in=["competition.accept", "competition.reject", "competition.return"]
    )
    assert entries.count() == 1
    assert entries.get().data["to"] == submitted.status


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_while_submitting_keeps_what_was_submitted(world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    submission.save_revision(user=world["editor_a"])
    editing, submitting = Client(), Client()
    editing.force_login(world["editor_a"])
    submitting.force_login(world["editor_a"])
    opened = loaded_revision(editing, submission)

    responses = race(
        lambda: editing.post(
            url("edit", submission.pk), add_data(world["line_a"], value="77", loaded_revision_id=opened)
        ),
        lambda: submitting.post(url("submit", submission.pk)),
    )

    assert [response.status_code for response in responses] == [302, 302]
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    submitted_revision = (
        CompetitionLogEntry.objects.filter(object_id=str(submission.pk), action="competition.submit").get().revision
    )
    # The value in force is the one the submit recorded: an edit landed before it or not at all.
    assert Decimal(submitted_revision.content["value"]) == submission.value
