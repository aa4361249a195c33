"""Feed tokens in a real browser: a manager issues one for an agency's system and sees it once
(never again, not in the listing nor in the edit form), then revokes it, which the listing and
the API both show; the public commitment page says which values were measured automatically.
axe finds nothing on the new screens; screenshots in English and Vietnamese, desktop and phone."""

import json

from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from competition.domain.roles import MANAGERS, ensure_roles
from competition.models import FeedToken
from tests.browser.conftest import axe_violations, browser_marks, describe, set_admin_language
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def post_values(secret, values):
    return Client().post(
        "/api/feed/v1/values",
        json.dumps({"values": values}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


# Whether the table cell of an element has room for the widest of its words (drawn in its own font).
WORDS_FIT = """element => {
    const style = getComputedStyle(element);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const widest = Math.max(...element.textContent.trim().split(/\\s+/).map(word => context.measureText(word).width));
    const cell = element.closest("td"), padding = getComputedStyle(cell);
    const room = cell.clientWidth - parseFloat(padding.paddingLeft) - parseFloat(padding.paddingRight);
    return room + 1 >= widest;
}"""


def both_sizes(page, screenshot, name):
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, name.replace("-en", "-phone-en").replace("-vi", "-phone-vi"))
    page.set_viewport_size(DESKTOP)


def test_a_manager_issues_a_token_sees_it_once_and_revokes_it(site, screenshot):
    competition = make_competition(slug="digital", title="Digital government 2025", accept_feed_values=True)
    target = make_target(competition, code="T1", title="Documents processed digitally")
    agency = AgencyFactory(code="DOST", name="Department of Science and Technology")
    make_commitment(competition, agency, [target])
    manager = UserFactory(username="boss")
    manager.groups.add(ensure_roles()[MANAGERS])
    page = site.login(manager)

    page.goto(reverse("wagtailsnippets_competition_feedtoken:list"))
    page.get_by_role("link", name="Add feed token").first.click()
    page.locator("input[name=name]").fill("Document system")
    page.locator("select[name=competition]").select_option(label="Digital government 2025")
    page.locator("select[name=agency]").select_option(label="Department of Science and Technology (DOST)")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", name="The feed token “Document system” is issued")).to_be_visible()
    expect(page.get_by_text("Copy it now: it is shown this once and never again.")).to_be_visible()
    secret = page.get_by_label("Feed token", exact=True).input_value()
    token = FeedToken.objects.get()
    assert secret.startswith(token.prefix) and len(secret) > len(token.prefix)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    both_sizes(page, screenshot, "admin-feed-token-issued-en")

    # Never shown again: not in the listing, not in the edit form.
    page.get_by_role("link", name="Back to the feed tokens").click()
    expect(page.get_by_role("cell", name="Active")).to_be_visible()
    assert secret not in page.content() and token.prefix in page.content()
    violations = axe_violations(page)
    assert not violations, describe(violations)
    both_sizes(page, screenshot, "admin-feed-tokens-en")
    # The name wraps between its words, never inside one ("Documen / t system"), at both sizes.
    for size in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        assert page.locator(".listing td.title a").first.evaluate(WORDS_FIT) is True
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(reverse("wagtailsnippets_competition_feedtoken:edit", args=[token.pk]))
    assert secret not in page.content()

    # The agency's system sends a value with it.
    assert post_values(secret, [{"target": "T1", "reported_on": "2025-06-30", "value": 86.5}]).status_code == 200

    # Revoked: listed as such, refused by the API.
    page.goto(reverse("wagtailsnippets_competition_feedtoken:delete", args=[token.pk]))
    violations = axe_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "admin-feed-token-revoke-en")
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("Feed token “Document system")).to_be_visible()
    expect(page.get_by_role("cell", name="Revoked")).to_be_visible()
    refused = post_values(secret, [{"target": "T1", "reported_on": "2025-07-31", "value": 90}])
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"

    # In Vietnamese: a second token, shown once.
    set_admin_language(manager, "vi")
    page.goto(reverse("wagtailsnippets_competition_feedtoken:add"))
    page.locator("input[name=name]").fill("Hệ thống văn bản")
    page.locator("select[name=competition]").select_option(label="Digital government 2025")
    page.locator("select[name=agency]").select_option(label="Department of Science and Technology (DOST)")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_text("Hãy sao chép ngay: mã chỉ hiện lần này và không bao giờ hiện lại.")).to_be_visible()
    both_sizes(page, screenshot, "admin-feed-token-issued-vi")
    page.goto(reverse("wagtailsnippets_competition_feedtoken:list"))
    expect(page.get_by_role("cell", name="Đã thu hồi")).to_be_visible()
    both_sizes(page, screenshot, "admin-feed-tokens-vi")

    # The public commitment page: "measured automatically" beside the value, in words.
    reader = site.visitor()
    reader.goto("/digital/agency-dost/?as_of=2025-07-01")
    expect(reader.locator("td", has_text="measured automatically")).to_be_visible()
    violations = axe_violations(reader)
    assert not violations, describe(violations)
    both_sizes(reader, screenshot, "public-commitment-fed-en")
    reader.context.add_cookies([{"name": "django_language", "value": "vi", "url": site.url}])
    reader.reload()
    expect(reader.locator("td", has_text="đo tự động")).to_be_visible()
    both_sizes(reader, screenshot, "public-commitment-fed-vi")
