"""Vietnamese beside English: the catalogues are complete and compiled, every string of the code
is in them, and pages, admin screens and e-mails read Vietnamese with Vietnamese numbers and dates
while the open data stays locale-independent."""

import json
import re
import shutil
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from competition.collation import vietnamese_key
from competition.domain import evidence
from competition.domain.languages import short_date
from competition.domain.reminders import send_reminders
from competition.enums import ReportingSchedule
from competition.models import AgencyMembership, CommitmentLine, Submission
from competition.scoring import DEFAULT_TIERS
from competition.templatetags.competition_tags import DEFAULT_TIER_LABELS, measured
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_submission, make_target
from tests.test_evidence import world  # noqa: F401
from tests.test_jury import panel  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
# Each catalogue and the sources whose strings it holds (the app ships its own; the demo site's
# strings live in the project's locale folder).
CATALOGUES = {
    ROOT / "competition/locale/vi/LC_MESSAGES/django.po": ["competition"],
    ROOT / "locale/vi/LC_MESSAGES/django.po": ["home", "templates", "config"],
}
# Wagtail's admin JavaScript texts that its own Vietnamese lacks, kept by hand (no source of ours).
JS_CATALOGUE = ROOT / "competition/locale_js/vi/LC_MESSAGES/djangojs.po"
VI = {"HTTP_ACCEPT_LANGUAGE": "vi"}


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Vietnamese leaves Vietnamese active in the thread (LocaleMiddleware does not
    restore it); the tests that make no request (the e-mails) start from the default language."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def set_admin_language(user, language):
    """What the user does under Account > Preferences > Language in the Wagtail admin."""
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()


def entry_key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def translations(catalogue):
    return {
        entry_key(entry): entry.msgstr_plural and dict(entry.msgstr_plural) or entry.msgstr
        for entry in catalogue
        if entry.msgid
    }


@pytest.mark.parametrize("po_path", [*CATALOGUES, JS_CATALOGUE], ids=lambda path: str(path.relative_to(ROOT)))
def test_vi_catalogue_has_no_untranslated_fuzzy_or_obsolete_entry(po_path):
    catalogue = polib.pofile(str(po_path))

    assert catalogue.metadata["Language"] == "vi"
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    assert catalogue.obsolete_entries() == []
    for entry in catalogue:
        for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
            # Same placeholders on both sides, so no message loses or breaks a value (Vietnamese
            # has one plural form, which stands for the plural message, the count included).
            source = entry.msgid_plural or entry.msgid
            assert sorted(re.findall(r"%\(\w+\)\w", text)) == sorted(re.findall(r"%\(\w+\)\w", source)), entry


@pytest.mark.parametrize("po_path", [*CATALOGUES, JS_CATALOGUE], ids=lambda path: str(path.relative_to(ROOT)))
def test_committed_mo_matches_its_po(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path} is missing: run `make messages`"

    compiled = translations(polib.mofile(str(mo_path)))

    assert compiled == translations(polib.pofile(str(po_path))), f"{mo_path} is stale: run `make messages`"


