"""The screens editors and managers use every day (issue 20): submitting from the form with a
confirmation, the chosen target's facts beside the fields, evidence files kept across a refused
form, submitted evidence shown read-only, deciding in context then moving to the next pending
item, decision e-mails with a link and figures in the reader's language, the review queue's
filters by choice, and the account screen saying what stops it from saving."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from competition.domain import evidence, stash
from competition.domain.languages import short_date
from competition.enums import SubmissionStatus
from competition.models import Submission
from competition.templatetags.competition_tags import signed_points
from tests.test_evidence import PDF, add_data, url, world  # noqa: F401  (the same people and lines)

pytestmark = pytest.mark.django_db


def accepted(line, value, day, manager, editor):
    submission = Submission.objects.create(line=line, reported_on=day, value=Decimal(value), created_by=editor)
    evidence.submit(submission, editor)
    evidence.decide(submission, manager, "accept")
    return submission


def submitted(line, value, day, editor):
    submission = Submission.objects.create(line=line, reported_on=day, value=Decimal(value), created_by=editor)
    evidence.submit(submission, editor)
    return submission


# --- 1. Save draft and Submit for review side by side, the target's facts beside the fields -----


def test_the_form_offers_save_draft_and_submit_for_review_side_by_side(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    content = client.get(url("add")).content.decode()
    assert "Save draft" in content
    assert 'name="action-submit"' in content and "Submit for review" in content
    # Managers do not report: no Submit button for them.
    client.force_login(world["manager"])
    assert 'name="action-submit"' not in client.get(url("add")).content.decode()


def test_submit_for_review_saves_the_draft_then_asks_before_submitting(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    response = client.post(url("add"), add_data(world["line_a"], value="55.50", **{"action-submit": "1"}))
    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == url("submit", submission.pk)
    assert submission.status == SubmissionStatus.DRAFT  # not yet: the editor confirms first
    confirm = client.get(url("submit", submission.pk))
    assert confirm.status_code == 200
    content = confirm.content.decode()
    assert "Submit for review?" in content and "Yes, submit for review" in content and "55.5" in content
    assert "55.5000" not in content
    response = client.post(url("submit", submission.pk))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    assert response["Location"] == url("inspect", submission.pk)


def test_the_edit_form_of_a_returned_submission_also_offers_submit(client, world):  # noqa: F811
    submission = submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    evidence.decide(submission, world["manager"], "return", "Add the scan.")
    client.force_login(world["editor_a"])
    content = client.get(url("edit", submission.pk)).content.decode()
    assert 'name="action-submit"' in content
    response = client.post(url("edit", submission.pk), add_data(world["line_a"], value="41", **{"action-submit": "1"}))
    assert response["Location"] == url("submit", submission.pk)


def test_the_form_shows_the_chosen_targets_facts_without_javascript(client, world):  # noqa: F811
    accepted(world["line_a"], "12.5000", date(2025, 3, 31), world["manager"], world["editor_a"])
    draft = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=Decimal("20"))
    client.force_login(world["editor_a"])
    content = client.get(url("edit", draft.pk)).content.decode()
    facts = content[content.index("data-line-context-facts") :]
    facts = re.sub(r"\s+", " ", facts[: facts.index("</dl>")])
    assert 'data-fact="baseline">0<' in facts and 'data-fact="target_value">100<' in facts
    assert 'data-fact="deadline">Dec. 31, 2025<' in facts
    assert "12.5 (reported on March 31, 2025)" in facts
    # Every line offered, for the script to follow the select; the empty add form says what to do.
    add = client.get(url("add")).content.decode()
    assert 'id="competition-line-facts"' in add and f'"{world["line_a"].pk}"' in add
    assert "Choose a commitment target to see" in add


def test_the_facts_are_in_the_readers_language(client, world):  # noqa: F811
    accepted(world["line_a"], "12.5", date(2025, 3, 31), world["manager"], world["editor_a"])
    profile = UserProfile.get_for_user(world["editor_a"])
    profile.preferred_language = "vi"
    profile.save()
    client.force_login(world["editor_a"])
    draft = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=Decimal("20"))
    content = client.get(url("edit", draft.pk)).content.decode()
    assert "12,5" in content


def test_the_facts_cost_the_same_queries_whatever_the_number_of_lines(world, django_assert_max_num_queries):  # noqa: F811
    from competition.domain.line_context import annotate_last_accepted, facts
    from competition.models import CommitmentLine

    lines = annotate_last_accepted(CommitmentLine.objects.select_related("commitment__competition", "target"))
    with django_assert_max_num_queries(1):
        assert len([facts(line) for line in lines]) == 3


# --- 2. An evidence file chosen on a refused form is kept -------------------------------------


def test_an_evidence_file_survives_a_refused_form(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    upload = SimpleUploadedFile("scan.pdf", PDF, "application/pdf")
    refused = client.post(url("add"), add_data(world["line_a"], value="not a number", new_attachments=upload))
    assert refused.status_code == 200 and not Submission.objects.exists()
    content = refused.content.decode()
    assert "Files kept from your last try" in content and "scan.pdf" in content
    tokens = re.findall(r'name="kept_attachments" value="([^"]+)"[^>]*checked', content)
    assert len(tokens) == 1
    saved = client.post(url("add"), add_data(world["line_a"], value="55", kept_attachments=tokens))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    document = Submission.objects.get().attachments.get().document
    with document.file.open("rb") as stored:
        assert document.title == "scan.pdf" and stored.read() == PDF
    # Used once: gone from the stash.
    assert stash.name_of(tokens[0], world["editor_a"]) is None


def test_a_kept_file_refused_again_stays_kept_and_an_unticked_one_is_left_out(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    upload = SimpleUploadedFile("scan.pdf", PDF, "application/pdf")
    first = client.post(url("add"), add_data(world["line_a"], value="x", new_attachments=upload)).content.decode()
    token = re.findall(r'name="kept_attachments" value="([^"]+)"', first)[0]
    again = client.post(url("add"), add_data(world["line_a"], value="y", kept_attachments=[token])).content.decode()
    assert re.search(r'name="kept_attachments" value="' + re.escape(token) + r'"[^>]*checked', again)
    client.post(url("add"), add_data(world["line_a"], value="5"))  # unticked: not sent
    assert not Submission.objects.get().attachments.exists()


def test_nobody_else_can_claim_a_kept_file(client, world):  # noqa: F811
    client.force_login(world["editor_a"])
    upload = SimpleUploadedFile("scan.pdf", PDF, "application/pdf")
    first = client.post(url("add"), add_data(world["line_a"], value="x", new_attachments=upload)).content.decode()
    token = re.findall(r'name="kept_attachments" value="([^"]+)"', first)[0]
    client.force_login(world["editor_b"])
    client.post(url("add"), add_data(world["line_b"], value="5", kept_attachments=[token]))
    assert not any(submission.attachments.exists() for submission in Submission.objects.all())
    # A forged token is no file either.
    assert stash.name_of("forged:token", world["editor_a"]) is None


def test_a_good_evidence_file_is_kept_when_another_file_chosen_with_it_is_refused(client, world):  # noqa: F811
    """report.pdf and a .exe chosen at once: the form is refused for the .exe, and report.pdf, which
    passed its own checks, is kept and offered ticked (docs/evidence.md)."""
    client.force_login(world["editor_a"])
    files = [
        SimpleUploadedFile("report.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "application/octet-stream"),
    ]
    response = client.post(url("add"), add_data(world["line_a"], new_attachments=files))
    assert "virus.exe: files of this type are not accepted" in response.content.decode()
    assert not Submission.objects.exists()
    form = response.context["form"]
    assert "kept_attachments" in form.fields, "report.pdf was not kept"
    assert [name for _token, name in form.fields["kept_attachments"].choices] == ["report.pdf"]


def test_evidence_files_chosen_on_a_form_refused_as_stale_are_kept(client, world):  # noqa: F811
    """A colleague saved the draft while the editor chose scan.pdf: the form is refused as stale
    ("save again to keep yours") and scan.pdf is kept, ticked; saving again attaches it."""
    from django.test import Client

    draft = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=40)
    draft.save_revision(user=world["editor_a"])
    client.force_login(world["editor_a"])
    mine = str(client.get(url("edit", draft.pk)).context["object"].latest_revision_id)
    colleague = Client()
    colleague.force_login(world["editor_a"])
    theirs = str(colleague.get(url("edit", draft.pk)).context["object"].latest_revision_id)
    saved = colleague.post(url("edit", draft.pk), add_data(world["line_a"], value="70", loaded_revision_id=theirs))
    assert saved.status_code == 302

    upload = SimpleUploadedFile("scan.pdf", PDF, "application/pdf")
    data = add_data(world["line_a"], value="80", loaded_revision_id=mine, new_attachments=[upload])
    response = client.post(url("edit", draft.pk), data)

    assert "Someone else saved this submission" in response.content.decode()
    assert not draft.attachments.exists()
    form = response.context["form"]
    assert "kept_attachments" in form.fields, "scan.pdf is neither attached nor kept"
    assert [name for _token, name in form.fields["kept_attachments"].choices] == ["scan.pdf"]
    tokens = re.findall(r'name="kept_attachments" value="([^"]+)"[^>]*checked', response.content.decode())
    assert len(tokens) == 1
    # Saved again, as the message asks: the value and the file are kept.
    latest = str(response.context["object"].latest_revision_id)
    again = client.post(
        url("edit", draft.pk),
        add_data(world["line_a"], value="80", loaded_revision_id=latest, kept_attachments=tokens),
    )
    assert again.status_code == 302, again.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.value == Decimal(80)
    assert [a.document.title for a in draft.attachments.all()] == ["scan.pdf"]


# --- 3. A submitted submission's edit URL shows it read-only -----------------------------------


@pytest.mark.parametrize(
    ("decision", "words"),
    [(None, "submitted for review"), ("accept", "was accepted"), ("reject", "was rejected")],
)
def test_the_edit_url_of_a_submitted_or_decided_submission_shows_it_read_only(client, world, decision, words):  # noqa: F811
    submission = submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    if decision:
        evidence.decide(submission, world["manager"], decision, "No." if decision == "reject" else "")
    client.force_login(world["editor_a"])
    response = client.get(url("edit", submission.pk), follow=True)
    assert response.redirect_chain == [(url("inspect", submission.pk), 302)]
    content = response.content.decode()
    assert words in content and "read-only" in content and "permission" not in content.lower()
    # Still nothing to save: a POST is refused and changes nothing.
    client.post(url("edit", submission.pk), add_data(world["line_a"], value="99"))
    submission.refresh_from_db()
    assert submission.value == Decimal("40")
    # Another agency's editor still learns nothing.
    client.force_login(world["editor_b"])
    assert client.get(url("edit", submission.pk)).status_code in (403, 404)


# --- 4. Deciding in context, then the next pending item ----------------------------------------


def test_the_decision_screen_shows_the_targets_facts_and_earlier_values(client, world):  # noqa: F811
    accepted(world["line_a"], "12.5000", date(2025, 3, 31), world["manager"], world["editor_a"])
    pending = submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    client.force_login(world["manager"])
    content = re.sub(r"\s+", " ", client.get(url("inspect", pending.pk)).content.decode())
    assert "Baseline" in content and "Target value" in content and "Deadline" in content
    assert "earlier values for this target" in content
    assert "March 31, 2025: 12.5" in content
    assert 'name="decision" value="accept"' in content


def test_after_a_decision_the_manager_goes_to_the_next_pending_item(client, world):  # noqa: F811
    first = submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    second = submitted(world["line_b"], "50", date(2025, 6, 30), world["editor_b"])
    client.force_login(world["manager"])
    response = client.post(url("decide", first.pk), {"decision": "accept"})
    assert response["Location"] == url("inspect", second.pk)
    response = client.post(url("decide", second.pk), {"decision": "return", "note": "Scan?"}, follow=True)
    assert response.redirect_chain[-1][0] == url("list") + "?status=submitted"
    assert "No more submissions are waiting for your decision." in response.content.decode()
    # A refused decision stays on the submission.
    third = submitted(world["line_a"], "45", date(2025, 9, 30), world["editor_a"])
    response = client.post(url("decide", third.pk), {"decision": "return", "note": ""})
    assert response["Location"] == url("inspect", third.pk)


def test_the_next_pending_item_is_one_the_manager_may_decide(world):  # noqa: F811
    submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    assert evidence.next_pending(world["manager"]) is not None
    assert evidence.next_pending(world["editor_a"]) is None  # editors never decide


# --- 5. Decision e-mails -------------------------------------------------------------------------


def decided_mail(world, language, value):  # noqa: F811
    profile = UserProfile.get_for_user(world["editor_a"])
    profile.preferred_language = language
    profile.save()
    submission = submitted(world["line_a"], value, date(2025, 6, 30), world["editor_a"])
    evidence.decide(submission, world["manager"], "return", "Add the scan.")
    Submission.objects.filter(pk=submission.pk).update(decided_at=datetime(2025, 7, 1, 15, 32, tzinfo=UTC))
    submission.refresh_from_db()
    evidence.notify_decision(submission)
    return submission, mail.outbox[-1]


def test_a_decision_email_links_to_the_submission_with_the_value_as_entered(world, settings):  # noqa: F811
    settings.WAGTAILADMIN_BASE_URL = "https://thidua.example.org"
    submission, message = decided_mail(world, "en", "76.9000")
    assert f"https://thidua.example.org{url('inspect', submission.pk)}" in message.body
    assert "76.9 (percent)" in message.body and "76.9000" not in message.body
    assert "06/30/2025" in message.subject and "06/30/2025" in message.body
    assert "10:32 p.m." in message.body  # 15:32 UTC is 22:32 in Ho Chi Minh City


def test_a_decision_email_in_vietnamese_writes_numbers_and_dates_the_vietnamese_way(world):  # noqa: F811
    _submission, message = decided_mail(world, "vi", "76.9000")
    assert "76,9" in message.body and "76.9" not in message.body
    with translation.override("vi"):  # the site's own short date format (d/m/Y in the demo)
        day = short_date(date(2025, 6, 30))
    assert day in message.subject and day in message.body and "2025-06-30" not in message.subject + message.body
    assert "22:32" in message.body


# --- 6. The review queue's filters by choice -----------------------------------------------------


def test_the_review_queue_filters_by_choice(client, world):  # noqa: F811
    submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    accepted(world["line_b"], "50", date(2025, 6, 30), world["manager"], world["editor_b"])
    client.force_login(world["manager"])
    queue = reverse("competition_review_queue")
    content = client.get(queue).content.decode()
    agency_a = world["line_a"].commitment.agency
    for name in ("agency", "target", "group", "status"):
        assert f'<select name="{name}"' in content
    assert f'<option value="{agency_a.code}">{agency_a.name}</option>' in content
    assert '<option value="T1">' in content
    only_submitted = client.get(queue, {"status": "submitted"}).context["queue"]
    assert [submission.status for submission, _gap in only_submitted] == [SubmissionStatus.SUBMITTED]
    only_a = client.get(queue, {"agency": agency_a.code}).context["queue"]
    assert {submission.line_id for submission, _gap in only_a} == {world["line_a"].pk}
    # A value that is not offered is reported and left out, never an error.
    response = client.get(queue, {"agency": "nowhere"})
    assert response.status_code == 200 and len(response.context["queue"]) == 2


# --- 7. The account screen says what stops it from saving ---------------------------------------


ACCOUNT_PREFERENCES = {
    "locale-preferred_language": "vi",
    "locale-current_time_zone": "Asia/Ho_Chi_Minh",
    "theme-theme": "system",
    "theme-density": "default",
    "theme-contrast": "system",
    "theme-keyboard_shortcuts": "on",
}


def test_a_user_without_names_or_address_saves_their_language_and_time_zone(client, world):  # noqa: F811
    """Wagtail's name panel required a first and last name (and an e-mail address) of everyone:
    someone created without them could not change their language without inventing one."""
    user = world["editor_a"]
    user.first_name = user.last_name = user.email = ""
    user.save()
    client.force_login(user)
    response = client.post(reverse("wagtailadmin_account"), ACCOUNT_PREFERENCES)
    assert response.status_code == 302
    profile = UserProfile.get_for_user(user)
    assert (profile.preferred_language, profile.current_time_zone) == ("vi", "Asia/Ho_Chi_Minh")
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("", "", "")
    # A name given is saved as ever.
    client.post(reverse("wagtailadmin_account"), {**ACCOUNT_PREFERENCES, "name_email-first_name": "Lan"})
    user.refresh_from_db()
    assert user.first_name == "Lan"


def test_the_account_screen_says_at_the_top_which_names_to_fill(client, world):  # noqa: F811
    """A name once given is not emptied: the screen says at the top which field stops it."""
    user = world["editor_a"]
    user.first_name, user.last_name = "Lan", "Nguyễn"
    user.save()
    client.force_login(user)
    response = client.post(reverse("wagtailadmin_account"), {**ACCOUNT_PREFERENCES, "name_email-email": user.email})
    assert response.status_code == 200
    assert UserProfile.get_for_user(user).preferred_language != "vi"
    content = response.content.decode()
    alert = content[content.index("competition-account-errors") :]
    alert = alert[: alert.index("</div>")]
    assert "Your settings were not saved." in alert
    assert "First Name" in alert and "Last Name" in alert and "#tab-profile" in alert


# --- 8. Numbers in the reader's language ---------------------------------------------------------


def test_signed_points_drop_trailing_zeros_in_the_readers_language():
    assert signed_points(Decimal("3.00")) == "+3"
    assert signed_points(Decimal("-0.25")) == "-0.25"
    with translation.override("vi"):
        assert signed_points(Decimal("1.50")) == "+1,5"


def test_the_messages_after_submitting_and_deciding_are_in_the_users_language(client, world):  # noqa: F811
    for name in ("editor_a", "manager"):
        profile = UserProfile.get_for_user(world[name])
        profile.preferred_language = "vi"
        profile.save()
    submission = submitted(world["line_a"], "40", date(2025, 6, 30), world["editor_a"])
    client.force_login(world["editor_a"])
    shown = client.get(url("edit", submission.pk), follow=True).content.decode()
    assert "chế độ chỉ xem" in shown and "read-only" not in shown
    client.force_login(world["manager"])
    shown = client.post(url("decide", submission.pk), {"decision": "accept"}, follow=True).content.decode()
    assert "Không còn báo cáo nào chờ bạn quyết định." in shown and "Decision recorded." not in shown


def test_the_saved_message_names_the_submission_in_the_editors_language(client, world):  # noqa: F811
    """Wagtail's "Báo cáo 'A · T1 · 2025-06-30 · 55.5' created.": codes, an ISO date, a dot and
    an English verb in a Vietnamese admin."""
    from django.contrib.messages import get_messages

    set_language = UserProfile.get_for_user(world["editor_a"])
    set_language.preferred_language = "vi"
    set_language.save()
    client.force_login(world["editor_a"])
    response = client.post(url("add"), add_data(world["line_a"], value="55.5"))
    assert response.status_code == 302
    (created,) = [str(message) for message in get_messages(response.wsgi_request)]
    agency, target = world["line_a"].commitment.agency, world["line_a"].target
    with translation.override("vi"):  # the host site's format for Vietnamese: 30/06/2025 or 30-06-2025
        day = short_date(date(2025, 6, 30))
    title = f"{agency.name} · {target.code} {target.title} · {day} · 55,5"
    assert created.startswith(f"Đã lưu bản nháp báo cáo “{title}”.")  # then Wagtail's Edit button
    submission = Submission.objects.get(line=world["line_a"])
    response = client.post(url("edit", submission.pk), add_data(world["line_a"], value="56"))
    saved = [str(message) for message in get_messages(response.wsgi_request)][-1]
    assert saved.startswith(f"Đã lưu báo cáo “{title.replace('55,5', '56')}”.")


def test_the_vietnamese_sidebar_labels_fit_the_sidebar():
    """Wagtail's sidebar cuts a label past about 20 characters (14 beside a group's arrow): the
    Vietnamese labels of the app's menu are short enough, whatever a host site's catalogue says
    of "Competitions" on its own pages (the demo's home page)."""
    from competition.viewsets import CompetitionViewSetGroup

    with translation.override("vi"):
        assert len(str(CompetitionViewSetGroup.menu_label)) <= 14
        # Beside its icon the review queue's label shows about 17 characters: "Chờ chấm điểm (4…"
        # was all the demo's manager read of "Chờ chấm điểm (407)". Counts run to four digits.
        assert len(f"{translation.gettext('Review queue')} (1731)") <= 17
        assert len(translation.gettext("Import and export")) <= 20
        assert len(translation.gettext("Registrations")) <= 20
