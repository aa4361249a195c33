"""The rules of the competition's pages hold on every path Wagtail offers, not only the single
page screens: the page listing's bulk actions, the admin API's page actions
(`/admin/api/main/pages/<id>/action/<name>/`), the Copy screen and `Revision.publish()`. A
refused action changes nothing and says why; never a server error (docs/security.md)."""

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import Page

from competition.domain import evidence
from competition.domain.attachments import attach
from competition.models import Submission, TargetPage
from tests.factories import make_competition, make_target
from tests.security import PDF, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """tests.security's world (competition "safe": T1, agencies A and B committed, their editors,
    a manager of every competition, a reviewer, a superuser), with agency A's submitted value and
    its evidence file, and a second competition "other" with its target X1."""
    world = build_world()
    submission = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=40, created_by=world["editor_a"]
    )
    attach(submission, SimpleUploadedFile("a-evidence.pdf", PDF), world["editor_a"])
    evidence.submit(submission, world["editor_a"])
    other = make_competition(slug="other", title="Other competition")
    make_target(other, code="X1")
    world.update(submission=Submission.objects.get(pk=submission.pk), other=other)
    return world


def bulk_url(action, page):
    return reverse("wagtail_bulk_action", args=("wagtailcore", "page", action)) + f"?id={page.pk}"


def api_url(action, page):
    return reverse("wagtailadmin_api:pages:action", args=[page.pk, action])


# --- Moving targets and commitments ---------------------------------------------------------------


def move(client, page, destination, path):
    if path == "bulk":
        return client.post(bulk_url("move", page), {"chooser": destination.pk})
    body = {"destination_page_id": destination.pk, "position": "last-child"}
    return client.post(api_url("move", page), json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("path", ["bulk", "api"])
def test_a_target_with_reported_values_never_moves_to_another_competition(client, world, path):
    """docs/security.md: targets and commitments never move to another competition, for every
    role; the page listing's bulk "Move" and the admin API's `move` refuse it as the Move screen
    does (target T1 carries agency A's reported value; the manager manages both competitions)."""
    target, home = world["target"], world["competition"]
    client.force_login(world["manager"])
    client.raise_request_exception = False

    response = move(client, target, world["other"], path)

    assert Page.objects.get(pk=target.pk).get_parent().pk == home.pk, "T1 moved to competition 'other'"
    assert TargetPage.objects.get(pk=target.pk).competition_id == home.pk
    assert response.status_code < 500, f"server error {response.status_code}"
