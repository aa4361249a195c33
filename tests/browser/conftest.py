"""The browser tests: Debian's Chromium driven by Playwright (pytest-playwright) against the site
that pytest-django's live server serves on loopback, axe-core from the npm registry for the
accessibility checks, and screenshots of the key screens as test artefacts."""

import json
import os
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA, with the A and AA rules of the earlier versions it contains.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")

# Whether an element can be brought into view: inside the window, or inside a box that scrolls
# sideways to it, which the keyboard reaches too (focusable, a region with a name).
REACHABLE = """(cell) => {
    const box = cell.getBoundingClientRect();
    if (box.left >= 0 && box.right <= window.innerWidth) {
        return true;
    }
    for (let up = cell.parentElement; up; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (["auto", "scroll"].includes(style.overflowX) && up.scrollWidth > up.clientWidth) {
            const named = up.getAttribute("aria-label") || up.getAttribute("aria-labelledby");
            return up.tabIndex >= 0 && up.getAttribute("role") === "region" && Boolean(named);
        }
    }
    return false;
}"""

# Each browser module marks itself with these: run once, on the SQLite pass of `make test`
# (the browser sees the same pages whatever the database; PostgreSQL's pass covers the queries).
browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(ON_POSTGRES, reason="browser tests run once, on the SQLite pass"),
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, not a browser build of Playwright's own (which cannot be downloaded)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs it as root (apt-get install chromium)")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def _connections_before_playwright(django_db_setup):
    from django.db import connections

    return {alias: connections[alias] for alias in connections}


@pytest.fixture(scope="session")
def playwright(_connections_before_playwright, playwright):
    """pytest-playwright's Playwright, keeping Django's database connections. Playwright's sync
    API keeps an asyncio event loop running in this thread, and asgiref then keeps Django's
    connections per context instead of per thread: without this, the tests would get new
    connection objects, without the serialized contents that `serialized_rollback` restores
    Wagtail's root page and site from, and apart from the one the live server thread shares."""
    from django.db import connections

    for alias, connection in _connections_before_playwright.items():
        connections[alias] = connection
    return playwright


@pytest.fixture(scope="session")
def base_url():
    """Each context gets the live server's address (see `site`). This also replaces
    pytest-playwright's own fallback fixture, which pytest 9 deprecates (warnings are errors)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # English pages whatever the machine's locale; the site's own time zone; no decorative motion
    # (Chart.js and Wagtail honour it), so that pages settle at once.
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "locale": "en-US",
        "timezone_id": "Asia/Ho_Chi_Minh",
        "reduced_motion": "reduce",
        "accept_downloads": True,
    }


@pytest.fixture
def site(transactional_db, django_db_serialized_rollback, live_server, new_context, settings):
    """Open browser contexts (one per person) on the live server: `site.visitor()` for a public
    reader, `site.login(user)` for someone signed in to the Wagtail admin."""
    # Wagtail's own avatar rather than Gravatar's: the pages load nothing from elsewhere.
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None
    return LiveSite(live_server.url, new_context)


class LiveSite:
    def __init__(self, url, new_context):
        self.url = url
        self._new_context = new_context

    def visitor(self):
        context = self._new_context(base_url=self.url)
        context.set_default_timeout(15_000)
        return context.new_page()

    def login(self, user, through_form=False):
        """A page signed in as `user`, on the admin dashboard: through the login form, or (faster)
        with a session cookie made on the server as Django's test client makes it."""
        page = self.visitor()
        if through_form:
            page.goto("/admin/login/")
            page.get_by_label("Username").fill(user.get_username())
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{self.url}/admin/")
        else:
            from django.conf import settings
            from django.test import Client

            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.url}])
            page.goto("/admin/")
        return page