def test_every_string_of_the_code_is_in_the_catalogues(tmp_path, monkeypatch):
    """Extract the strings as `make messages` does, from a copy of the sources, and compare."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is missing: apt-get install gettext (make test installs it)")
    for po_path, sources in CATALOGUES.items():
        locale_dir = tmp_path / po_path.relative_to(ROOT).parent.parent.parent
        locale_dir.mkdir(parents=True, exist_ok=True)
        for source in sources:
            shutil.copytree(
                ROOT / source,
                tmp_path / source,
                ignore=shutil.ignore_patterns("locale", "static", "__pycache__"),
                dirs_exist_ok=True,
            )
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[]):
        call_command("makemessages", locale=["vi"], no_location=True, no_obsolete=True, verbosity=0)

    for po_path in CATALOGUES:
        extracted = {
            entry_key(entry) for entry in polib.pofile(str(tmp_path / po_path.relative_to(ROOT))) if entry.msgid
        }
        committed = {entry_key(entry) for entry in polib.pofile(str(po_path)) if entry.msgid}
        assert sorted(extracted - committed, key=str) == [], f"not in {po_path}: run `make messages` and translate"
        assert sorted(committed - extracted, key=str) == [], f"no longer in the code, still in {po_path}"


@pytest.mark.demo
def test_competition_page_in_english_by_default_and_in_vietnamese(worked_closed, client):
    english = BeautifulSoup(client.get("/worked/?as_of=2025-07-02").content, "html.parser")
    page = BeautifulSoup(client.get("/worked/?as_of=2025-07-02", **VI).content, "html.parser")

    assert english.html["lang"] == "en"
    assert "Ranking as of July 2, 2025" in english.get_text(" ", strip=True)

    text = page.get_text(" ", strip=True)
    assert page.html["lang"] == "vi"
    assert "Xếp hạng tính đến 2 tháng 7 năm 2025" in text
    assert "Dữ liệu mở" in text and "Đúng tiến độ: 1" in text
    first = [cell.get_text(" ", strip=True) for cell in page.select("table.board-table")[0].select("tbody tr td")]
    assert "tạm tính" in first[1]
    assert first[3] == "86,00\u00a0%" and "84,50\u00a0%" in first[4]
    assert [
        header.get_text(" ", strip=True).split(" (")[0] for header in page.select("table.board-table")[0].select("th")
    ][:3] == [
        "Hạng",
        "Cơ quan, đơn vị",
        "Xếp loại",
    ]
    assert json.loads(page.find(id="chart-data").string)["text"]["score"] == "Điểm số %"


def test_commitment_and_target_pages_in_vietnamese(worked_closed, client):
    commitment = BeautifulSoup(client.get("/worked/agency-a/?as_of=2025-07-02", **VI).content, "html.parser")
    target = BeautifulSoup(client.get("/worked/target-t1/?as_of=2025-07-02", **VI).content, "html.parser")

    first = [cell.get_text(" ", strip=True) for cell in commitment.select("table.board-table tbody tr")[0].select("td")]
    assert first[3:] == ["22,5", "23", "—", "23 / 30"]  # computed, jury, own points (none), awarded
    assert "Minh chứng đã được chấp nhận" in commitment.get_text(" ", strip=True)
    target_text = target.get_text(" ", strip=True)
    assert "80 (mốc)" in target_text and "Giá trị mục tiêu" in target_text


@pytest.mark.demo
def test_reader_switches_language_and_open_data_stays_the_same(worked, client):
    response = client.post(reverse("set_language"), {"language": "vi", "next": "/worked/"})

    assert response.status_code == 302 and response["Location"] == "/worked/"
    page = BeautifulSoup(client.get("/worked/").content, "html.parser")
    assert page.html["lang"] == "vi"
    assert page.find("option", selected=True).get_text() == "Tiếng Việt"
    # Each language named in itself, so a reader finds theirs whatever the page is in.
    assert [option.get_text() for option in page.select("#language-select option")] == ["English", "Tiếng Việt"]
    # Open data is the same whatever the language (docs/opendata.md: dots, ISO dates, fixed names).
    names = ("scoreboard.json", "scoreboard.csv")
    vietnamese = {name: client.get(f"/worked/{name}?as_of=2025-07-02") for name in names}
    board = json.loads(vietnamese["scoreboard.json"].content)
    assert board["agencies"][0]["score_percent"] == 86.5 and board["agencies"][0]["targets"][0]["status"] == "on_track"

    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert BeautifulSoup(client.get("/worked/").content, "html.parser").html["lang"] == "en"
    for name in names:
        english = client.get(f"/worked/{name}?as_of=2025-07-02")
        assert english.status_code == vietnamese[name].status_code == 200
        assert english.content == vietnamese[name].content


@pytest.mark.django_db
def test_review_screen_in_the_reviewers_admin_language(client, panel):  # noqa: F811
    reviewer = panel["rev_free"]
    set_admin_language(reviewer, "vi")
    client.force_login(reviewer)

    url = reverse("competition_review", args=[panel["subs"]["b"].pk])

    response = client.get(url)

    assert response.status_code == 200
    text = BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)
    assert "Điểm gợi ý" in text and "Lưu và chuyển tiếp" in text
    assert re.search(r"Điểm gợi ý \d+(,\d\d?)? / 10", text), text  # no trailing zeros: 5, 6,25
    assert "Giá trị 50 (" in text and "50,0000" not in text  # the measured value, no needless zeros

    # A number input takes a dot whatever the language; the text around it shows a comma.
    client.post(url, {"points": "7.5", "comment": "Tốt"})
    page = BeautifulSoup(client.get(url).content, "html.parser")
    field = page.find("input", id="points")
    assert float(field["value"]) == 7.5 and float(field["max"]) == 10  # a comma would not parse
    assert "7,5" in page.find("table", class_="listing").get_text(" ", strip=True)


@pytest.mark.django_db
def test_admin_account_offers_vietnamese(client, panel):  # noqa: F811
    client.force_login(panel["manager"])

    response = client.get(reverse("wagtailadmin_account"))

    assert response.status_code == 200
    assert 'value="vi"' in response.content.decode()


@pytest.mark.django_db
def test_wagtails_javascript_strings_in_the_vietnamese_admin(client, panel):  # noqa: F811
    """The strings Wagtail's admin shows only through JavaScript (the sidebar's "Main menu" and
    "Toggle sidebar", autosave, "Expand all"...) come from its JavaScript catalogue, which its own
    Vietnamese leaves mostly English; the app's competition/locale_js/ fills it (LOCALE_PATHS)."""
    set_admin_language(panel["manager"], "vi")
    client.force_login(panel["manager"])

    script = client.get(reverse("wagtailadmin_javascript_catalog")).content.decode()
    catalogue = json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.DOTALL).group(1))

    assert catalogue["Main menu"] == "Trình đơn chính"
    assert catalogue["Toggle sidebar"] == "Ẩn/hiện thanh bên"
    assert catalogue["Changes have been autosaved."] == "Các thay đổi đã được tự động lưu."
    assert catalogue["%(num)s error"] == ["%(num)s lỗi"]
    assert catalogue["Save"] == "Lưu"  # Wagtail's own translations are kept


