"""The order the suite runs in (tests/conftest.py): the shared worked example of a module is
imported before any transactional test's flush empties the database of that process."""

import pytest
from django.contrib.auth.models import Group

from tests import conftest


class Item:
    """What the ordering reads of a collected test."""

    cls = None

    def __init__(self, nodeid, module, fixtures=("db",), marker=None, slow=False):
        self.nodeid = nodeid
        self.module = module
        self.fixturenames = list(fixtures)
        self.marker = marker
        self.slow = slow

    def get_closest_marker(self, name):
        if name == "slow":
            return pytest.mark.slow.mark if self.slow else None
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


def test_modules_with_a_slow_test_run_first_in_their_group_and_first_of_all_without_the_database():
    plain_a = Item("a::plain", "a")
    flushing_a = Item("a::flushing", "a", ("transactional_db",))
    worked_b = Item("b::worked", "b", ("worked", "_worked_module", "db"))
    plain_b = Item("b::plain", "b")
    slow_c = Item("c::slow", "c", slow=True)
    flushing_c = Item("c::flushing", "c", ("transactional_db",))
    no_database_c = Item("c::no_database", "c", ())
    no_database_d = Item("d::no_database", "d", ())
    slow_e = Item("e::slow", "e", (), slow=True)
    items = [plain_a, flushing_a, worked_b, plain_b, slow_c, flushing_c, no_database_c, no_database_d, slow_e]

    conftest.share_worked_per_module(items)

    # The modules with a slow test first in each group, and those of their tests that need no
    # database first of all; a transactional test still never comes before a rolled-back one.
    assert items == [
        no_database_c,
        slow_e,
        slow_c,
        plain_a,
        plain_b,
        worked_b,
        flushing_c,
        flushing_a,
        no_database_d,
    ]


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
