"""An import confirmed in the admin runs as a task (competition.tasks.run_import_job): its page
shows the rows done of all rows while a worker imports it, then the result; only the manager who
confirmed it sees it; a file imports once; nothing is written when a row is refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks import TaskResultStatus, task_backends
from django_tasks.signals import task_finished

from competition.domain import import_jobs
from competition.domain.roles import MANAGERS, ensure_roles
from competition.models import Adjustment, Agency, ImportRecord
from competition.tasks import run_import_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADJUSTMENTS = "agency,points,reason\nA,1,Open data\nB,-1,Late\n"


@pytest.fixture
def manager(worked):
    user = UserFactory(username="boss")
    user.groups.add(ensure_roles()[MANAGERS])
    return user


@pytest.fixture
def queued(settings):
    """Tasks wait, as for the task workers of production: the test runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]
    backend.clear()
    return backend.results


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a request enqueues on commit (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def confirm(client, committed, text=ADJUSTMENTS, kind="adjustments"):
    preview = client.post(
        reverse("competition_import"),
        {"kind": kind, "competition": "worked", "import_file": SimpleUploadedFile(f"{kind}.csv", text.encode())},
    )
    assert preview.context["report"].ok, preview.context["report"].errors
    with committed():
        return client.post(
            reverse("competition_import_confirm"),
            {"token": preview.context["token"], "kind": kind, "competition": "worked", "file_name": f"{kind}.csv"},
        )


def test_a_confirmed_import_runs_as_a_task_and_its_page_shows_the_result(client, manager, committed):
    client.force_login(manager)
    finished = []

    def note(sender, task_result, **kwargs):
        finished.append((task_result.task.name, task_result.status))

    task_finished.connect(note)
    try:
        response = confirm(client, committed)
    finally:
        task_finished.disconnect(note)

    assert ("run_import_job", TaskResultStatus.SUCCESSFUL) in finished
    assert Adjustment.objects.filter(reason__in=["Open data", "Late"]).count() == 2
    assert ImportRecord.objects.get(user=manager).created == 2
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Imported: 2 created, 0 updated, 0 unchanged." in page.content.decode()
    assert "Refresh" not in page  # finished: nothing more to wait for


def test_the_page_shows_the_rows_done_while_a_worker_imports(client, manager, committed, queued, monkeypatch):
    client.force_login(manager)
    response = confirm(client, committed)
    job_url = response["Location"]

    waiting = client.get(job_url)
    assert "Waiting for a task worker" in waiting.content.decode()
    assert waiting["Refresh"] == "2"  # asks again, without JavaScript
    assert Adjustment.objects.filter(reason="Open data").count() == 0

    # The worker runs the task; half-way through, the page shows the rows done of all rows.
    (result,) = queued
    seen = []
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 0)
    save = import_jobs._save

    def saved(job_id, state):
        save(job_id, state)
        if state["state"] == import_jobs.RUNNING and state["done"] == 1:
            seen.append(client.get(job_url))

    monkeypatch.setattr(import_jobs, "_save", saved)
    outcome = run_import_job.call(*result.args)

    assert outcome == {"state": "done", "created": 2, "updated": 0, "unchanged": 0, "errors": []}
    (running,) = seen
    content = running.content.decode()
    assert "1 of 2 rows imported" in content
    assert '<progress id="import-progress" max="2" value="1">50%</progress>' in content
    assert running["Refresh"] == "2"
    done = client.get(job_url)
    assert "Imported: 2 created, 0 updated, 0 unchanged." in done.content.decode()
    assert "Refresh" not in done


def test_a_row_refused_when_the_worker_runs_writes_nothing_and_is_shown(client, manager, committed, queued):
    client.force_login(manager)
    response = confirm(client, committed, "agency,points,reason\nA,1,Open data\nB,-1,Late\n")
    (result,) = queued
    Agency.objects.filter(code="B").update(code="B-renamed")  # the data changed since the preview

    outcome = run_import_job.call(*result.args)

    assert outcome["state"] == "failed" and outcome["errors"]
    assert not Adjustment.objects.filter(reason__in=["Open data", "Late"]).exists()
    content = client.get(response["Location"]).content.decode()
    assert "Nothing was imported:" in content
    assert "row 2, column agency" in content


def test_a_file_imports_once_however_often_it_is_confirmed(client, manager, committed, queued):
    client.force_login(manager)
    preview = client.post(
        reverse("competition_import"),
        {
            "kind": "adjustments",
            "competition": "worked",
            "import_file": SimpleUploadedFile("a.csv", ADJUSTMENTS.encode()),
        },
    )
    data = {"token": preview.context["token"], "kind": "adjustments", "competition": "worked"}

    with committed():
        first = client.post(reverse("competition_import_confirm"), data)
        second = client.post(reverse("competition_import_confirm"), data, follow=True)

    assert first["Location"].startswith("/admin/competition-import/jobs/")
    assert "This file is being imported already." in second.content.decode()
    assert len(queued) == 1


def test_only_the_manager_who_confirmed_it_sees_an_import(client, manager, committed, queued):
    client.force_login(manager)
    job_url = confirm(client, committed)["Location"]
    other = UserFactory(username="other-manager")
    other.groups.add(ensure_roles()[MANAGERS])
    superuser = UserFactory(username="root", is_superuser=True)

    client.force_login(other)
    assert client.get(job_url).status_code == 404
    client.force_login(superuser)
    assert client.get(job_url).status_code == 200


def test_an_unknown_or_forgotten_import_says_so(client, manager):
    client.force_login(manager)

    response = client.get(reverse("competition_import_job", args=["0" * 32]))

    assert response.status_code == 200
    assert "This import is not known" in response.content.decode()
    assert client.get(reverse("competition_import_job", args=["not-a-job"])).status_code == 404


def test_the_progress_page_in_vietnamese(client, manager, committed, queued):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(manager)
    profile.preferred_language = "vi"
    profile.save()
    client.force_login(manager)
    job_url = confirm(client, committed)["Location"]

    content = client.get(job_url).content.decode()

    assert "Đang chờ tiến trình xử lý nền bắt đầu nhập." in content
    assert "Nhập tệp khác" in content