@pytest.mark.django_db
def test_wagtails_help_menu_and_inspect_labels_in_the_vietnamese_admin(client, world):  # noqa: F811
    """The sidebar's "What's new in Wagtail 8.0" and Inspect's "Latest revision" stayed English."""
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    submission.save_revision(user=world["editor_a"])
    client.force_login(world["editor_a"])
    # Wagtail builds its help menu's items once per process, at the first admin page: that one in
    # English must not fix the label's language for everybody after it.
    english = BeautifulSoup(client.get(reverse("wagtailadmin_home")).content, "html.parser")
    assert "What's new in Wagtail" in english.find("script", id="wagtail-sidebar-props").string
    set_admin_language(world["editor_a"], "vi")

    home = BeautifulSoup(client.get(reverse("wagtailadmin_home")).content, "html.parser")
    inspect = client.get(reverse("wagtailsnippets_competition_submission:inspect", args=[submission.pk]))

    sidebar = json.dumps(json.loads(home.find("script", id="wagtail-sidebar-props").string), ensure_ascii=False)
    assert "Có gì mới trong Wagtail" in sidebar and "What's new in Wagtail" not in sidebar
    assert "Phiên bản mới nhất" in inspect.content.decode() and "Latest revision" not in inspect.content.decode()


@pytest.mark.django_db
def test_the_submission_form_shows_values_without_the_columns_trailing_zeros(client, world):  # noqa: F811
    """The editor's form read "76.9000" and "86.0000" (issue 20): the value as written, the number
    field's dot kept whatever the language (a comma would not parse)."""
    submission = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=Decimal("76.9"), self_points=Decimal("8")
    )
    client.force_login(world["editor_a"])
    edit = reverse("wagtailsnippets_competition_submission:edit", args=[submission.pk])

    for headers in ({}, VI):
        form = BeautifulSoup(client.get(edit, **headers).content, "html.parser")
        assert form.find("input", id="id_value")["value"] == "76.9"
        assert form.find("input", id="id_self_points")["value"] == "8"


@pytest.mark.django_db
def test_reminder_e_mail_in_each_editors_language(world):  # noqa: F811
    competition = world["competition"]
    competition.reporting_schedule = ReportingSchedule.QUARTERLY
    competition.save()
    set_admin_language(world["editor_b"], "vi")
    for name in ("editor_a", "editor_b"):
        world[name].email = f"{name}@example.org"
        world[name].save()
    submission = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 3, 15), value=5)
    evidence.submit(submission, world["editor_b"])
    evidence.decide(submission, world["manager"], "return", "Wrong month")
    mail.outbox.clear()

    assert send_reminders(within_days=7, today=date(2025, 3, 28)) == (2, 0)

    by_recipient = {message.to[0]: message for message in mail.outbox}
    english, vietnamese = by_recipient["editor_a@example.org"], by_recipient["editor_b@example.org"]
    assert english.subject == "Reporting reminder for 03/28/2025"
    assert "due by 03/31/2025" in english.body
    with translation.override("vi"):  # the site's own short date format (d/m/Y in the demo)
        day, deadline = short_date(date(2025, 3, 28)), short_date(date(2025, 3, 31))
    assert vietnamese.subject == f"Nhắc hạn báo cáo ngày {day}"
    assert vietnamese.body.startswith("Kính gửi ")
    assert f"hạn chót {deadline}" in vietnamese.body and "đã trả lại cho bạn: Wrong month" in vietnamese.body
    assert translation.get_language() == settings.LANGUAGE_CODE


