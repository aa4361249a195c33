"""Wagtail's own admin chrome in Vietnamese: the sidebar, listings, filters, pagination, the
account page, the page explorer and Wagtail's messages read Vietnamese for editors, reviewers and
managers whose admin language is Vietnamese, from the app's catalogue (competition/wagtail_vi.py
marks the messages Wagtail's own Vietnamese catalogue leaves untranslated)."""

import json
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup, Comment, NavigableString
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from wagtail.admin.templatetags.wagtailadmin_tags import timesince_simple
from wagtail.models import Page

from competition.models import Agency
from tests.test_evidence import world  # noqa: F401
from tests.test_i18n import set_admin_language
from tests.test_jury import panel  # noqa: F401

pytestmark = pytest.mark.django_db


def labels(response):
    """Every piece of text a user reads or hears on the screen: text nodes, the labels of
    controls, and the strings of the JSON the sidebar and other widgets are drawn from."""
    assert response.status_code == 200, response.status_code
    page = BeautifulSoup(response.content, "html.parser")
    found = set()

    def add(text):
        text = " ".join(text.split())
        if text:
            found.add(text)

    def walk(value):
        if isinstance(value, str):
            add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for element in page.find_all(True):
        if element.name == "script":
            if element.get("type") == "application/json" and element.string:
                walk(json.loads(element.string))
            continue
        if element.name == "style":
            continue
        for attribute in ("title", "aria-label", "placeholder", "alt"):
            if isinstance(element.get(attribute), str):
                add(element[attribute])
        for child in element.children:
            if isinstance(child, NavigableString) and not isinstance(child, Comment):
                add(str(child))
    return found


def assert_vietnamese(found, pairs):
    english = [en for en, vi in pairs if en in found]
    missing = [vi for en, vi in pairs if vi not in found]
    assert not english and not missing, {"still English": english, "Vietnamese missing": missing}


def test_editor_reads_the_dashboard_listing_and_account_in_vietnamese(client, world):  # noqa: F811
    editor = world["editor_a"]
    set_admin_language(editor, "vi")
    client.force_login(editor)

    dashboard = labels(client.get(reverse("wagtailadmin_home")))
    listing = labels(client.get(reverse("wagtailsnippets_competition_submission:list")))
    account = labels(client.get(reverse("wagtailadmin_account")))

    assert_vietnamese(
        dashboard,
        [("Help", "Trợ giúp"), ("Toggle sidebar", "Ẩn/hiện thanh bên"), ("Keyboard shortcuts", "Phím tắt")],
    )
    assert_vietnamese(
        listing,
        [("Bulk actions", "Thao tác hàng loạt"), ("Show filters", "Hiện bộ lọc"), ("Search…", "Tìm kiếm…")],
    )
    assert_vietnamese(
        account,
        [
            ("Name and Email", "Họ tên và thư điện tử"),
            ("Profile picture", "Ảnh đại diện"),
            ("Theme preferences", "Giao diện"),
            ("Use server time zone", "Dùng múi giờ của máy chủ"),
            ("Dark", "Tối"),
        ],
    )


def test_reviewer_reads_site_history_in_vietnamese(client, panel):  # noqa: F811
    reviewer = panel["rev_free"]
    set_admin_language(reviewer, "vi")
    client.force_login(reviewer)

    history = labels(client.get(reverse("wagtailadmin_reports:site_history")))

    assert_vietnamese(
        history,
        [("Site history", "Lịch sử trang web"), ("Show filters", "Hiện bộ lọc"), ("Filter by", "Lọc theo")],
    )


def test_manager_reads_reports_page_explorer_and_messages_in_vietnamese(client, world):  # noqa: F811
    manager = world["manager"]
    set_admin_language(manager, "vi")
    client.force_login(manager)
    root = Page.objects.get(depth=1).get_children().first()

    dashboard = labels(client.get(reverse("wagtailadmin_home")))
    explorer = labels(client.get(reverse("wagtailadmin_explore", args=[root.pk])))
    refused = labels(client.post(reverse("wagtailsnippets_competition_agency:add"), {}))

    assert_vietnamese(dashboard, [("Reports", "Thống kê"), ("Site history", "Lịch sử trang web")])
    # The site summary counts pages with Wagtail's plural message ("75 Pages" in English).
    assert [text for text in dashboard if re.fullmatch(r"\d+ trang", text)]
    assert not [text for text in dashboard if re.fullmatch(r"\d+ Pages?", text)]
    assert_vietnamese(
        explorer,
        [("Add child page", "Thêm trang con"), ("Sort menu order", "Sắp xếp thứ tự trong trình đơn")],
    )
    with translation.override("vi"):
        model_name = str(Agency._meta.verbose_name)
    assert_vietnamese(
        refused,
        [
            (
                f"The {model_name} could not be created due to errors.",
                f"Không tạo được {model_name} vì có lỗi.",
            )
        ],
    )


def test_time_periods_wagtail_shows_read_vietnamese():
    """Wagtail's listings say "Updated 10 minutes ago" with Django's timesince, whose Vietnamese
    catalogue still has the periods under their old msgids ("%d minute")."""
    now = timezone.now()

    with translation.override("vi"):
        periods = [timesince(now - timedelta(minutes=10), now), timesince(now - timedelta(days=400), now)]
        ago = timesince_simple(now - timedelta(hours=3))

    assert [" ".join(period.split()) for period in periods] == ["10 phút", "1 năm, 1 tháng"]  # no-break spaces
    assert " ".join(ago.split()) == "3 giờ trước"
