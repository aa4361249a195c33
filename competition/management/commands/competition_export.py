"""`python manage.py competition_export KIND FILE [--competition SLUG]` (docs/imports.md): the
admin's exports on the command line. Every import kind, in the file its import reads back
unchanged, and `registrations` (export only). Like `competition_import`, the command is not
limited to a user's competitions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from competition.exports import EXPORT_KINDS, export
from competition.imports import FORMATS, file_format_of
from competition.models import CompetitionPage
from competition.spreadsheets import export_dataset


class Command(BaseCommand):
    help = "Export agencies, competitions, targets, commitments, jurors, values, scores, adjustments or registrations."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(EXPORT_KINDS), help="what to export")
        parser.add_argument("file", help="the file to write: .csv (UTF-8), .xlsx or .json")
        parser.add_argument("--competition", metavar="SLUG", help="only this competition's rows")

    def handle(self, *args, kind, file, competition=None, **options):
        path = Path(file)
        file_format = file_format_of(path)
        if file_format not in FORMATS:
            raise CommandError(f"{path}: unsupported file type; use .csv, .xlsx or .json.")
        if competition and not CompetitionPage.objects.filter(slug=competition).exists():
            raise CommandError(f"unknown competition {competition!r}.")
        dataset = export(kind, competition=competition)
        content = export_dataset(dataset, file_format)
        try:
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"{path}: cannot write the file ({error.strerror}).") from None
        self.stdout.write(self.style.SUCCESS(f"{kind}: {len(dataset)} rows written to {path}"))