@pytest.mark.django_db
def test_decision_e_mail_in_each_editors_language(world, django_capture_on_commit_callbacks):  # noqa: F811
    colleague = UserFactory(username="editor_a_vi", email="editor_a_vi@example.org")
    AgencyMembership.objects.create(user=colleague, agency=world["line_a"].commitment.agency)
    set_admin_language(colleague, "vi")
    world["editor_a"].email = "editor_a@example.org"
    world["editor_a"].save()
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value="55.5")
    evidence.submit(submission, world["editor_a"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        evidence.decide(submission, world["manager"], "return", "Attach the scan.")

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == ["editor_a@example.org", "editor_a_vi@example.org"]
    assert "with the value 55.5 (percent), was returned." in by_recipient["editor_a@example.org"].body
    vietnamese = by_recipient["editor_a_vi@example.org"]
    assert vietnamese.subject.endswith(": Đã trả lại")
    assert "với giá trị 55,5 (phần trăm), có kết quả: đã trả lại." in vietnamese.body
    assert "Lý do: Attach the scan." in vietnamese.body


@pytest.mark.parametrize(
    "value, english, vietnamese",
    [
        (Decimal("85.0000"), "85", "85"),
        (Decimal("85.5000"), "85.5", "85,5"),
        (Decimal("97.7500"), "97.75", "97,75"),
        (Decimal("1E+2"), "100", "100"),
        (1234.56789, "1234.5679", "1234,5679"),
        (None, "—", "—"),
    ],
)
def test_measured_values_drop_needless_zeros_in_each_language(value, english, vietnamese):
    with translation.override("en"):
        assert measured(value) == english
    with translation.override("vi"):
        assert measured(value) == vietnamese


@pytest.mark.django_db
def test_submission_inspect_screen_in_vietnamese(client, world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value="55.5")
    evidence.submit(submission, world["editor_a"])
    set_admin_language(world["manager"], "vi")
    client.force_login(world["manager"])

    response = client.get(reverse("wagtailsnippets_competition_submission:inspect", args=[submission.pk]))
    listing = client.get(reverse("wagtailsnippets_competition_submission:list"))

    text = BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)
    assert "Người gửi" in text and "Người quyết định —" in text
    assert "Giá trị đo được 55,5 " in text and "55,5000" not in text
    assert "Trả lại cơ quan, đơn vị" in text
    assert "Phong trào thi đua" in BeautifulSoup(listing.content, "html.parser").get_text(" ", strip=True)


def test_every_field_of_the_app_has_a_translatable_name():
    """Field names appear in admin forms, listings, filters, history and error messages: each
    field the app declares names itself with a translatable string (a field left without one
    shows Django's English default, e.g. "created by", to Vietnamese readers)."""
    from django.apps import apps
    from django.utils.functional import Promise
    from modelcluster.fields import ParentalKey
    from wagtail.models import ModelLogEntry, Orderable, Page

    # Fields Wagtail declares (and names, or not) for pages, inlines and log entries.
    inherited = {field.name for model in (Page, Orderable, ModelLogEntry) for field in model._meta.get_fields()}
    untranslated = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_app_config("competition").get_models()
        for field in model._meta.get_fields()
        if field.concrete
        and not field.auto_created
        and field.name not in inherited
        and field.name != "latest_revision"  # RevisionMixin's, named by Wagtail
        and not isinstance(field, ParentalKey)  # an inline's key to its parent, never shown
        and not isinstance(field.verbose_name, Promise)
    ]

    assert untranslated == []


def test_vietnamese_plural_names_are_bare_nouns():
    """Vietnamese nouns take no plural mark: Wagtail writes "1731 báo cáo", never "1731 các báo cáo"."""
    from django.apps import apps
    from django.utils import translation

    with translation.override("vi"):
        plurals = {str(model._meta.verbose_name_plural) for model in apps.get_app_config("competition").get_models()}

    assert "báo cáo" in plurals
    assert not [name for name in plurals if name.startswith("các ")]


