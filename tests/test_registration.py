"""Registration (đăng ký thi đua): agencies propose their commitments, managers approve or return
them, approval publishes the commitment page; every state change is audited, every screen
scoped (docs/registration.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from competition.domain import registration as registrations
from competition.domain.reminders import reminder_text
from competition.domain.roles import EDITORS, MANAGERS, REVIEWERS, ensure_roles
from competition.models import (
    Agency,
    AgencyMembership,
    CommitmentLine,
    CommitmentPage,
    CompetitionLogEntry,
    CompetitionSignatory,
    Juror,
    Registration,
    RegistrationStatus,
    Submission,
)
from competition.models.registration import NOT_STARTED
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def reg():
    """A competition taking registrations (opened 30 days ago, due in 10 days) from agencies A and
    B (signatories) with a required target, an optional number target and a yes/no target; C takes
    part in another competition only, D in none."""
    groups = ensure_roles()
    competition = make_competition(
        slug="reg",
        title="Registration 2025",
        registration_opens=TODAY - timedelta(days=30),
        registration_due=TODAY + timedelta(days=10),
    )
    other = make_competition(slug="reg-other", title="Other", registration_opens=TODAY - timedelta(days=30))
    t1 = make_target(
        competition, code="T1", title="Files online", baseline=60, target=100, max_points=20, required=True
    )
    t2 = make_target(competition, code="T2", title="Records", unit="number", baseline=200, target=1000, max_points=10)
    t3 = make_target(competition, code="T3", title="Dashboard", unit="boolean", baseline=0, target=1, max_points=5)
    x1 = make_target(other, code="X1")
    agencies = {code: AgencyFactory(code=code, name=f"Agency {code}") for code in "ABCD"}
    for code in "AB":
        CompetitionSignatory.objects.create(page=competition, agency=agencies[code])
    make_commitment(other, agencies["C"], [x1])
    users = {}
    for name, code in (("editor_a", "A"), ("editor_b", "B"), ("editor_c", "C")):
        users[name] = UserFactory(username=name)
        users[name].groups.add(groups[EDITORS])
        AgencyMembership.objects.create(user=users[name], agency=agencies[code])
    users["manager"] = UserFactory(username="manager")
    users["manager"].groups.add(groups[MANAGERS])
    users["reviewer"] = UserFactory(username="reviewer")
    users["reviewer"].groups.add(groups[REVIEWERS])
    Juror.objects.create(competition=competition, user=users["reviewer"])
    return {
        "competition": competition,
        "other": other,
        "targets": {"T1": t1, "T2": t2, "T3": t3, "X1": x1},
        "agencies": agencies,
        **users,
    }


def page_url(world, code="A", competition="competition"):
    return reverse("competition_registration", args=[world[competition].pk, world["agencies"][code].pk])


def decide_url(world, code="A"):
    return reverse("competition_registration_decide", args=[world["competition"].pk, world["agencies"][code].pk])


def form_data(
    world, action="save", pledge="Build a database of voters' recommendations.", loaded_revision="", **targets
):
    """The registration form's POST: `targets` maps a code to a dict of its fields (commit ticked
    unless said otherwise)."""
    data = {"action": action, "pledge": pledge, "loaded_revision": loaded_revision}
    for code, fields in targets.items():
        prefix = f"t{world['targets'][code].pk}"
        fields = {"commit": "on", **fields}
        if fields.pop("commit") is not None:
            data[f"{prefix}-commit"] = "on"
        for name, value in fields.items():
            data[f"{prefix}-{name}"] = value
    return data


def registration_of(world, code="A"):
    return Registration.objects.filter(competition=world["competition"], agency=world["agencies"][code]).first()


def lines_of(registration):
    return {
        line.target.code: (line.baseline, line.target_value, line.justification)
        for line in registration.lines.select_related("target")
    }


def test_an_editor_drafts_submits_a_manager_returns_the_editor_resubmits_and_the_manager_approves(
    client, reg, django_capture_on_commit_callbacks
):
    client.force_login(reg["editor_a"])
    response = client.get(page_url(reg))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Status:</strong> Not started" in content
    assert "Required of every agency" in content

    own = {"target_value": "1200", "justification": "Last year we received 1,100 records online."}
    response = client.post(page_url(reg), form_data(reg, T2=own))
    assert response.status_code == 302
    registration = registration_of(reg)
    assert registration.status == RegistrationStatus.DRAFT
    # The required target is in although the form did not tick it.
    assert lines_of(registration) == {
        "T1": (None, None, ""),
        "T2": (None, Decimal("1200"), "Last year we received 1,100 records online."),
    }

    response = client.post(
        page_url(reg),
        form_data(reg, action="submit", T2=own, loaded_revision=str(registration.latest_revision_id)),
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert (registration.status, registration.submitted_by) == (RegistrationStatus.SUBMITTED, reg["editor_a"])

    client.force_login(reg["manager"])
    assert client.post(decide_url(reg), {"decision": "return", "note": ""}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SUBMITTED  # a return needs a reason
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide_url(reg), {"decision": "return", "note": "Give the figure of 2024."})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.RETURNED
    assert registration.decision_note == "Give the figure of 2024."
    assert [message.subject for message in mail.outbox] == ["[Registration 2025] Registration of Agency A: Returned"]
    assert "Reason: Give the figure of 2024." in mail.outbox[0].body

    client.force_login(reg["editor_a"])
    assert "Give the figure of 2024." in client.get(page_url(reg)).content.decode()
    fixed = {"target_value": "1200", "justification": "In 2024 we received 1,100 records online."}
    client.post(
        page_url(reg), form_data(reg, action="submit", T2=fixed, loaded_revision=str(registration.latest_revision_id))
    )
    registration.refresh_from_db()
    assert (registration.status, registration.decision_note) == (RegistrationStatus.SUBMITTED, "")

    client.force_login(reg["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide_url(reg), {"decision": "approve"})
    registration.refresh_from_db()
    assert (registration.status, registration.decided_by) == (RegistrationStatus.APPROVED, reg["manager"])
    page = CommitmentPage.objects.get(competition=reg["competition"], agency=reg["agencies"]["A"])
    assert page.live and page.pledge == "<p>Build a database of voters&#x27; recommendations.</p>"
    assert {line.target.code: (line.baseline, line.target_value) for line in page.lines.all()} == {
        "T1": (None, None),
        "T2": (None, Decimal("1200")),
    }
    assert PageLogEntry.objects.filter(page=page, action="wagtail.publish", user=reg["manager"]).exists()
    entries = CompetitionLogEntry.objects.for_instance(registration)
    actions = list(entries.order_by("timestamp", "pk").values_list("action", flat=True))
    assert actions == [
        "wagtail.create",
        "wagtail.edit",
        "competition.registration_submit",
        "competition.registration_return",
        "wagtail.edit",
        "competition.registration_submit",
        "competition.registration_approve",
    ]
    assert mail.outbox[-1].subject == "[Registration 2025] Registration of Agency A: Approved"

    reader = client.get(page.url).content.decode()
    assert "Build a database of voters" in reader


def submitted(world, code="A", **targets):
    """A registration of `code` saved and submitted through the domain (T1 and `targets`)."""
    agency, editor = world["agencies"][code], world[f"editor_{code.lower()}"]
    lines = {world["targets"]["T1"].pk: registrations.LineData(world["targets"]["T1"])}
    for target_code, (target_value, justification) in targets.items():
        target = world["targets"][target_code]
        lines[target.pk] = registrations.LineData(target, None, Decimal(target_value), justification)
    data = registrations.RegistrationData(f"Pledge of {code}", lines)
    return registrations.save(world["competition"], agency, editor, data, submit_after=True)


def test_another_agencys_registration_is_a_404_and_an_agency_outside_the_competition_has_none(client, reg):
    submitted(reg)
    client.force_login(reg["editor_b"])
    assert client.get(page_url(reg, "A")).status_code == 404
    assert client.post(page_url(reg, "A"), form_data(reg, T2={})).status_code == 404
    assert client.post(decide_url(reg, "A"), {"decision": "approve"}).status_code == 404
    client.force_login(reg["manager"])
    assert client.get(page_url(reg, "C")).status_code == 404  # C takes part in another competition only
    client.force_login(reg["reviewer"])
    assert client.get(page_url(reg, "A")).status_code == 404
    assert registration_of(reg).status == RegistrationStatus.SUBMITTED


def test_an_own_value_needs_a_justification_and_bad_input_changes_nothing(client, reg):
    client.force_login(reg["editor_a"])
    response = client.post(page_url(reg), form_data(reg, T2={"target_value": "1200"}))
    assert response.status_code == 200
    assert "Say why the agency proposes its own baseline or target value." in response.content.decode()
    response = client.post(page_url(reg), form_data(reg, T2={"target_value": "12,5x", "justification": "Why"}))
    assert response.status_code == 200
    assert registration_of(reg) is None


def test_a_required_target_cannot_be_taken_out_even_by_a_forged_post(reg):
    data = registrations.RegistrationData("", {reg["targets"]["T2"].pk: registrations.LineData(reg["targets"]["T2"])})
    with pytest.raises(ValidationError, match="T1"):
        registrations.save(reg["competition"], reg["agencies"]["A"], reg["editor_a"], data)
    assert registration_of(reg) is None


def test_editors_cannot_decide_and_a_submitted_registration_is_not_editable(client, reg):
    registration = submitted(reg)
    with pytest.raises(PermissionDenied):
        registrations.decide(registration, reg["editor_a"], "approve")
    client.force_login(reg["editor_a"])
    response = client.post(page_url(reg), form_data(reg, pledge="Changed", T2={}), follow=True)
    assert "it cannot change now" in response.content.decode()
    registration.refresh_from_db()
    assert (registration.status, registration.pledge) == (RegistrationStatus.SUBMITTED, "Pledge of A")


def test_registration_before_it_opens_is_refused(client, reg):
    competition = reg["competition"]
    competition.registration_opens = TODAY + timedelta(days=1)
    competition.save(update_fields=["registration_opens"])
    client.force_login(reg["editor_a"])
    response = client.post(page_url(reg), form_data(reg), follow=True)
    assert "Registration opens on" in response.content.decode()
    assert registration_of(reg) is None


def test_the_returned_e_mail_is_in_each_editors_language(reg, django_capture_on_commit_callbacks):
    from wagtail.users.models import UserProfile

    vietnamese = UserFactory(username="editor_a_vi", email="vi@example.org")
    AgencyMembership.objects.create(user=vietnamese, agency=reg["agencies"]["A"])
    profile = UserProfile.get_for_user(vietnamese)
    profile.preferred_language = "vi"
    profile.save()
    registration = submitted(reg)
    with django_capture_on_commit_callbacks(execute=True):
        registrations.decide(registration, reg["manager"], "return", "Thiếu số liệu 2024.")
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert by_recipient[("vi@example.org",)].subject == "[Registration 2025] Đăng ký thi đua của Agency A: Đã trả lại"
    assert "Lý do: Thiếu số liệu 2024." in by_recipient[("vi@example.org",)].body
    english = by_recipient[(reg["editor_a"].email,)]
    assert english.subject == "[Registration 2025] Registration of Agency A: Returned"


def test_a_manager_changing_an_approved_registration_makes_a_new_revision_with_an_audit_entry(reg):
    registration = submitted(reg, T2=("1200", "Last year's figure"))
    registrations.decide(registration, reg["manager"], "approve")
    page = CommitmentPage.objects.get(competition=reg["competition"], agency=reg["agencies"]["A"])
    revisions = page.revisions.count()
    t1, t2 = reg["targets"]["T1"], reg["targets"]["T2"]
    data = registrations.RegistrationData(
        "Pledge of A",
        {
            t1.pk: registrations.LineData(t1),
            t2.pk: registrations.LineData(t2, None, Decimal("1500"), "Agreed at the meeting"),
        },
    )
    registration, changes = registrations.change_approved(registration, reg["manager"], data)
    assert changes == ["T2 target_value: 1200 → 1500", "T2 justification: Last year's figure → Agreed at the meeting"]
    page.refresh_from_db()
    assert page.revisions.count() == revisions + 1
    assert CommitmentLine.objects.get(commitment=page, target=t2).target_value == Decimal("1500")
    entry = CompetitionLogEntry.objects.for_instance(registration).get(action="competition.registration_change")
    assert entry.user == reg["manager"] and entry.data["changes"] == changes
    # Nobody else changes an approved registration, and its editors no longer can.
    with pytest.raises(PermissionDenied):
        registrations.change_approved(registration, reg["editor_a"], data)
    # An unchanged form changes nothing.
    assert registrations.change_approved(registration, reg["manager"], data)[1] == []
    assert page.revisions.count() == revisions + 1


def test_approval_updates_an_existing_commitment_page_and_keeps_lines_with_reported_values(reg):
    agency = reg["agencies"]["B"]
    page = make_commitment(reg["competition"], agency, [reg["targets"]["T2"]])
    line = CommitmentLine.objects.get(commitment=page)
    Submission.objects.create(line=line, reported_on=TODAY, value=300)
    registration = registrations.save(
        reg["competition"], agency, reg["editor_b"], registrations.current_data(reg["competition"], agency)
    )
    assert {line.target.code for line in registration.lines.select_related("target")} == {"T1", "T2"}
    registration = registrations.submit(registration, reg["editor_b"])
    registrations.decide(registration, reg["manager"], "approve")
    page.refresh_from_db()
    assert {line.target.code: line.pk for line in page.lines.all()}["T2"] == line.pk
    assert sorted(line.target.code for line in page.lines.all()) == ["T1", "T2"]


def test_the_overview_lists_overdue_first_with_a_constant_number_of_queries(client, reg, django_assert_max_num_queries):
    competition = reg["competition"]
    submitted(reg, "B")
    competition.registration_due = TODAY - timedelta(days=1)
    competition.save(update_fields=["registration_due"])
    rows = registrations.overview(competition)
    assert [(row.agency.code, row.state, row.overdue) for row in rows] == [
        ("A", NOT_STARTED, True),
        ("B", RegistrationStatus.SUBMITTED, False),
    ]
    client.force_login(reg["manager"])
    url = reverse("competition_registration_overview", args=[competition.pk])
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        assert client.get(url).status_code == 200
    for i in range(8):
        agency = AgencyFactory(code=f"N{i}")
        CompetitionSignatory.objects.create(page=competition, agency=agency)
        Registration.objects.create(competition=competition, agency=agency, pledge=f"P{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        content = client.get(url).content.decode()
    assert content.index("Agency A") < content.index("Agency B")
    export = client.get(reverse("competition_registration_export", args=[competition.pk, "csv"]))
    text = export.content.decode()
    assert text.splitlines()[0].startswith("competition,agency,agency_name,status,overdue")
    assert "reg,A,Agency A,not_started,yes" in text


def test_reminders_and_the_dashboard_include_due_and_returned_registrations(client, reg):
    registration = submitted(reg, "B")
    registrations.decide(registration, reg["manager"], "return", "Add the 2024 figure.")
    text_a = reminder_text(reg["editor_a"], {reg["agencies"]["A"].pk}, TODAY, 14)
    due = (TODAY + timedelta(days=10)).strftime("%m/%d/%Y")  # in the reader's (English) short form
    assert f"Agency A · Registration 2025: registration due by {due}" in text_a
    text_b = reminder_text(reg["editor_b"], {reg["agencies"]["B"].pk}, TODAY, 14)
    assert "Agency B · Registration 2025: registration returned to you: Add the 2024 figure." in text_b
    # Due in 10 days: not within 3.
    assert reminder_text(reg["editor_a"], {reg["agencies"]["A"].pk}, TODAY, 3) is None

    client.force_login(reg["editor_b"])
    dashboard = client.get("/admin/").content.decode()
    assert "returned to you: Add the 2024 figure." in dashboard
    client.force_login(reg["manager"])
    dashboard = client.get("/admin/").content.decode()
    assert "1 returned" in dashboard and "0 await your decision" in dashboard


def test_the_public_commitment_page_shows_the_pledges_and_the_own_target(client, reg):
    registration = submitted(reg, T2=("1200", "Last year's figure"))
    registrations.decide(registration, reg["manager"], "approve")
    page = CommitmentPage.objects.get(competition=reg["competition"], agency=reg["agencies"]["A"])
    content = client.get(page.url).content.decode()
    assert "Pledge of A" in content
    assert "from 200 to 1200" in content
    assert "<strong>Own target of the agency</strong> (shared: 200 → 1000)" in content


def test_an_agency_with_only_a_registration_is_not_deleted_and_the_user_is_told_why(client, reg):
    """Registrations are outside Wagtail's reference index, so its delete screen does not know
    they protect the agency: the database refuses, and the user reads why (no error page)."""
    from wagtail.models import ModelLogEntry

    agency = reg["agencies"]["D"]
    Registration.objects.create(competition=reg["competition"], agency=agency, pledge="Ours")
    client.force_login(UserFactory(username="root", is_superuser=True))
    url = reverse("wagtailsnippets_competition_agency:delete", args=[agency.pk])

    response = client.post(url, follow=True)

    assert response.redirect_chain == [(url, 302)]
    assert Agency.objects.filter(pk=agency.pk).exists()
    assert not ModelLogEntry.objects.filter(action="wagtail.delete", object_id=str(agency.pk)).exists()
    assert f"“{agency}” cannot be deleted: registrations still refer to it." in response.content.decode()
