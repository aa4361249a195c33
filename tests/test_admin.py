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


@pytest.fixture
def draft_world():
    from wagtail.search.backends import get_search_backend

    from tests.factories import make_target
    from tests.security import build_world

    world = build_world()
    draft = make_competition(slug="secret", title="Secret draft plan", publish=False)
    world["draft"] = draft
    world["draft_target"] = make_target(draft, code="S1", title="Secret target")
    backend = get_search_backend()  # the tests' search index is not kept up to date on save
    for page in (world["competition"], draft, world["draft_target"]):
        backend.add(page)
    return world


def chooser_views(client, world):
    """What the page chooser and the submission listing's filter show, as one text, and the
    statuses of the chooser's views that name the hidden pages by id."""
    site_root = world["competition"].get_parent()
    draft, target = world["draft"], world["draft_target"]
    texts = [
        client.get(reverse("wagtailadmin_choose_page_child", args=[site_root.pk])).content.decode(),
        client.get(reverse("wagtailadmin_choose_page_search"), {"q": "Secret"}).content.decode(),
        client.get(reverse("wagtailadmin_choose_page_search"), {"q": "Secret target"}).content.decode(),
        client.get(reverse("wagtailsnippets_competition_submission:list")).content.decode(),
    ]
    statuses = [
        client.get(reverse("wagtailadmin_choose_page_child", args=[draft.pk])).status_code,
        client.get(reverse("wagtailadmin_choose_page_child", args=[target.pk])).status_code,
        client.get(reverse("wagtailadmin_choose_page_chosen_multiple"), {"id": [draft.pk]}).status_code,
        client.get(reverse("wagtailadmin_choose_page_chosen_multiple"), {"id": [target.pk]}).status_code,
    ]
    return "\n".join(texts), statuses


@pytest.mark.parametrize("name", ["editor_a", "reviewer"])
def test_unpublished_competitions_are_hidden_from_those_who_may_not_see_them(client, draft_world, name):
    client.force_login(draft_world[name])

    shown, statuses = chooser_views(client, draft_world)

    assert "Secret" not in shown
    assert statuses == [404, 404, 404, 404]
    if name == "editor_a":
        assert "Safe" in shown  # the published competition is still offered


@pytest.mark.parametrize("name", ["manager", "superuser"])
def test_unpublished_competitions_show_to_those_with_page_permissions(client, draft_world, name):
    client.force_login(draft_world[name])

    shown, statuses = chooser_views(client, draft_world)

    assert "Secret draft plan" in shown and "Secret target" in shown
    assert statuses == [200, 200, 200, 200]


def test_the_system_check_asks_for_the_page_chooser_middleware(settings):
    from competition.checks import check_evidence_download_middleware

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("PageChooserMiddleware")]
    assert [warning.id for warning in check_evidence_download_middleware(None)] == ["competition.W003"]