@pytest.mark.django_db
def test_the_evidence_files_help_reads_vietnamese_in_the_vietnamese_submission_form(client, world):  # noqa: F811
    """An agency editor whose admin is in Vietnamese opens "Thêm báo cáo" (add a submission): the
    help under "Thêm tệp minh chứng" is Vietnamese too (review-ux: it read "PDF, Office or
    OpenDocument files, CSV, PNG or JPEG; at most 20.0 MB each.", the lazy string formatted with
    `%` in the form's class body, so translated once at import)."""
    editor = world["editor_a"]
    set_admin_language(editor, "vi")
    client.force_login(editor)

    response = client.get(reverse("wagtailsnippets_competition_submission:add"))
    text = " ".join(BeautifulSoup(response.content, "html.parser").get_text(" ").split())

    assert response.status_code == 200
    assert "Thêm tệp minh chứng" in text  # the field's label is Vietnamese...
    assert "OpenDocument files" not in text, text[text.find("OpenDocument files") - 40 :][:120]  # ...its help too
    assert "Tệp PDF, Office hoặc OpenDocument" in text


@pytest.mark.django_db
def test_the_default_tiers_read_vietnamese_on_the_vietnamese_pages(client):
    """A competition that keeps the default tiers (its Tiers left empty, as the admin's help
    suggests: "Để trống để dùng các mức mặc định: Xuất sắc 90, Tốt 75, Khá 50, Chưa đạt 0.")
    shows them in the reader's language: the ranking's Xếp loại column, the legend and the
    agency's page read "Xuất sắc", not "Excellent" (review-ux: the labels of
    competition/scoring.py's DEFAULT_TIERS were shown untranslated). The open data keeps them."""
    competition = make_competition(slug="default-tiers", title="Default tiers 2025")
    target = make_target(competition, code="T1", baseline=0, target=100, max_points=10)
    agency = AgencyFactory(code="W1", name="Sài Gòn Ward")
    make_commitment(competition, agency, [target])
    make_submission(CommitmentLine.objects.get(commitment__agency=agency), "95", reported_on=date(2025, 6, 30))

    page = BeautifulSoup(
        client.get("/default-tiers/?as_of=2025-12-31", HTTP_ACCEPT_LANGUAGE="vi").content, "html.parser"
    )
    tier = page.select_one('table.board-table td[data-label="Xếp loại"]').get_text(strip=True)
    legend = [item.get_text(" ", strip=True) for item in page.select(".ranking-legend li")]
    record = BeautifulSoup(
        client.get("/default-tiers/agency-w1/?as_of=2025-12-31", HTTP_ACCEPT_LANGUAGE="vi").content, "html.parser"
    ).get_text(" ", strip=True)

    assert page.html["lang"] == "vi"
    assert (tier, legend[0].split(":")[0]) == ("Xuất sắc", "Xuất sắc"), (tier, legend)
    assert "Excellent" not in record, record[record.find("Excellent") - 40 :][:80]
    assert set(DEFAULT_TIER_LABELS) == {label for label, _minimum in DEFAULT_TIERS}  # each one translated
    # The open data keeps the label as computed, whatever the reader's language (docs/opendata.md).
    data = client.get("/default-tiers/scoreboard.json?as_of=2025-12-31", HTTP_ACCEPT_LANGUAGE="vi")
    assert json.loads(data.content)["agencies"][0]["tier"] == "Excellent"


def test_the_vietnamese_collation_key_follows_the_alphabet_then_the_tones():
    """Agency names are shown sorted in the Vietnamese alphabet (code points put "Đ" after "Z" and
    every letter with a diacritic after "z"); the tones only break ties between the same letters."""
    alphabet = list("aăâbcdđeêghiklmnoôơpqrstuưvxy")
    mixed = [letter.upper() if index % 2 else letter for index, letter in enumerate(alphabet)]

    assert [letter.lower() for letter in sorted(mixed[1::2] + mixed[::2], key=vietnamese_key)] == alphabet
    # The tones in their order (none, grave, hook, tilde, acute, dot below), after the letters:
    # "mạ" before "mac", "Bến" before "Bình" (ê before i).
    tones = ["ma", "mà", "mả", "mã", "má", "mạ", "mac"]
    assert sorted(tones[1::2] + tones[::2], key=vietnamese_key) == tones
    names = ["Bến Thành", "Bình Tây", "Dĩ An", "Đống Đa", "Nhà Bè", "Nhiêu Lộc", "Tân Định", "Thủ Đức"]
    assert sorted(names[1::2] + names[::2], key=vietnamese_key) == names
    # Precomposed and decomposed spellings sort alike; only equal strings have equal keys.
    assert vietnamese_key("Xuân Hòa")[:2] == vietnamese_key(unicodedata.normalize("NFD", "Xuân Hòa"))[:2]
    assert vietnamese_key("Xuân Hòa") != vietnamese_key("xuân hòa")
    assert sorted(["Quận 2", "Quận Ba", "Quận  1"], key=vietnamese_key) == ["Quận  1", "Quận 2", "Quận Ba"]
