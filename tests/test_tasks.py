"""Background work on the task framework (competition/tasks.py), run by the immediate backend as
in development and tests: the refresh of a competition after a change (its boards computed
again, its public URLs purged from the CDN), coalesced per commit and while one waits in the
queue, with the invalidation semantics kept; decision and reminder e-mails; the health check's
view of the queue. tests/test_tasks_worker.py runs the database backend's worker for real."""

from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks.signals import task_enqueued, task_finished
from wagtail.contrib.frontend_cache.backends import BaseBackend

from competition.domain import frontend, scoreboard, warming
from competition.models import CommitmentLine, CompetitionPage, TargetPage
from competition.tasks import refresh_competition
from tests.factories import AgencyFactory, make_commitment, make_competition, make_submission, make_target

pytestmark = pytest.mark.django_db

DAY = date(2025, 7, 1)


class RecordingBackend(BaseBackend):
    """A frontend cache that notes what it is asked to purge."""

    purged = []

    def purge(self, url):
        self.purged.append(url)


@pytest.fixture
def purged(settings):
    settings.WAGTAILFRONTENDCACHE = {"test": {"BACKEND": "tests.test_tasks.RecordingBackend"}}
    RecordingBackend.purged = []
    yield RecordingBackend.purged
    RecordingBackend.purged = []


@pytest.fixture
def competition(settings):
    competition = make_competition(slug="comp")
    targets = [make_target(competition, code="T1"), make_target(competition, code="T2")]
    make_commitment(competition, AgencyFactory(code="A"), targets)
    make_commitment(competition, AgencyFactory(code="B"), targets[:1])
    return competition


@pytest.fixture
def runs():
    """The app's tasks enqueued, and those finished, while the test runs (Wagtail's own left out):
    {"enqueued": [(task name, args)], "finished": [(task name, args, status)]}."""
    seen = {"enqueued": [], "finished": []}

    def enqueued(sender, task_result, **kwargs):
        if task_result.task.module_path.startswith("competition."):
            seen["enqueued"].append((task_result.task.name, task_result.args))

    def finished(sender, task_result, **kwargs):
        if task_result.task.module_path.startswith("competition."):
            seen["finished"].append((task_result.task.name, task_result.args, task_result.status))

    task_enqueued.connect(enqueued)
    task_finished.connect(finished)
    yield seen
    task_enqueued.disconnect(enqueued)
    task_finished.disconnect(finished)


def line_of(code, target="T1"):
    return CommitmentLine.objects.get(commitment__agency__code=code, target__code=target)


def kept_board(competition, day=None):
    """The board of `day` (today's by default) kept at the competition's current version, or None."""
    day = scoreboard.resolve_as_of(competition, day)
    version, _floor, entry = scoreboard.cache_state(competition.pk, scoreboard.board_key(competition, day))
    return entry[1] if entry is not None and entry[0] == version else None


