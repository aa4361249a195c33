"""A synthetic competition of a chosen size, written fast enough for national scale.

Agencies in groups (their parents), the groups in clusters under one agency at the top (nested
clusters: a city above its clusters, a country above its regions), targets of every unit and
direction with milestones, one commitment page per agency with a line for every target, N reports
per line over the period (mostly accepted, some still pending), about three jury scores for most
accepted reports, two review panels sharing the groups between them (so that a score by a
reviewer of the other panel is kept but not counted, `JuryScore.counted`, as `domain.panels`
marks it), and bonus or deduction points for a few agencies. The same seed gives the same data.

Rows are written in bulk: on PostgreSQL with COPY, elsewhere with batched INSERTs, with their
primary keys chosen here (the sequences are reset afterwards). Pages get their tree paths from
treebeard's own path function, so Wagtail sees an ordinary published tree: the competition page
is created and published the way an editor would, its children in bulk. Nothing is written to
the search or reference indexes, and the bulk pages have no revisions yet (editing one creates
its first); boards, pages, open data and the admin work on the result as on imported data.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils.text import slugify
from wagtail.models import Page, Site

from competition.domain.pages import create_and_publish
from competition.domain.scoreboard import invalidate
from competition.enums import Direction, SubmissionStatus, Unit
from competition.models import (
    Adjustment,
    Agency,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    Juror,
    JuryScore,
    ReviewPanel,
    Submission,
    TargetMilestone,
    TargetPage,
)


@dataclass(frozen=True)
class Size:
    agencies: int
    groups: int
    targets: int
    reports: int
    # Clusters above the groups, all under one agency at the top (0: the groups are the top).
    clusters: int = 0
    # Two review panels sharing the groups (with at least two groups), or none.
    panels: bool = True


# HCMC: 16 departments and 168 communes, the city above two clusters; national: the 3,321
# commune-level units of 34 provinces, the country above six regions.
PRESETS = {
    "smoke": Size(agencies=12, groups=3, targets=8, reports=4, clusters=2),
    "hcmc": Size(agencies=184, groups=16, targets=20, reports=12, clusters=2),
    "national": Size(agencies=3321, groups=34, targets=20, reports=12, clusters=6),
}

# (unit, direction, baseline, target value): every unit and direction, cycled over the targets.
TARGET_KINDS = (
    (Unit.PERCENT, Direction.HIGHER, Decimal(60), Decimal(95)),
    (Unit.NUMBER, Direction.HIGHER, Decimal(100), Decimal(500)),
    (Unit.DAYS, Direction.LOWER, Decimal(20), Decimal(5)),
    (Unit.BOOLEAN, Direction.HIGHER, Decimal(0), Decimal(1)),
    (Unit.PERCENT, Direction.LOWER, Decimal(15), Decimal(2)),
    (Unit.NUMBER, Direction.LOWER, Decimal(50), Decimal(10)),
    (Unit.DAYS, Direction.HIGHER, Decimal(10), Decimal(30)),
)
JURORS = 5
START = date(2025, 1, 1)
END = date(2025, 12, 31)
CENT = Decimal("0.01")


class GenerationError(Exception):
    """The competition cannot be generated as asked (the message says why)."""


@dataclass
class Generated:
    competition: CompetitionPage
    agencies: int
    lines: int
    submissions: int
    accepted: int
    scores: int
    uncounted: int
    adjustments: int
    timings: list  # (step, seconds)


def _prefix(slug):
    return slugify(slug)[:40] or "gen"


def report_dates(count, start=START, end=END):
    """`count` reporting dates spread evenly over the period, the last on its end."""
    days = (end - start).days
    return [start + timedelta(days=round(days * (i + 1) / count)) for i in range(count)]


class _Writer:
    """Bulk rows with primary keys chosen here: COPY on PostgreSQL, batched INSERTs elsewhere."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    @staticmethod
    def next_id(model):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({model._meta.pk.column}) FROM {model._meta.db_table}")  # noqa: S608 (names from model options, values bound)  # nosec B608
            return (cursor.fetchone()[0] or 0) + 1

    def write(self, model, columns, rows):
        """`rows`: an iterable of tuples in the order of `columns` (attribute names)."""
        fields = [model._meta.get_field(name) for name in columns]
        names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                return count
            preps = [self._adapter(field) for field in fields]
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 (names from model options, values bound)  # nosec B608
            batch = []
            for row in rows:
                batch.append([value if prep is None else prep(value) for prep, value in zip(preps, row, strict=True)])
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count

    @staticmethod
    def _adapter(field):
        """What Field.get_db_prep_save does to a value of this column, without its per-call
        overhead (which was most of the time of an insert of a million rows)."""
        ops = connections[DEFAULT_DB_ALIAS].ops
        if isinstance(field, models.DateTimeField):
            return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
        if isinstance(field, models.DateField):
            return lambda value: None if value is None else ops.adapt_datefield_value(value)
        if isinstance(field, models.DecimalField):
            return lambda value: (
                None if value is None else ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
            )
        if isinstance(field, models.UUIDField):
            return lambda value: field.get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])
        return None

    def reset_sequences(self, model_classes):
        statements = connection.ops.sequence_reset_sql(no_style(), model_classes)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


