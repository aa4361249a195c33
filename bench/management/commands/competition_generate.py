"""`python manage.py competition_generate [--slug SLUG] [--size smoke|hcmc|national] [--agencies N ...]`:
fill the database with a synthetic competition for benchmarks and trials (never on a real site's
database: it writes thousands of pages and rows)."""

import time

from django.core.management.base import BaseCommand, CommandError

from bench.generate import PRESETS, GenerationError, Size, generate


class Command(BaseCommand):
    help = "Generate a synthetic competition of a chosen size (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default=None, help="The competition's slug (default: the size's name).")
        parser.add_argument("--size", choices=sorted(PRESETS), default="smoke", help="A preset size.")
        parser.add_argument("--agencies", type=int, help="Participating agencies (overrides the preset).")
        parser.add_argument("--groups", type=int, help="Parent agencies grouping them (overrides the preset).")
        parser.add_argument(
            "--clusters", type=int, help="Clusters above the groups, under one top agency (overrides the preset)."
        )
        parser.add_argument("--no-panels", action="store_true", help="No review panels (every score counts).")
        parser.add_argument("--targets", type=int, help="Targets (overrides the preset).")
        parser.add_argument("--reports", type=int, help="Reports per commitment line (overrides the preset).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same data.")

    def handle(self, *args, **options):
        preset = PRESETS[options["size"]]
        size = Size(
            agencies=options["agencies"] if options["agencies"] is not None else preset.agencies,
            groups=options["groups"] if options["groups"] is not None else preset.groups,
            targets=options["targets"] if options["targets"] is not None else preset.targets,
            reports=options["reports"] if options["reports"] is not None else preset.reports,
            clusters=options["clusters"] if options["clusters"] is not None else preset.clusters,
            panels=preset.panels and not options["no_panels"],
        )
        slug = options["slug"] or options["size"]
        self.stdout.write(
            f"Generating {slug!r}: {size.agencies} agencies in {size.groups} groups in {size.clusters} clusters, "
            f"{'two review panels, ' if size.panels else ''}{size.targets} targets, "
            f"{size.reports} reports per line (seed {options['seed']})"
        )
        started = time.perf_counter()
        try:
            result = generate(slug, size, seed=options["seed"], log=self.stdout.write)
        except GenerationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {result.competition.url_path} in {time.perf_counter() - started:.1f} s: "
                f"{result.agencies} agencies, {result.lines} lines, {result.submissions} submissions "
                f"({result.accepted} accepted), {result.scores} jury scores ({result.uncounted} not counted), "
                f"{result.adjustments} adjustments"
            )
        )