def test_a_committed_change_rebuilds_the_boards_in_a_task(
    competition, settings, runs, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    board = kept_board(competition)
    assert runs["finished"] == [("refresh_competition", [competition.pk], TaskResultStatus.SUCCESSFUL)]
    assert board is not None and board.agencies[0].code == "A"
    # Every board the competition page shows was computed: today's and each month end.
    assert all(kept_board(competition, day) is not None for day in warming.public_board_days(competition))


def test_the_former_thread_mode_runs_as_a_task(competition, settings, runs, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = "thread"
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert [name for name, _args, _status in runs["finished"]] == ["refresh_competition"]
    assert kept_board(competition) is not None


def test_many_saves_in_one_transaction_make_one_refresh(
    competition, settings, runs, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    with django_capture_on_commit_callbacks(execute=True):
        for value in (10, 20, 30):
            make_submission(line_of("A"), value, date(2025, 6, 30))
        make_submission(line_of("B"), 40, date(2025, 6, 30))

    assert runs["enqueued"] == [("refresh_competition", [competition.pk])]
    assert kept_board(competition) is not None


def test_a_refresh_waiting_in_the_queue_takes_the_later_changes_too(
    competition, settings, runs, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # nothing runs
    for value in (10, 20):
        with django_capture_on_commit_callbacks(execute=True):
            make_submission(line_of("A"), value, date(2025, 6, 30))

    assert runs["enqueued"] == [("refresh_competition", [competition.pk])]
    warming.started(competition.pk)  # the worker takes it: the next change queues another
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 30, date(2025, 6, 30))
    assert runs["enqueued"] == [("refresh_competition", [competition.pk])] * 2


def test_no_rebuild_and_no_cdn_enqueue_nothing(competition, settings, runs, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = ""
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert runs["enqueued"] == []
    assert kept_board(competition) is None


def test_inline_rebuilds_before_returning_and_purges_in_a_task(
    competition, settings, runs, purged, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "inline"
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert kept_board(competition) is not None
    assert runs["finished"] == [("refresh_competition", [competition.pk], TaskResultStatus.SUCCESSFUL)]
    assert "http://localhost/comp/" in purged


def test_a_rolled_back_change_enqueues_nothing(competition, settings, runs, django_capture_on_commit_callbacks):
    from django.db import transaction

    settings.COMPETITION_REBUILD_BOARDS = "task"
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_submission(line_of("A"), 75, date(2025, 6, 30))
        raise RuntimeError("rolled back")

    assert runs["enqueued"] == []
    assert kept_board(competition) is None
    assert callbacks == []


def test_unpublishing_drops_stale_copies_before_the_refresh_runs(
    competition, settings, runs, django_capture_on_commit_callbacks
):
    """Unpublication invalidates with drop_stale at commit, in the request: no stale board is
    served meanwhile, whatever the queue does."""
    settings.COMPETITION_REBUILD_BOARDS = "task"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    scoreboard.get_board(competition, DAY)
    with django_capture_on_commit_callbacks(execute=True):
        TargetPage.objects.get(code="T2").unpublish()

    version, floor, entry = scoreboard.cache_state(competition.pk, scoreboard.board_key(competition, DAY))
    assert floor == version and entry[0] < floor  # the copy may not be served, not even stale
    assert [name for name, _args in runs["enqueued"]] == ["refresh_competition"]


def test_closing_judging_drops_stale_copies(competition, settings, runs, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    scoreboard.get_board(competition, DAY)
    competition = CompetitionPage.objects.get(pk=competition.pk)
    with django_capture_on_commit_callbacks(execute=True):
        competition.closed = True
        competition.save()

    version, floor, _entry = scoreboard.cache_state(competition.pk)
    assert floor == version


def test_an_ordinary_change_keeps_stale_copies_servable(competition, settings, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = ""
    scoreboard.get_board(competition, DAY)
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    version, floor, entry = scoreboard.cache_state(competition.pk, scoreboard.board_key(competition, DAY))
    assert entry[0] < version and entry[0] >= floor  # stale, served while its successor is computed


# --- The CDN -------------------------------------------------------------------------------------


def test_a_change_purges_every_public_url_of_the_competition(
    competition, settings, purged, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    base = "http://localhost/comp/"
    assert sorted(purged) == sorted(
        [
            base,
            *(base + name for name in ("scoreboard.json", "scoreboard.csv", "scoreboard.xlsx")),
            *(base + name for name in ("report/", "report.pdf", "awards.json", "awards.csv")),
            base + "target-t1/",
            base + "target-t2/",
            base + "agency-a/",
            base + "agency-b/",
            # Each agency's record of achievements shows its rank.
            "http://localhost/agencies/A/",
            "http://localhost/agencies/B/",
        ]
    )


def test_the_cdn_is_purged_after_the_boards_are_rebuilt(
    competition, settings, purged, monkeypatch, django_capture_on_commit_callbacks
):
    settings.COMPETITION_REBUILD_BOARDS = "task"
    order = []
    rebuild = warming.rebuild
    monkeypatch.setattr(warming, "rebuild", lambda pk: order.append("rebuild") or rebuild(pk))
    monkeypatch.setattr(RecordingBackend, "purge", lambda self, url: order.append("purge"))
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert order[0] == "rebuild" and set(order[1:]) == {"purge"} and len(order) == 1 + 14


def test_a_failed_rebuild_still_purges(competition, settings, purged, monkeypatch, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = "task"

    def fail(pk):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(warming, "rebuild", fail)
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert "http://localhost/comp/" in purged


def test_an_unpublished_competition_is_purged_too(competition, settings, purged, django_capture_on_commit_callbacks):
    settings.COMPETITION_REBUILD_BOARDS = ""
    with django_capture_on_commit_callbacks(execute=True):
        CompetitionPage.objects.get(pk=competition.pk).unpublish()

    assert "http://localhost/comp/scoreboard.json" in purged


def test_without_a_frontend_cache_nothing_is_purged(competition, settings):
    settings.WAGTAILFRONTENDCACHE = {}

    assert frontend.purge_competition(competition.pk) == 0
    assert refresh_competition.call(competition.pk, rebuild=False) == {"boards": [], "purged": 0}


def test_the_urls_of_a_national_competition_cost_two_queries(competition, django_assert_num_queries):
    page = CompetitionPage.objects.get(pk=competition.pk)
    page.get_full_url()  # the site's root paths, cached once per process

    with django_assert_num_queries(2):
        urls = frontend.public_urls(page)

    assert len(urls) == 1 + 7 + 4 + 2


# --- E-mails -------------------------------------------------------------------------------------


def test_the_remind_command_enqueues_with_a_worker_backend(settings, django_user_model):
    from competition.models import AgencyMembership

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    agency = AgencyFactory(code="R")
    for number in range(2):
        user = django_user_model.objects.create(username=f"editor{number}", email=f"e{number}@example.org")
        AgencyMembership.objects.create(user=user, agency=agency)
    out = StringIO()

    call_command("competition_remind", stdout=out)

    assert out.getvalue().strip() == "0 reminder(s) sent, 0 already sent today, 2 queued for the task workers"
    assert mail.outbox == []


def test_a_decision_e_mail_is_a_task_enqueued_on_commit(
    competition, runs, django_user_model, django_capture_on_commit_callbacks
):
    from competition.domain import evidence
    from competition.enums import SubmissionStatus
    from competition.models import AgencyMembership

    editor = django_user_model.objects.create(username="editor", email="editor@example.org")
    AgencyMembership.objects.create(user=editor, agency=line_of("A").commitment.agency)
    manager = django_user_model.objects.create(username="boss", is_superuser=True)
    submission = make_submission(line_of("A"), 75, date(2025, 6, 30), status=SubmissionStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        evidence.decide(submission, manager, "return", "Add the scan")
    assert runs["enqueued"] == [] and mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert ("send_decision_email", [submission.pk], TaskResultStatus.SUCCESSFUL) in runs["finished"]
    assert [message.to for message in mail.outbox] == [["editor@example.org"]]
    assert "Add the scan" in mail.outbox[0].body


def test_a_rolled_back_transaction_leaves_nothing_for_the_next_commit(
    transactional_db, django_db_serialized_rollback, competition, settings, runs
):
    """What a rolled-back transaction noted goes with it: the next commit refreshes only what it
    changed itself. (Real commits and a real rollback: transactional_db.)"""
    from django.db import transaction

    settings.COMPETITION_REBUILD_BOARDS = "task"
    other = make_competition(slug="other")
    make_commitment(other, AgencyFactory(code="O"), [make_target(other, code="T1")])
    runs["enqueued"].clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_submission(CommitmentLine.objects.get(commitment__agency__code="O"), 5, date(2025, 6, 30))
        raise RuntimeError("rolled back")

    with transaction.atomic():
        make_submission(line_of("A"), 75, date(2025, 6, 30))

    assert runs["enqueued"] == [("refresh_competition", [competition.pk])]