def _quantize(value):
    return value.quantize(CENT)


def _value_for(unit, baseline, target, fraction):
    """A measured value `fraction` of the way from baseline to target, valid for its unit."""
    if unit == Unit.BOOLEAN:
        return Decimal(1) if fraction >= 0.75 else Decimal(0)
    value = baseline + (target - baseline) * Decimal(str(round(fraction, 4)))
    low = Decimal(0)
    high = Decimal(100) if unit == Unit.PERCENT else None
    value = max(value, low)
    if high is not None:
        value = min(value, high)
    return _quantize(value)


def generate(slug, size, *, seed=1, title=None, parent=None, log=None):
    """Write a competition of `size` under `parent` (default: the default site's root page) and
    return a Generated summary. Refuses a slug or agency codes that already exist."""
    say = log or (lambda message: None)
    # Seeded on purpose: the same seed gives the same competition.
    rng = random.Random(seed)  # nosec B311
    prefix = _prefix(slug)
    if size.agencies < 1 or size.targets < 1 or size.reports < 1 or size.groups < 0 or size.clusters < 0:
        raise GenerationError("agencies, targets and reports must be at least 1, groups and clusters at least 0.")
    if size.clusters > size.groups:
        raise GenerationError("there cannot be more clusters than groups (each cluster holds at least one).")
    if CompetitionPage.objects.filter(slug=slug).exists():
        raise GenerationError(f"a competition with the slug {slug!r} exists already.")
    if Agency.objects.filter(code__startswith=f"{prefix}.").exists():
        raise GenerationError(f"agencies with codes starting {prefix + '.'!r} exist already.")
    if parent is None:
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise GenerationError("there is no default site to put the competition under.")
        parent = site.root_page
    writer = _Writer()
    timings = []
    clock_start = time.perf_counter()

    def step(name):
        nonlocal clock_start
        now = time.perf_counter()
        timings.append((name, now - clock_start))
        say(f"  {name}: {now - clock_start:.2f} s")
        clock_start = now

    with transaction.atomic():
        # Agencies: the agency at the top and its clusters first, then the groups (parents) in
        # consecutive runs under the clusters, then the participants spread over the groups.
        clusters = []
        if size.clusters:
            # In bulk, like every row here: nothing is written to the search or reference indexes.
            (top,) = Agency.objects.bulk_create(
                [Agency(code=f"{prefix}.TOP", name=f"Top ({slug})", short_name="TOP", level="city")]
            )
            clusters = Agency.objects.bulk_create(
                [
                    Agency(
                        code=f"{prefix}.C{c:02d}",
                        name=f"Cluster {c} ({slug})",
                        short_name=f"C{c}",
                        parent_id=top.pk,
                        level="cluster",
                    )
                    for c in range(1, size.clusters + 1)
                ]
            )
        groups = Agency.objects.bulk_create(
            [
                Agency(
                    code=f"{prefix}.G{g:03d}",
                    name=f"Group {g} ({slug})",
                    short_name=f"G{g}",
                    parent_id=clusters[cluster_of_group(g - 1, size)].pk if clusters else None,
                    level="province",
                )
                for g in range(1, size.groups + 1)
            ]
        )
        participants = Agency.objects.bulk_create(
            [
                Agency(
                    code=f"{prefix}.A{a:05d}",
                    name=f"Agency {a} ({slug})",
                    short_name=f"A{a}",
                    parent_id=groups[(a - 1) % len(groups)].pk if groups else None,
                    level="commune",
                )
                for a in range(1, size.agencies + 1)
            ],
            batch_size=2000,
        )
        step(f"{len(groups) + len(participants) + len(clusters) + bool(clusters)} agencies")

        competition = CompetitionPage(
            title=title or f"Synthetic competition {slug}",
            slug=slug,
            organiser="Benchmark",
            start_date=START,
            end_date=END,
            signed_on=START,
        )
        create_and_publish(parent, competition)
        competition.refresh_from_db()

        # Targets and commitments: ordinary published pages, written in bulk under the
        # competition page with the paths treebeard would give them.
        target_specs = []
        for t in range(1, size.targets + 1):
            unit, direction, baseline, target_value = TARGET_KINDS[(t - 1) % len(TARGET_KINDS)]
            deadline = date(2025, 9, 30) if t % 5 == 0 else None
            milestones = [(date(2025, 6, 30), _value_for(unit, baseline, target_value, 0.5))]
            if t % 2 == 0:
                milestones.insert(0, (date(2025, 3, 31), _value_for(unit, baseline, target_value, 0.2)))
            target_specs.append(
                {
                    "code": f"T{t:02d}",
                    "title": f"Target {t}: {unit.value} {direction.value}",
                    "unit": unit.value,
                    "direction": direction.value,
                    "baseline": baseline,
                    "target_value": target_value,
                    "deadline": deadline,
                    "max_points": Decimal(5 + (t * 7) % 11),
                    "milestones": milestones,
                }
            )
        now = datetime.combine(START, clock(8), tzinfo=UTC)
        target_pages = _child_pages(
            competition,
            TargetPage,
            [(spec["title"], f"target-{spec['code'].lower()}") for spec in target_specs],
            now,
        )
        writer.write(
            TargetPage,
            ["page_ptr_id", "competition_id", "code", "description", "unit", "direction", "baseline"]
            + ["target_value", "deadline", "max_points"],
            [
                (page_id, competition.pk, spec["code"], "", spec["unit"], spec["direction"], spec["baseline"])
                + (spec["target_value"], spec["deadline"], spec["max_points"])
                for page_id, spec in zip(target_pages, target_specs, strict=True)
            ],
        )
        milestone_id = writer.next_id(TargetMilestone)
        milestone_rows = []
        for page_id, spec in zip(target_pages, target_specs, strict=True):
            for order, (day, value) in enumerate(spec["milestones"]):
                milestone_rows.append((milestone_id, order, page_id, day, value))
                milestone_id += 1
        writer.write(TargetMilestone, ["id", "sort_order", "page_id", "date", "value"], milestone_rows)
        step(f"competition and {len(target_pages)} target pages")

        commitment_pages = _child_pages(
            competition,
            CommitmentPage,
            [
                (f"Commitment of {agency.name}", f"commitment-{slugify(agency.code.replace('.', '-'))}")
                for agency in participants
            ],
            now,
            first_position=len(target_pages) + 1,
        )
        writer.write(
            CommitmentPage,
            ["page_ptr_id", "competition_id", "agency_id", "pledge"],
            [
                (page_id, competition.pk, agency.pk, "")
                for page_id, agency in zip(commitment_pages, participants, strict=True)
            ],
        )
        # One line per agency and target; one in ten with the agency's own baseline.
        line_id = writer.next_id(CommitmentLine)
        lines = []  # (line id, agency index, target index, baseline, target value)
        line_rows = []
        for a, page_id in enumerate(commitment_pages):
            for t, spec in enumerate(target_specs):
                own = spec["unit"] != Unit.BOOLEAN and rng.random() < 0.1
                baseline = _value_for(spec["unit"], spec["baseline"], spec["target_value"], -0.1) if own else None
                lines.append((line_id, a, t, baseline))
                line_rows.append((line_id, t, page_id, target_pages[t], baseline, None))
                line_id += 1
        writer.write(
            CommitmentLine, ["id", "sort_order", "commitment_id", "target_id", "baseline", "target_value"], line_rows
        )
        step(f"{len(commitment_pages)} commitment pages, {len(lines)} lines")

        user_model = get_user_model()
        users = []
        for j in range(1, JURORS + 1):
            user = user_model(username=f"{prefix}-juror-{j}", email=f"juror{j}@{prefix}.invalid")
            user.set_unusable_password()
            users.append(user)
        existing = set(
            user_model.objects.filter(username__in=[u.username for u in users]).values_list("username", flat=True)
        )
        user_model.objects.bulk_create([u for u in users if u.username not in existing])
        users = list(user_model.objects.filter(username__in=[u.username for u in users]).order_by("username"))
        jurors = Juror.objects.bulk_create([Juror(competition=competition, user=user) for user in users])
        juror_ids = [juror.pk for juror in jurors]
        # Review panels: the jurors of each group's panel, by group index (None: the whole jury).
        reviewers = _panels(competition, size, groups, juror_ids)

        # Reports: the agency's pace plus noise, mostly accepted, some still waiting for review.
        dates = report_dates(size.reports)
        pace = [0.55 + 0.6 * rng.random() for _ in participants]
        submission_id = writer.next_id(Submission)
        score_id = writer.next_id(JuryScore)
        accepted_count = 0
        scores = []

        def submissions():
            nonlocal submission_id, score_id, accepted_count
            period = (END - START).days
            for line_id, a, t, own_baseline in lines:
                spec = target_specs[t]
                baseline = spec["baseline"] if own_baseline is None else own_baseline
                unit, target_value, max_points = spec["unit"], spec["target_value"], spec["max_points"]
                for day in dates:
                    elapsed = (day - START).days / period
                    fraction = elapsed * pace[a] + (rng.random() - 0.5) * 0.2
                    value = _value_for(unit, baseline, target_value, fraction)
                    submitted = datetime.combine(day, clock(9), tzinfo=UTC) + timedelta(days=1)
                    if rng.random() < 0.85:
                        decided = submitted + timedelta(days=2)
                        accepted_count += 1
                        status = SubmissionStatus.ACCEPTED.value
                        # Most get three or four scores (about three on average), some none yet.
                        if rng.random() < 0.85:
                            first = submission_id % JURORS
                            base = max_points * Decimal(str(round(min(max(fraction, 0), 1), 2)))
                            panel = reviewers[a % len(reviewers)] if reviewers else None
                            for k in range(3 + submission_id % 2):
                                points = min(max(_quantize(base + Decimal(k - 1)), Decimal(0)), max_points)
                                juror_id = juror_ids[(first + k) % JURORS]
                                counted = panel is None or juror_id in panel
                                scores.append((score_id, submission_id, juror_id, points, counted))
                                score_id += 1
                    else:
                        status, decided = SubmissionStatus.SUBMITTED.value, None
                    yield (submission_id, line_id, day, value, "", status, submitted, submitted, submitted, decided)
                    submission_id += 1

        count = writer.write(
            Submission,
            ["id", "line_id", "reported_on", "value", "narrative", "status", "created_at", "updated_at"]
            + ["submitted_at", "decided_at", "decision_note"],
            ((*row, "") for row in submissions()),
        )
        step(f"{count} submissions ({accepted_count} accepted)")
        stamp = datetime.combine(END, clock(12), tzinfo=UTC)
        score_count = writer.write(
            JuryScore,
            ["id", "submission_id", "juror_id", "points", "counted", "comment", "created_at", "updated_at"],
            ((*row, "", stamp, stamp) for row in scores),
        )
        uncounted = sum(not row[4] for row in scores)
        scores.clear()
        step(f"{score_count} jury scores ({uncounted} by reviewers off their panel, not counted)")

        adjustments = []
        for agency in participants:
            if rng.random() < 0.05:
                points = Decimal(rng.choice((-3, -2, -1, 1, 2, 3, 5)))
                reason = "Bonus: initiative" if points > 0 else "Deduction: late report"
                adjustments.append(Adjustment(competition=competition, agency=agency, points=points, reason=reason))
        Adjustment.objects.bulk_create(adjustments)
        writer.reset_sequences([Page, TargetMilestone, CommitmentLine, Submission, JuryScore])
        invalidate(competition.pk)
        step(f"{len(adjustments)} adjustments, sequences")
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # Fresh statistics for the planner, and a visibility map for index-only scans.
        with connection.cursor() as cursor:
            for model in (Submission, JuryScore, CommitmentLine, CommitmentPage, Page):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        step("vacuum analyze")
    return Generated(
        competition=competition,
        agencies=len(participants),
        lines=len(lines),
        submissions=count,
        accepted=accepted_count,
        scores=score_count,
        uncounted=uncounted,
        adjustments=len(adjustments),
        timings=timings,
    )


