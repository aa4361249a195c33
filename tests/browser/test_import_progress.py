"""A large admin import in a real browser: the manager previews and confirms a file; while a task
worker imports it, the job's page shows the rows done of all rows and asks again by itself
(without JavaScript), then shows the result; axe finds nothing on it; screenshots in English and
Vietnamese, on a desktop and a phone."""

from django_tasks.signals import task_enqueued
from playwright.sync_api import expect

from competition.domain import import_jobs
from competition.domain.roles import MANAGERS, ensure_roles
from competition.models import Adjustment
from competition.tasks import run_import_job
from tests.browser.conftest import axe_violations, browser_marks, describe, set_admin_language
from tests.factories import UserFactory

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ADJUSTMENTS = b"agency,points,reason\nA,1,Open data\nB,-1,Late\n"


def test_a_large_import_shows_its_progress_then_its_result(
    site, worked_committed, settings, monkeypatch, screenshot, request
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # a worker's queue
    queue = []

    def note(sender, task_result, **kwargs):
        queue.append(task_result)

    task_enqueued.connect(note)  # enqueued by the live server's thread
    request.addfinalizer(lambda: task_enqueued.disconnect(note))
    manager = UserFactory(username="boss")
    manager.groups.add(ensure_roles()[MANAGERS])
    page = site.login(manager)
    page.goto("/admin/competition-import/")
    page.get_by_label("What the file holds").select_option("adjustments")
    page.get_by_label("Competition", exact=True).select_option("worked")
    page.get_by_label("File (.csv, .xlsx or .json)").set_input_files(
        {"name": "adjustments.csv", "mimeType": "text/csv", "buffer": ADJUSTMENTS}
    )
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Confirm the import").click()

    expect(page.get_by_text("Waiting for a task worker to start the import.")).to_be_visible()
    (queued,) = queue

    # The worker imports; half-way through, the page (which asks again every 2 s) shows it.
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 0)
    save = import_jobs._save

    def saved(job_id, state):
        save(job_id, state)
        if state["state"] == import_jobs.RUNNING and state["done"] == 1:
            expect(page.get_by_text("1 of 2 rows imported")).to_be_visible(timeout=10_000)
            expect(page.locator("progress#import-progress")).to_have_attribute("value", "1")
            screenshot(page, "admin-import-progress-en")
            page.set_viewport_size(PHONE)
            screenshot(page, "admin-import-progress-phone-en")
            page.set_viewport_size(DESKTOP)

    monkeypatch.setattr(import_jobs, "_save", saved)
    run_import_job.call(*queued.args)

    expect(page.get_by_text("Imported: 2 created, 0 updated, 0 unchanged.")).to_be_visible(timeout=10_000)
    assert Adjustment.objects.filter(reason__in=["Open data", "Late"]).count() == 2
    violations = axe_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "admin-import-done-en")

    set_admin_language(manager, "vi")
    page.reload()
    expect(page.get_by_text("Đã nhập: tạo mới 2, cập nhật 0, giữ nguyên 0.")).to_be_visible()
    screenshot(page, "admin-import-done-vi")
    page.set_viewport_size(PHONE)
    screenshot(page, "admin-import-done-phone-vi")
