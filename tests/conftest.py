import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

# The worked example of docs/scoring.md as import files.
WORKED = Path(__file__).resolve().parent / "data" / "worked"
IMPORT_ORDER = ["agencies", "competitions", "targets", "commitments", "jurors", "values", "scores", "adjustments"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# The fixtures that give a test the database (pytest-django's, and the live server's).
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def uses_database(item):
    return bool(item.get_closest_marker("django_db")) or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def transactional(item):
    """Whether the test gets a transactional database (pytest-django's rules)."""
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        from pytest_django.fixtures import validate_django_db

        transaction, reset_sequences, _databases, serialized_rollback, _apps = validate_django_db(marker)
        if transaction or reset_sequences or serialized_rollback:
            return True
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & (DATABASE_FIXTURES - {"db"}))


def django_order(item):
    """pytest-django's group of a test (its `pytest_collection_modifyitems`, 4.14): 0 for a test
    in a transaction rolled back after it, 1 for a transactional test (its flush empties the
    database after it), 2 for a test without the database."""
    from django.test import TestCase, TransactionTestCase
    from pytest_django.fixtures import validate_django_db

    cls = getattr(item, "cls", None)
    if cls and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    if marker is not None:
        transaction, reset_sequences, _databases, _serialized_rollback, _apps = validate_django_db(marker)
        if transaction or reset_sequences:
            return 1
    if "transactional_db" in names or "live_server" in names:
        return 1
    return 0 if marker is not None or "db" in names else 2


