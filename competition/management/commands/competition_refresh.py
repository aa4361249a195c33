"""`python manage.py competition_refresh [SLUG ...]`: compute now, for every live competition (or
the ones named), what the background refresh computes after each change: today's public boards,
the parts of their scoreboard.json and the summary of the progress chart's history
(docs/deployment.md). For after an upgrade (migration 0011 marks every competition's summary out
of date: until it is rebuilt, charts are computed from the submissions, as before it existed) or
a restore of the database. Safe to run at any time, beside the task workers."""

from django.core.management.base import BaseCommand, CommandError

from competition.domain import warming
from competition.models import CompetitionPage


class Command(BaseCommand):
    help = "Recompute the public boards and the progress chart's summary of live competitions now."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="only these competitions (default: every one)")

    def handle(self, *args, slugs=(), **options):
        competitions = CompetitionPage.objects.live().order_by("slug")
        if slugs:
            competitions = competitions.filter(slug__in=slugs)
            unknown = sorted(set(slugs) - {competition.slug for competition in competitions})
            if unknown:
                raise CommandError(f"No live competition with the slug: {', '.join(unknown)}. Nothing was refreshed.")
        for competition in competitions:
            days = warming.rebuild(competition.pk)
            self.stdout.write(f"{competition.slug}: refreshed (today's board: {', '.join(map(str, days))})")