@pytest.fixture(scope="session")
def artefacts_dir(tmp_path_factory):
    """Where screenshots go: $COMPETITION_BROWSER_ARTEFACTS, or a temporary folder."""
    configured = os.environ.get("COMPETITION_BROWSER_ARTEFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("browser-artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(artefacts_dir):
    """Save the visible part of a page (or all of it) as NAME.png, in 256 colours (small enough
    for the docs)."""
    from PIL import Image

    def shoot(page, name, full_page=False):
        image = Image.open(BytesIO(page.screenshot(animations="disabled", caret="hide", full_page=full_page)))
        image.convert("RGB").quantize(colors=256).save(artefacts_dir / f"{name}.png", optimize=True)
        return artefacts_dir / f"{name}.png"

    return shoot


@pytest.fixture
def shots(screenshot):
    """Save the whole page as NAME-desktop.png and NAME-phone.png, back at the desktop's size;
    with `focus`, a locator scrolled into view first (Wagtail's admin scrolls inside its own
    frame)."""

    def shoot(page, name, focus=None):
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            if focus is not None:
                focus.scroll_into_view_if_needed()
            screenshot(page, f"{name}-{label}", full_page=True)
        page.set_viewport_size(DESKTOP)

    return shoot


# True once the page is still: no finite animation or transition running, and Wagtail's messages
# (which fade in after a short delay) fully shown. Colours mid-fade would fail contrast checks.
SETTLED = """() => document.getAnimations().every(
        (animation) => animation.playState !== "running" || animation.effect.getComputedTiming().endTime === Infinity
    ) && [...document.querySelectorAll(".messages > ul")].every(
        (list) => !list.children.length || getComputedStyle(list).opacity === "1"
    )"""


def axe_violations(page, best_practice=False):
    """Run axe-core on the whole page once it has settled; return its violations at WCAG 2.2 AA
    (and axe's best practices, such as landmarks and heading order, with `best_practice`).
    Nothing is excluded: Wagtail's own admin chrome passes too."""
    page.wait_for_function(SETTLED)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluate() is not subject to the page's Content-Security-Policy, unlike a script tag.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    tags = [*AXE_TAGS, "best-practice"] if best_practice else AXE_TAGS
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    return page.evaluate("(options) => axe.run(document, options)", options)["violations"]


def switch_to_vietnamese(page):
    """Switch a visitor's public pages to Vietnamese as a reader does: with the site's language
    form (its choice is kept in the session for the pages that follow)."""
    page.goto("/")
    page.locator("#language-select").select_option("vi")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")


def set_admin_language(user, language):
    """The admin's language for `user`: their Wagtail profile's preferred language (the pages they
    load next are in it)."""
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()


def describe(violations):
    """A readable account of axe violations for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {json.dumps(node['target'])}: {node['failureSummary']!r}"[:400])
    return "\n".join(lines)


@pytest.fixture
def public_board(db):
    """A published competition with three agencies (two of them in a group), two targets,
    accepted values at two dates, a jury score and a bonus: every part of the public pages."""
    from competition.domain import jury
    from competition.domain.roles import REVIEWERS, ensure_roles
    from competition.models import Adjustment, CommitmentLine, CompetitionPhase, Juror
    from tests.factories import (
        AgencyFactory,
        UserFactory,
        make_commitment,
        make_competition,
        make_submission,
        make_target,
    )

    groups = ensure_roles()
    competition = make_competition(
        slug="digital-2025",
        title="Digital government emulation 2025",
        organiser="People's Committee",
        signed_on=date(2025, 3, 3),
    )
    CompetitionPhase.objects.create(page=competition, name="Urgent phase", end_date=date(2025, 6, 30))
    CompetitionPhase.objects.create(page=competition, name="Breakthrough phase", end_date=date(2025, 12, 31))
    online = make_target(competition, code="T1", title="Work files processed online", baseline=40, target=100)
    days = make_target(
        competition,
        code="T2",
        title="Days to settle a request",
        unit="days",
        direction="lower",
        baseline=20,
        target=5,
        max_points=20,
    )
    wards = AgencyFactory(code="WARDS", name="Wards and communes")
    agencies = {
        "DOST": AgencyFactory(code="DOST", name="Department of Science and Technology"),
        "26734": AgencyFactory(code="26734", name="Sài Gòn Ward", parent=wards),
        "26740": AgencyFactory(code="26740", name="Bến Thành Ward", parent=wards),
    }
    for agency in agencies.values():
        make_commitment(competition, agency, [online, days])

    def line(code, target):
        return CommitmentLine.objects.get(commitment__agency__code=code, target=target)

    values = [
        ("DOST", online, "70", date(2025, 3, 31)),
        ("DOST", online, "92", date(2025, 6, 30)),
        ("DOST", days, "5", date(2025, 6, 30)),
        ("26734", online, "55", date(2025, 6, 30)),
        ("26734", days, "15", date(2025, 6, 30)),
        ("26740", online, "78", date(2025, 6, 30)),
    ]
    submissions = [
        make_submission(line(code, target), value, reported_on=day, narrative="From the document system.")
        for code, target, value, day in values
    ]
    reviewer = UserFactory(username="juror.nguyen")
    reviewer.groups.add(groups[REVIEWERS])
    Juror.objects.create(competition=competition, user=reviewer)
    jury.record_score(submissions[1], reviewer, Decimal("9"), "Checked against the system's report.")
    Adjustment.objects.create(
        competition=competition, agency=agencies["26740"], points=Decimal(2), reason="Pilot of cashless fees"
    )
    return {"competition": competition, "agencies": agencies, "targets": [online, days]}