def share_worked_per_module(items):
    """Within each of pytest-django's groups (`django_order`: the tests rolled back, then the
    transactional ones, whose flush empties the database after them, then those without it), run
    a module's tests together, those that use the shared worked example (`worked`) after the
    module's others: the module's transaction holding it stays open from the first of them to the
    module's end, and no other test may see its rows. pytest-django's group stays the first key, so
    that in each process (xdist sends every worker its tests in this order) no flush comes before
    a module's import of the worked example. It runs last (trylast): pytest's own reordering by
    fixture parameters, after pytest-django's sort, can move tests across its groups. The order is
    otherwise kept, but for the modules holding a test marked `slow` (tens of seconds or more),
    which run first in their group, and first of all when they need no database: xdist deals the
    tests out one at a time (the Makefile's `--maxschedchunk 1`), so a long test started early is
    balanced by the other worker's many short ones, while one left near the end of a pass ran on
    alone (docs/testing.md)."""
    for item in items:
        if "worked" in getattr(item, "fixturenames", ()) and transactional(item):
            raise pytest.UsageError(
                f"{item.nodeid}: a test with a transactional database uses `worked_committed`, not `worked`"
            )
    from pytest_django.plugin import pytest_collection_modifyitems as django_sort

    theirs = list(items)
    django_sort(theirs)
    groups = [django_order(item) for item in theirs]
    if groups != sorted(groups):
        raise pytest.UsageError("tests/conftest.py: `django_order` no longer matches pytest-django's own sort")
    first = {}
    for item in items:
        first.setdefault(getattr(item, "module", None), len(first))
    slow = {getattr(item, "module", None) for item in items if item.get_closest_marker("slow")}

    def group(item):
        order = django_order(item)
        # A long test without the database first of all (`slow_first`).
        return -1 if order == 2 and getattr(item, "module", None) in slow else order

    items.sort(
        key=lambda item: (
            group(item),
            getattr(item, "module", None) not in slow,
            first[getattr(item, "module", None)],
            "worked" in getattr(item, "fixturenames", ()),
        )
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under the package's own test settings (tests/settings.py, tox.ini) the demo site is absent:
    its tests are skipped, the package's all run.

    `make test` runs the suite on SQLite, then again on PostgreSQL with
    COMPETITION_TESTS_DATABASE_ONLY set: the second pass leaves out the tests that never touch the
    database (the scoring rules, settings, static files...), whose outcome cannot depend on it."""
    from django.conf import settings

    if os.environ.get("COMPETITION_TESTS_DATABASE_ONLY"):
        without = [item for item in items if not uses_database(item)]
        if without:
            config.hook.pytest_deselected(items=without)
            items[:] = [item for item in items if uses_database(item)]
    share_worked_per_module(items)
    if "home" in settings.INSTALLED_APPS:
        return
    skip = pytest.mark.skip(reason="a test of the demo site; run by `make test`")
    for item in items:
        if item.get_closest_marker("demo"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _no_reference_index():
    """Wagtail's reference index (the "Usage" of pages and snippets) is updated by a task after
    every save, a tenth of the time of saving a page; no test reads it, so the tests save
    without it (the site keeps it up to date as usual)."""
    from wagtail.signal_handlers import disable_reference_index_auto_update

    with disable_reference_index_auto_update():
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test ends with the default language active again: the language a request activates
    (the user's admin language, Accept-Language) stays active in the thread after it, and a test
    run after one in Vietnamese in the same worker would read Vietnamese messages."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def worked_dir():
    return WORKED


@pytest.fixture
def import_file(tmp_path):
    """Write rows (a header line and data lines) to a CSV and import it; return (exit code, output)."""
    from tests.helpers import call_import

    def run(kind, text, *args, name=None):
        path = tmp_path / (name or f"{kind}.csv")
        path.write_text(text, encoding="utf-8")
        return call_import(kind, path, *args)

    return run


def import_worked(worked_dir):
    """Import the worked example of docs/scoring.md through the command."""
    from tests.helpers import call_import

    for kind in IMPORT_ORDER:
        code, output = call_import(kind, worked_dir / f"{kind}.csv")
        assert code == 0, output
    from competition.models import CompetitionPage

    return CompetitionPage.objects.get(slug="worked")


# The open transaction of the module that holds the shared worked example (`_worked_module`):
# (its atomic block, pytest-django's blocker), while it is open.
WORKED_OPEN = []


def migrated_rows_missing():
    """What the migrations created and the worked example's tests need, if a flush removed it:
    Wagtail's default site with its root page, the Editors and Moderators groups."""
    from django.contrib.auth.models import Group
    from wagtail.models import Site

    missing = []
    if not Site.objects.filter(is_default_site=True, root_page__isnull=False).exists():
        missing.append("the default site and its root page")
    if Group.objects.filter(name__in=("Editors", "Moderators")).count() != 2:
        missing.append("the Editors and Moderators groups")
    return missing


def end_worked_module():
    """Roll back the module's transaction holding the worked example, if it is open."""
    from django.db import transaction

    while WORKED_OPEN:
        atomic, blocker = WORKED_OPEN.pop()
        with blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test that does not use `worked` never runs inside the module's transaction holding it.
    pytest ends that transaction at the module's end; xdist may send a worker the module's
    transactional tests right after the module's tests that use `worked` (the last module of
    pytest-django's first group), and those would see the rows and commit nothing."""
    if WORKED_OPEN and "worked" not in getattr(item, "fixturenames", ()):
        end_worked_module()


@pytest.fixture(scope="module")
def _worked_module(django_db_setup, django_db_blocker):
    """The worked example imported once for the tests of a module that use `worked`, inside a
    transaction rolled back at the module's end; each test runs in a savepoint of it (pytest-django's
    `db`), rolled back after the test, so every test starts from the same freshly imported rows.
    Importing it took 1.5 to 3 s, and some 240 tests of each pass of `make test` use it
    (docs/testing.md). The tests of a module that use it run after the module's other tests, and
    before every transactional test, whose flush would remove what the migrations created
    (`share_worked_per_module`); should one have run first, this fails instead of importing into
    an emptied database."""
    from django.db import transaction

    with django_db_blocker.unblock():
        missing = migrated_rows_missing()
        if missing:
            pytest.fail(
                f"The test database lacks {' and '.join(missing)}: a transactional test's flush ran "
                "before this module's worked example (tests/conftest.py, share_worked_per_module)"
            )
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            import_worked(WORKED)
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    WORKED_OPEN.append((atomic, django_db_blocker))
    yield
    end_worked_module()


@pytest.fixture
def worked(_worked_module, db):
    """The worked example of docs/scoring.md imported through the command (shared by the module's
    tests: `_worked_module`). Tests with a transactional database use `worked_committed`."""
    from competition.models import CompetitionPage

    if not WORKED_OPEN:
        pytest.fail("`worked` after a test of its module that does not use it (tests/conftest.py)")
    return CompetitionPage.objects.get(slug="worked")


@pytest.fixture
def worked_committed(transactional_db, worked_dir):
    """The worked example imported for this test alone, committed: for tests with a transactional
    database (a live server, another process), which cannot run inside the module's transaction."""
    return import_worked(worked_dir)


@pytest.fixture
def worked_closed(worked, worked_dir):
    """The worked example once `competitions-closed.csv` has closed judging: the jury's points
    are public."""
    from tests.helpers import call_import

    code, output = call_import("competitions", worked_dir / "competitions-closed.csv")
    assert code == 0, output
    worked.refresh_from_db()
    assert worked.closed
    return worked


def pytest_terminal_summary(terminalreporter):
    """Say how many cases the permission matrix checked, when it ran."""
    ran = {
        report.nodeid
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if report.when == "call" and "test_permission_matrix.py::test_permission_matrix[" in report.nodeid
    }
    if ran:
        from tests.test_permission_matrix import build_cases

        terminalreporter.write_line(f"permission matrix: {len(build_cases()) * len(ran)} cases in {len(ran)} roles")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The URL of a throw-away Redis on the loopback: Debian's redis-server, as in production
    (`make test` installs it when missing)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: install Debian's redis-server package (make redis)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """`redis_server`, emptied for the test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server
