import os
from pathlib import Path

import pytest

WORKED = Path(__file__).resolve().parent.parent.parent / "shared" / "examples" / "worked"
IMPORT_ORDER = ["agencies", "competitions", "targets", "commitments", "jurors", "values", "scores", "adjustments"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def worked_dir():
    if not WORKED.is_dir():
        pytest.fail(f"the worked example is missing at {WORKED}: clone shared/ beside the project")
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


@pytest.fixture
def worked(db, worked_dir):
    """The worked example of SCORING.md imported through the command."""
    from tests.helpers import call_import

    for kind in IMPORT_ORDER:
        code, output = call_import(kind, worked_dir / f"{kind}.csv")
        assert code == 0, output
    from competition.models import CompetitionPage

    return CompetitionPage.objects.get(slug="worked")


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