def cluster_of_group(index, size):
    """The index of the cluster above the group of index `index`: consecutive runs of groups,
    as even as can be (34 provinces in 6 regions: 6, 6, 5, 6, 6, 5)."""
    return index * size.clusters // size.groups


def _panels(competition, size, groups, juror_ids):
    """Two review panels of the competition sharing its groups: the first reviews the groups of
    the first half of the clusters (of the groups, without clusters) with the first three
    jurors, the second the other groups with the last three (one juror sits on both). Written
    through the relations' own tables, as the admin's form would leave them. Returns, for each
    group index, the set of juror ids of its panel (empty when there are no panels)."""
    if not size.panels or len(groups) < 2:
        return []
    halves = size.clusters or size.groups
    first_half = [g for g in range(len(groups)) if (cluster_of_group(g, size) if size.clusters else g) < halves // 2]
    second_half = [g for g in range(len(groups)) if g not in first_half]
    shares = (("Panel 1", first_half, juror_ids[:3]), ("Panel 2", second_half, juror_ids[-3:]))
    clusters_through = ReviewPanel.clusters.through
    members_through = ReviewPanel.members.through
    reviewers = [None] * len(groups)
    created = ReviewPanel.objects.bulk_create([ReviewPanel(competition=competition, name=name) for name, *_ in shares])
    for panel, (_name, indexes, members) in zip(created, shares, strict=True):
        clusters_through.objects.bulk_create(
            [clusters_through(reviewpanel_id=panel.pk, agency_id=groups[g].pk) for g in indexes]
        )
        members_through.objects.bulk_create([members_through(reviewpanel_id=panel.pk, juror_id=pk) for pk in members])
        for g in indexes:
            reviewers[g] = set(members)
    return reviewers


def _child_pages(parent, model, titles_and_slugs, published_at, *, first_position=1):
    """Published pages of `model` under `parent`, base rows only (the caller writes the
    model's own table); returns their ids in order. Paths, depth, url paths and the parent's
    child count are those treebeard and Wagtail would have written one page at a time."""
    content_type = ContentType.objects.get_for_model(model)
    depth = parent.depth + 1
    pages = [
        Page(
            path=Page._get_path(parent.path, depth, first_position + i),
            depth=depth,
            numchild=0,
            locale_id=parent.locale_id,
            live=True,
            has_unpublished_changes=False,
            first_published_at=published_at,
            last_published_at=published_at,
            title=title,
            draft_title=title,
            slug=slug,
            content_type=content_type,
            url_path=f"{parent.url_path}{slug}/",
            seo_title="",
            search_description="",
        )
        for i, (title, slug) in enumerate(titles_and_slugs)
    ]
    pages = Page.objects.bulk_create(pages, batch_size=1000)
    Page.objects.filter(pk=parent.pk).update(numchild=first_position - 1 + len(pages))
    parent.numchild = first_position - 1 + len(pages)
    return [page.pk for page in pages]
