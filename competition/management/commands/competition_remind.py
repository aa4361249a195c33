"""`python manage.py competition_remind [--days N]`: e-mail each agency editor what is due
within N days (default 7), what is overdue and what was returned to them. Runs safely several
times a day: each editor gets at most one reminder a day."""

from django.core.management.base import BaseCommand

from competition.domain.reminders import send_reminders


class Command(BaseCommand):
    help = "E-mail agency editors what is due, overdue or returned (at most once a day each)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="remind of deadlines within this many days")

    def handle(self, *args, days=7, **options):
        sent, skipped = send_reminders(within_days=days)
        self.stdout.write(f"{sent} reminder(s) sent, {skipped} already sent today")
