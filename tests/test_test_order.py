"""The order the suite runs in (tests/conftest.py): the shared worked example of a module is
imported before any transactional test's flush empties the database of that process."""

import pytest
from django.contrib.auth.models import Group

from tests import conftest


class Item:
    """What the ordering reads of a collected test."""

    cls = None

    def __init__(self, nodeid, module, fixtures=("db",), marker=None):
        self.nodeid = nodeid
        self.module = module
        self.fixturenames = list(fixtures)
        self.marker = marker

    def get_closest_marker(self, name):
        return self.marker if name == "django_db" else None

    def __repr__(self):
        return self.nodeid


def test_transactional_tests_of_an_earlier_module_run_after_the_worked_example_of_a_later_one():
    flushing = Item("a::flushing", "a", ("transactional_db",), pytest.mark.django_db(transaction=True).mark)
    live = Item("a::live", "a", ("live_server", "transactional_db"))
    plain_a = Item("a::plain", "a")
    worked_b = Item("b::worked", "b", ("worked", "_worked_module", "db"))
    plain_b = Item("b::plain", "b")
    no_database = Item("a::no_database", "a", ())
    worked_c = Item("c::worked", "c", ("worked_closed", "worked", "_worked_module", "db"))
    items = [flushing, no_database, plain_a, live, worked_b, plain_b, worked_c]

    conftest.share_worked_per_module(items)

    # pytest-django's groups first (rolled back, transactional, no database), then the module,
    # then the tests that use the worked example last in their module.
    assert items == [plain_a, plain_b, worked_b, worked_c, flushing, live, no_database]


def test_a_transactional_test_may_not_use_the_shared_worked_example():
    items = [Item("a::live", "a", ("worked", "_worked_module", "db", "live_server", "transactional_db"))]

    with pytest.raises(pytest.UsageError, match="worked_committed"):
        conftest.share_worked_per_module(items)


@pytest.mark.django_db
def test_a_flushed_database_is_noticed_before_the_worked_example_is_imported():
    from wagtail.models import Site

    assert conftest.migrated_rows_missing() == []

    Group.objects.filter(name="Moderators").delete()
    assert conftest.migrated_rows_missing() == ["the Editors and Moderators groups"]

    Site.objects.all().delete()
    assert conftest.migrated_rows_missing() == [
        "the default site and its root page",
        "the Editors and Moderators groups",
    ]


@pytest.mark.django_db
def test_a_test_without_the_worked_example_ends_the_modules_transaction_holding_it(django_db_blocker):
    from django.db import connection, transaction

    depth = len(connection.savepoint_ids)
    atomic = transaction.atomic()
    atomic.__enter__()
    Group.objects.create(name="Inside the module's transaction")
    conftest.WORKED_OPEN.append((atomic, django_db_blocker))
    try:
        conftest.pytest_runtest_setup(Item("a::worked", "a", ("worked", "_worked_module", "db")))
        assert len(conftest.WORKED_OPEN) == 1
        assert conftest.WORKED_OPEN[0][0] is atomic

        conftest.pytest_runtest_setup(Item("a::live", "a", ("live_server", "transactional_db")))

        assert conftest.WORKED_OPEN == []
        assert len(connection.savepoint_ids) == depth
        assert not Group.objects.filter(name="Inside the module's transaction").exists()
    finally:
        conftest.end_worked_module()