@pytest.mark.parametrize("model", ["juror", "adjustment", "reviewpanel", "feedtoken"])
def test_the_competition_filter_of_a_listing_names_no_competition_hidden_from_the_user(client, model):
    """A manager of one competition only opens a listing with a filter by competition: an
    unpublished competition they hold no permission on is not among its choices (Wagtail's
    `list_filter` offered every competition page); their own competition is."""
    from tests.factories import manager_of

    mine = make_competition(slug="mine", title="My competition")
    make_competition(slug="secret", title="Secret draft plan", publish=False)
    client.force_login(manager_of(mine, "manager-of-mine"))

    response = client.get(reverse(f"wagtailsnippets_competition_{model}:list"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "My competition" in content
    assert "Secret draft plan" not in content


@pytest.fixture
def scored_world():
    """tests.security's world with a submission of agency A scored by the reviewer (a juror)."""
    from datetime import date

    from competition.domain import jury
    from competition.models import Submission
    from tests.security import build_world

    world = build_world()
    submission = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=40, created_by=world["editor_a"]
    )
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    jury.record_score(Submission.objects.get(pk=submission.pk), world["reviewer"], 1)
    return world


def test_a_bulk_deletion_stopped_by_rows_that_refer_to_a_chosen_item_deletes_nothing_and_says_why(client, scored_world):
    """The listing's bulk Delete of two jurors, one of whom has scored: the database refuses to
    delete the one scores refer to, so nothing is deleted (not even the other juror), and the
    manager reads why, as on the single delete screen, instead of a server error."""
    from competition.models import Juror

    idle = Juror.objects.create(competition=scored_world["competition"], user=UserFactory(username="idle"))
    chosen = [scored_world["juror"].pk, idle.pk]
    client.force_login(scored_world["manager"])
    url = reverse("wagtail_bulk_action", args=("competition", "juror", "delete"))
    listing = reverse("wagtailsnippets_competition_juror:list")

    response = client.post(f"{url}?next={listing}&id={chosen[0]}&id={chosen[1]}", {}, follow=True)

    assert response.redirect_chain == [(listing, 302)]
    assert Juror.objects.filter(pk__in=chosen).count() == 2
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Nothing was deleted: jury scores still refer to some of the chosen items."], shown


def test_the_page_types_usage_report_names_no_page_hidden_from_the_user(client):
    """Reports > Page types usage names, for each page type, the page of that type edited last: a
    manager of one competition only is never shown the title of another, unpublished competition
    (or of a page below it); a superuser is."""
    from tests.factories import make_target, manager_of

    mine = make_competition(slug="mine", title="My competition")
    secret = make_competition(slug="secret", title="Secret draft plan", publish=False)
    make_target(secret, code="S1", title="Secret target")
    secret.save_revision()  # the competition page edited last
    url = reverse("wagtailadmin_reports:page_types_usage")
    client.force_login(manager_of(mine, "manager-of-mine"))

    content = client.get(url).content.decode()

    assert "Secret" not in content
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert "Secret draft plan" in client.get(url).content.decode()


@pytest.mark.parametrize("model", ["juror", "reviewpanel", "adjustment", "feedtoken", "submission"])
@pytest.mark.parametrize("competition", ["99999999999999999999", "abc", "-1"])
def test_a_listing_filtered_by_a_competition_id_that_names_none_answers(client, model, competition):
    """An old or mistyped link filters a listing by a competition id no database integer holds
    (?competition=99999999999999999999; SQLite's driver raised OverflowError, a 500): the listing
    answers, the filter refused as an unknown choice."""
    from tests.security import build_world

    world = build_world()
    client.force_login(world["superuser"])
    name = "line__commitment__competition" if model == "submission" else "competition"

    response = client.get(reverse(f"wagtailsnippets_competition_{model}:list"), {name: competition})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "name", "key"),
    [
        ("get", "submit", "abc"),
        ("post", "decide", "abc"),
        ("get", "submit", "99999999999999999999"),
        ("post", "decide", "99999999999999999999"),
        ("get", "edit", "99999999999999999999"),
        ("get", "inspect", "99999999999999999999"),
    ],
)
def test_a_submission_address_with_a_key_that_is_not_an_id_answers_404(client, method, name, key):
    """.../submission/submit/abc/ (a mangled link from an e-mail or a bookmark) is a 404, as for an
    id that does not exist, not a 500 (get_object_or_404 passed the text to the database); so is
    an id no database integer holds (SQLite's driver raised OverflowError)."""
    from tests.security import build_world

    world = build_world()
    client.force_login(world["superuser"])
    url = f"/admin/snippets/competition/submission/{name}/{key}/"

    response = getattr(client, method)(url)

    assert response.status_code == 404


def test_the_page_chooser_answers_an_id_no_database_integer_holds(client):
    """The page chooser's "chosen" address with ?id=99999999999999999999 (an edited link): no
    page has that id: a 404, not a server error (SQLite's driver raised OverflowError, in the
    check that hides unpublished competitions and in Wagtail's view)."""
    from tests.security import build_world

    world = build_world()
    client.force_login(world["superuser"])

    response = client.get(reverse("wagtailadmin_choose_page_chosen_multiple"), {"id": ["99999999999999999999"]})

    assert response.status_code == 404
