"""Password guessing (django-axes, config/lockout.py): after five wrong passwords for one user
name from one address, both sign-in forms refuse that user name from that address, with the
right password too, for fifteen minutes after the last failure, and say so in the reader's
language; other users and other addresses are not affected; behind the reverse proxy the address
is the client's; an administrator lifts the lockout with a command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from config.lockout import client_ip
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.demo]  # the demo site's lockout (config/lockout.py)


def attempts():
    """django-axes' records (the demo's app: imported here, as the package's settings lack it)."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects


PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
LOCKED = "Too many failed sign-in attempts for this account from your network"


@pytest.fixture(autouse=True)
def lockout(settings):
    settings.AXES_ENABLED = True  # off in the other tests (config/settings/test.py)
    return settings


@pytest.fixture
def editor(db):
    from competition.domain.roles import EDITORS, ensure_roles

    user = UserFactory(username="editor.dost")
    user.groups.add(ensure_roles()[EDITORS])
    return user


FORMS = {"admin": "wagtailadmin_login", "private pages": "wagtailcore_login"}


def sign_in(client, form, username, password, address="203.0.113.7", **headers):
    return client.post(
        reverse(FORMS[form]), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("form", FORMS)
def test_five_wrong_passwords_lock_the_user_name_out_of_that_address(client, editor, form):
    wrong = [sign_in(client, form, "editor.dost", f"guess-{number}") for number in range(5)]
    right = sign_in(client, form, "editor.dost", PASSWORD)

    # The fifth failure already says so.
    assert [response.status_code for response in wrong] == [200] * 4 + [429]
    assert all(LOCKED not in response.content.decode() for response in wrong[:4])
    assert LOCKED in wrong[4].content.decode()
    assert right.status_code == 429
    content = right.content.decode()
    assert LOCKED in content and "Try again after" in content and "(in 15 minutes)" in content
    assert 'name="password"' in content  # the sign-in form again, with the reason
    assert not signed_in(client)


def test_the_time_to_try_again_does_not_move_with_further_tries(client, editor):
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")
    locked_at = attempts().get().attempt_time
    attempts().update(attempt_time=locked_at - timedelta(minutes=10))

    response = sign_in(client, "admin", "editor.dost", "guess-again")

    assert "(in 5 minutes)" in response.content.decode()
    # In the reader's time format ("1:13 p.m." in English: a 24-hour clock failed after noon).
    expected = date_format(timezone.localtime(locked_at - timedelta(minutes=10) + timedelta(minutes=15)), "TIME_FORMAT")
    assert f"Try again after {expected}" in response.content.decode()


def test_the_lockout_ends_after_the_cool_off(client, editor):
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")
    attempts().update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = sign_in(client, "admin", "editor.dost", PASSWORD)

    assert response.status_code == 302 and signed_in(client)


def test_other_addresses_and_other_users_are_not_locked_out(client, editor):
    UserFactory(username="editor.saigon")
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")

    other_address = sign_in(client, "admin", "editor.dost", PASSWORD, address="198.51.100.4")
    client.logout()
    other_user = sign_in(client, "admin", "editor.saigon", PASSWORD)

    assert other_address.status_code == 302
    assert other_user.status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, editor):
    for number in range(4):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")
    assert sign_in(client, "admin", "editor.dost", PASSWORD).status_code == 302
    client.logout()

    for number in range(4):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")

    assert sign_in(client, "admin", "editor.dost", PASSWORD).status_code == 302


def test_an_administrator_lifts_the_lockout_with_a_command(client, editor):
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")
    assert sign_in(client, "admin", "editor.dost", PASSWORD).status_code == 429

    call_command("axes_reset_username", "editor.dost", stdout=StringIO())

    assert sign_in(client, "admin", "editor.dost", PASSWORD).status_code == 302


def test_the_lockout_is_said_in_vietnamese(client, editor):
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}")

    response = sign_in(client, "admin", "editor.dost", PASSWORD, HTTP_ACCEPT_LANGUAGE="vi")

    content = response.content.decode()
    assert response.status_code == 429
    assert LOCKED not in content and "Thử lại sau" in content


def test_behind_the_proxy_each_client_address_counts_on_its_own(client, editor):
    for number in range(5):
        sign_in(client, "admin", "editor.dost", f"guess-{number}", address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1")

    locked = sign_in(client, "admin", "editor.dost", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1")
    # A client cannot escape by writing its own X-Forwarded-For: the proxy appends the real one.
    spoofed = sign_in(
        client, "admin", "editor.dost", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 10.1.1.1"
    )
    other = sign_in(client, "admin", "editor.dost", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.2.2.2")

    assert (locked.status_code, spoofed.status_code, other.status_code) == (429, 429, 302)
    assert set(attempts().values_list("ip_address", flat=True)) == {"10.1.1.1"}


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.7", "", ["127.0.0.1"], "203.0.113.7"),
        # Not from a trusted proxy: the header is the client's own words.
        ("203.0.113.7", "10.0.0.1", ["127.0.0.1"], "203.0.113.7"),
        ("127.0.0.1", "198.51.100.2", ["127.0.0.1"], "198.51.100.2"),
        ("127.0.0.1", "1.1.1.1, 198.51.100.2", ["127.0.0.1"], "198.51.100.2"),
        # Two proxies: the load balancer's address is skipped too.
        ("127.0.0.1", "1.1.1.1, 198.51.100.2, 10.0.0.5", ["127.0.0.1", "10.0.0.5"], "198.51.100.2"),
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
        ("10.0.0.5", "198.51.100.2", ["*"], "198.51.100.2"),
    ],
)
def test_client_ip(settings, remote, forwarded, trusted, expected):
    settings.FORWARDED_ALLOW_IPS = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
