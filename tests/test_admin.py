"""The Wagtail admin screens of this issue: agency snippets and the page editor of targets."""

import pytest
from django.urls import reverse
from wagtail.models import Page

from competition.domain.roles import MANAGERS, ensure_roles
from competition.models import Agency, TargetPage
from tests.factories import UserFactory, make_competition

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    groups = ensure_roles()
    user = UserFactory(username="manager")
    user.groups.add(groups[MANAGERS])
    return user


def test_agency_listing_searches_code_and_name(client, manager):
    Agency.objects.create(code="26734", name="Sài Gòn Ward")
    Agency.objects.create(code="HCMC-DOST", name="Department of Science and Technology")
    client.force_login(manager)

    response = client.get(reverse("wagtailsnippets_competition_agency:list"), {"q": "Sài"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "26734" in content and "HCMC-DOST" not in content


def test_manager_adds_a_target_in_the_page_editor(client, manager):
    competition = make_competition(slug="edit")
    client.force_login(manager)
    url = reverse("wagtailadmin_pages:add", args=("competition", "targetpage", competition.pk))
    data = {
        "title": "Online procedures",
        "slug": "target-t1",
        "code": "T1",
        "unit": "percent",
        "direction": "higher",
        "baseline": "40",
        "target_value": "100",
        "max_points": "20",
        "deadline": "",
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "1000",
        "milestones-0-date": "2025-06-30",
        "milestones-0-value": "80",
        "milestones-0-ORDER": "1",
        "milestones-0-id": "",
        "milestones-0-DELETE": "",
        "action-publish": "publish",
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    target = TargetPage.objects.get(code="T1")
    assert target.live and target.competition_id == competition.pk
    assert [(m.date.isoformat(), int(m.value)) for m in target.milestones.all()] == [("2025-06-30", 80)]


def test_page_editor_refuses_values_the_unit_cannot_take(client, manager):
    competition = make_competition(slug="edit2")
    client.force_login(manager)
    url = reverse("wagtailadmin_pages:add", args=("competition", "targetpage", competition.pk))

    response = client.post(
        url,
        {
            "title": "Bad",
            "slug": "bad",
            "code": "T1",
            "unit": "percent",
            "direction": "higher",
            "baseline": "40",
            "target_value": "140",
            "max_points": "20",
            "milestones-TOTAL_FORMS": "0",
            "milestones-INITIAL_FORMS": "0",
            "action-publish": "publish",
        },
    )

    assert response.status_code == 200
    assert "between 0 and 100" in response.content.decode()
    assert not TargetPage.objects.exists()


def test_targets_may_only_live_under_a_competition():
    home = Page.objects.get(depth=2)

    assert not TargetPage.can_create_at(home)


def test_page_editor_refuses_milestones_outside_the_period(client, manager):
    competition = make_competition(slug="edit3")
    client.force_login(manager)
    url = reverse("wagtailadmin_pages:add", args=("competition", "targetpage", competition.pk))

    response = client.post(
        url,
        {
            "title": "Late milestone",
            "slug": "late",
            "code": "T1",
            "unit": "percent",
            "direction": "higher",
            "baseline": "40",
            "target_value": "100",
            "max_points": "20",
            "milestones-TOTAL_FORMS": "1",
            "milestones-INITIAL_FORMS": "0",
            "milestones-0-date": "2026-03-31",
            "milestones-0-value": "180",
            "milestones-0-ORDER": "1",
            "action-publish": "publish",
        },
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "outside the competition period" in content and "between 0 and 100" in content
    assert not TargetPage.objects.exists()
