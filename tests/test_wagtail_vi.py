"""Wagtail's own admin chrome in Vietnamese: the sidebar, listings, filters, pagination, the
account page, the page explorer and Wagtail's messages read Vietnamese for editors, reviewers and
managers whose admin language is Vietnamese, from the app's catalogue (competition/wagtail_vi.py
marks the messages Wagtail's own Vietnamese catalogue leaves untranslated)."""

import json
import re
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup, Comment, NavigableString
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from wagtail.admin.templatetags.wagtailadmin_tags import timesince_simple
from wagtail.models import Page

from competition.models import Agency, Submission
from tests.test_evidence import world  # noqa: F401
from tests.test_i18n import set_admin_language
from tests.test_jury import panel  # noqa: F401

pytestmark = pytest.mark.django_db

SUBMISSIONS = "wagtailsnippets_competition_submission"


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


def test_an_editor_with_nothing_reported_yet_reads_the_empty_listing_in_vietnamese(client, world):  # noqa: F811
    """A new agency editor working in Vietnamese opens Báo cáo (Submissions) before reporting
    anything: the only sentence on the screen is Vietnamese (review-ux: it read "There are no báo
    cáo to display. Why not add one?", Wagtail's wagtailadmin/generic/index_results.html message,
    missing from competition/wagtail_vi.py)."""
    editor = world["editor_a"]
    set_admin_language(editor, "vi")
    client.force_login(editor)

    response = client.get(reverse(f"{SUBMISSIONS}:list"))
    text = " ".join(BeautifulSoup(response.content, "html.parser").get_text(" ").split())

    assert response.status_code == 200
    assert "báo cáo" in text  # the listing is the Vietnamese one...
    assert "There are no" not in text and "Why not" not in text, text[text.find("There are no") :][:120]


def test_the_listings_sort_hints_read_vietnamese(client, world):  # noqa: F811
    """In the Vietnamese admin every column header of a listing carries its sort hint, a title
    screen readers announce, in Vietnamese (review-ux: "Sort by 'Ngày báo cáo' in ascending
    order.", Wagtail's message missing from competition/wagtail_vi.py)."""
    editor = world["editor_a"]
    Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    set_admin_language(editor, "vi")
    client.force_login(editor)

    found = labels(client.get(reverse(f"{SUBMISSIONS}:list")))

    assert "Ngày báo cáo" in found  # the column names are Vietnamese...
    english = sorted(text for text in found if text.startswith("Sort by '"))
    assert not english, english  # ...their sort hints are not


def test_the_reports_page_editor_and_choosers_a_manager_opens_read_vietnamese(client, world):  # noqa: F811
    """Wagtail's messages on the other screens the app's managers and editors open (the locked and
    aging pages and workflow reports, the page editor and explorer, the page search, the document
    chooser),
    found missing in Vietnamese after review-ux by visiting every admin screen as each role."""
    manager = world["manager"]
    set_admin_language(manager, "vi")
    client.force_login(manager)
    page = world["competition"]

    locked = labels(client.get(reverse("wagtailadmin_reports:locked_pages")))
    aging = labels(client.get(reverse("wagtailadmin_reports:aging_pages")))
    workflow = labels(client.get(reverse("wagtailadmin_reports:workflow")))
    editor = labels(client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])))
    search = labels(client.get(reverse("wagtailadmin_pages:search"), {"q": page.title}))
    documents = labels(client.get(reverse("wagtaildocs_chooser:choose_results")))
    explorer = labels(client.get(reverse("wagtailadmin_explore", args=[page.pk])))

    assert_vietnamese(locked, [("Locked at", "Khóa lúc"), ("No locked pages found.", "Không có trang nào bị khóa.")])
    assert_vietnamese(aging, [("Last published by", "Người công bố lần cuối")])
    assert_vietnamese(workflow, [("By task", "Theo bước duyệt"), ("Started at", "Bắt đầu lúc")])
    assert not [text for text in editor if text.startswith("Editing ")], sorted(editor)
    assert not [text for text in search if text.startswith("There are ") or text == "Page types"], sorted(search)
    assert_vietnamese(documents, [("You haven't uploaded any documents.", "Bạn chưa tải lên tài liệu nào.")])
    assert not [text for text in explorer if text.endswith(" pages")], sorted(explorer)  # "1–3 trên 3 trang"
