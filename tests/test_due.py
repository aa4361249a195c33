"""Reporting deadlines, the dashboard panels and the reminder e-mails."""

from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command

from competition.domain import evidence
from competition.domain.due import due_items, lines_for_agencies, reporting_deadlines
from competition.domain.reminders import send_reminders
from competition.enums import ReportingSchedule, SubmissionStatus
from competition.models import CommitmentLine, ReportingDeadline, Submission
from tests.test_evidence import world  # noqa: F401  (the same people and lines)

pytestmark = pytest.mark.django_db


def test_deadlines_from_a_schedule_and_explicit_dates(world):  # noqa: F811
    competition = world["competition"]
    competition.reporting_schedule = ReportingSchedule.QUARTERLY
    competition.save()
    ReportingDeadline.objects.create(page=competition, date=date(2025, 5, 15))
    ReportingDeadline.objects.create(page=competition, date=date(2026, 5, 15))  # outside: ignored

    assert reporting_deadlines(competition) == [
        date(2025, 3, 31),
        date(2025, 5, 15),
        date(2025, 6, 30),
        date(2025, 9, 30),
        date(2025, 12, 31),
    ]
    competition.reporting_schedule = ReportingSchedule.MONTHLY
    assert len(reporting_deadlines(competition)) == 12 + 1


def test_due_and_overdue_lines(world):  # noqa: F811
    competition = world["competition"]
    competition.reporting_schedule = ReportingSchedule.QUARTERLY
    competition.save()
    line_a = world["line_a"]
    Submission.objects.create(line=line_a, reported_on=date(2025, 3, 15), value=5, status=SubmissionStatus.ACCEPTED)
    Submission.objects.create(line=line_a, reported_on=date(2025, 6, 1), value=6)  # a draft does not count

    items = due_items(lines_for_agencies([line_a.commitment.agency_id]), today=date(2025, 6, 20), within_days=14)

    assert [(item.deadline, item.overdue) for item in items] == [(date(2025, 6, 30), False)]
    later = due_items(lines_for_agencies([line_a.commitment.agency_id]), today=date(2025, 7, 5), within_days=0)
    assert [(item.deadline, item.overdue) for item in later] == [(date(2025, 6, 30), True)]


def test_reminders_once_a_day_with_due_and_returned(world):  # noqa: F811
    competition = world["competition"]
    competition.reporting_schedule = ReportingSchedule.QUARTERLY
    competition.save()
    submission = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 3, 15), value=5)
    evidence.submit(submission, world["editor_a"])
    evidence.decide(submission, world["manager"], "return", "Wrong month")
    mail.outbox.clear()

    assert send_reminders(within_days=7, today=date(2025, 3, 28)) == (2, 0)
    assert send_reminders(within_days=7, today=date(2025, 3, 28)) == (0, 2)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "returned to you: Wrong month" in bodies["editor_a@example.org"]
    assert "due by 03/31/2025" in bodies["editor_b@example.org"]
    assert "Wrong month" not in bodies["editor_b@example.org"]


def test_remind_command_runs(world):  # noqa: F811
    from io import StringIO

    out = StringIO()
    call_command("competition_remind", "--days", "3", stdout=out)

    assert "reminder(s) sent" in out.getvalue()


def test_dashboard_panels_by_role(client, world):  # noqa: F811
    submission = Submission.objects.create(line=world["line_b"], reported_on=date(2025, 6, 30), value=5)
    evidence.submit(submission, world["editor_b"])
    evidence.decide(submission, world["manager"], "return", "Needs the signed scan")
    other = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 6, 30), value=7)
    evidence.submit(other, world["editor_a"])

    client.force_login(world["editor_b"])
    editor_page = client.get("/admin/").content.decode()
    client.force_login(world["editor_a"])
    other_editor_page = client.get("/admin/").content.decode()
    client.force_login(world["manager"])
    manager_page = client.get("/admin/").content.decode()

    assert "Needs the signed scan" in editor_page
    assert "Needs the signed scan" not in other_editor_page
    assert "1 submission awaits a decision" in manager_page
    assert "Evidence to decide" not in editor_page


def test_dashboard_query_count_does_not_grow(client, world, django_assert_max_num_queries):  # noqa: F811
    client.force_login(world["editor_a"])
    client.get("/admin/")  # warm sessions and content types
    with django_assert_max_num_queries(80) as small:
        client.get("/admin/")
    for day in range(1, 25):
        Submission.objects.create(line=world["line_a"], reported_on=date(2025, 1, day), value=day)
    CommitmentLine.objects.count()

    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/admin/")


def test_nothing_is_due_for_a_competition_whose_judging_is_closed(client, world):  # noqa: F811
    """Once judging is closed every new value is refused (docs/results.md) until a manager reopens
    it: no deadline of the competition is listed as overdue or due on the editors' and managers'
    dashboards, and no reminder asks for a report or for a returned submission to be sent again.
    Reopening judging brings them back."""
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    from competition.domain import judging

    competition = world["competition"]
    competition.reporting_schedule = ReportingSchedule.QUARTERLY
    competition.save()
    returned = Submission.objects.create(line=world["line_a"], reported_on=date(2025, 12, 31), value=5)
    evidence.submit(returned, world["editor_a"])
    evidence.decide(returned, world["manager"], "return", "Wrong month")
    judging.close_judging(competition, world["manager"])
    with pytest.raises(PermissionDenied):  # what a reminder would ask for is refused
        evidence.submit(Submission.objects.get(pk=returned.pk), world["editor_a"])
    mail.outbox.clear()
    agencies = [world["line_a"].commitment.agency_id, world["line_b"].commitment.agency_id]

    assert due_items(lines_for_agencies(agencies), today=date(2026, 1, 15)) == []
    assert send_reminders(within_days=7, today=date(2026, 1, 15)) == (0, 0)
    client.force_login(world["editor_b"])
    assert "Dec. 31, 2025" not in client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(world["manager"])
    assert "0 agencies are overdue" in client.get(reverse("wagtailadmin_home")).content.decode()

    judging.reopen_judging(competition, world["manager"], "A late correction")

    assert [item.deadline for item in due_items(lines_for_agencies(agencies[1:]), today=date(2026, 1, 15))] == [
        date(2025, 3, 31),
        date(2025, 6, 30),
        date(2025, 9, 30),
        date(2025, 12, 31),
    ]
    assert send_reminders(within_days=7, today=date(2026, 1, 15)) == (2, 0)
    assert "returned to you: Wrong month" in {m.to[0]: m.body for m in mail.outbox}["editor_a@example.org"]
