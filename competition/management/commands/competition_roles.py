from django.core.management.base import BaseCommand

from competition.domain.roles import ensure_roles


class Command(BaseCommand):
    help = "Create or complete the groups of the competition roles (managers, agency editors, jury reviewers)."

    def handle(self, *args, **options):
        for name, group in ensure_roles().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
