"""`python manage.py competition_import KIND FILE [--competition SLUG] [--dry-run]`
(docs/imports.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from competition.imports import FORMATS, ImportFileError, file_format_of, load_dataset, run_import
from competition.resources import RESOURCES


class Command(BaseCommand):
    help = "Import agencies, competitions, targets, commitments, jurors, values, scores or adjustments."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(RESOURCES), help="what the file holds")
        parser.add_argument("file", help="a .csv (UTF-8, header row), .xlsx or .json file")
        parser.add_argument("--competition", metavar="SLUG", help="the competition, when the file has no such column")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, but write nothing")

    def progress_bar(self, name):
        """A one-line progress bar on the terminal, redrawn at each whole percent."""
        shown = {"percent": -1}

        def draw(done, total):
            percent = 100 * done // max(total, 1)
            if percent != shown["percent"]:
                shown["percent"] = percent
                bar = "#" * (percent // 4)
                self.stderr.write(f"\r{name} [{bar:<25}] {percent:3d}% ({done}/{total})", ending="")
                self.stderr.flush()

        return draw

    def handle(self, *args, kind, file, competition=None, dry_run=False, **options):
        path = Path(file)
        file_format = file_format_of(path)
        if file_format not in FORMATS:
            raise CommandError(f"{path}: unsupported file type; use .csv, .xlsx or .json.")
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from None
        try:
            dataset = load_dataset(content, file_format)
        except ImportFileError as error:
            raise CommandError(f"{path}: {error}") from None
        progress = None
        if self.stderr.isatty() and len(dataset) >= 200:
            progress = self.progress_bar(path.name)
        report = run_import(
            kind, dataset, competition=competition, dry_run=dry_run, progress=progress, file_name=path.name
        )
        if progress is not None:
            self.stderr.write("")
        if not report.ok:
            for line in report.errors:
                self.stdout.write(line)
            raise CommandError(f"{path}: {len(report.errors)} error(s); nothing was written.", returncode=1)
        summary = f"{kind}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
        if dry_run:
            summary += " (dry run: nothing was written)"
        self.stdout.write(self.style.SUCCESS(summary))
