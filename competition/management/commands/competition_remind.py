"""`python manage.py competition_remind [--days N]`: e-mail each agency editor what is due
within N days (default 7), what is overdue and what was returned to them. Runs safely several
times a day (from cron): each editor gets at most one reminder a day. Each reminder is a task:
with the immediate backend it is sent before the command ends; with the database backend the
command enqueues them and the task workers send them."""

from django.core.management.base import BaseCommand

from competition.domain import reminders


class Command(BaseCommand):
    help = "E-mail agency editors what is due, overdue or returned (at most once a day each)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="remind of deadlines within this many days")

    def handle(self, *args, days=7, **options):
        outcomes = reminders.enqueue_reminders(within_days=days)
        line = f"{outcomes[reminders.SENT]} reminder(s) sent, {outcomes[reminders.ALREADY_SENT]} already sent today"
        if outcomes[reminders.QUEUED]:
            line += f", {outcomes[reminders.QUEUED]} queued for the task workers"
        if outcomes[reminders.FAILED]:
            line += f", {outcomes[reminders.FAILED]} failed (see the log)"
        self.stdout.write(line)
