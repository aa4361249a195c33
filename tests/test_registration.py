"""Registration (đăng ký thi đua): agencies propose their commitments, managers approve or return
them, approval publishes the commitment page; every state change is audited, every screen
scoped (docs/registration.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from competition.domain.roles import EDITORS, MANAGERS, REVIEWERS, ensure_roles
from competition.models import (
    AgencyMembership,
    CommitmentPage,
    CompetitionLogEntry,
    CompetitionSignatory,
    Juror,
    Registration,
    RegistrationStatus,
)
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
