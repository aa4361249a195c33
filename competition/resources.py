"""django-import-export resources, one per import kind of docs/imports.md. The management command
`competition_import` and the admin's import and export screens both use them, so every path
refuses the same rows with the same messages.

Each resource parses a row into plain values (errors keyed by column name), finds the instance
by the row's key, applies the values, runs the model's validation and saves. Page kinds create
and publish real Wagtail pages with revisions. Rows that would change nothing are reported as
unchanged (`skip`), so importing a file twice changes nothing the second time.
"""

import re
from copy import copy
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db.models import F
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext as _
from import_export import resources
from import_export.fields import Field
from wagtail.log_actions import get_active_log_context, registry
from wagtail.models import Page, Site

from .domain import judging
from .domain.bulk import insert_rows
from .domain.pages import create_and_publish, free_slug, new_commitment_page, publish
from .domain.pledges import normalise, to_plain_text, to_rich_text
from .enums import Aggregation, Direction, SubmissionSource, SubmissionStatus, Unit
from .models import (
    Adjustment,
    Agency,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    CompetitionTier,
    Juror,
    JuryScore,
    Submission,
    TargetMilestone,
    TargetPage,
)
from .spreadsheets import unneutralise
from .validators import (
    format_milestones,
    format_tiers,
    invisible_characters,
    parse_decimal,
    parse_iso_date,
    parse_milestones,
    parse_tiers,
)

User = get_user_model()


def _plain(value):
    """Decimals as written in the import formats: no exponent, no trailing zeros."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


class RowDiff(resources.Diff):
    """The preview diff, read through the resource's export representation (its `dehydrate_`
    methods: dates as ISO, decimals without trailing zeros). django-import-export's Diff reads the
    fields' attributes directly (`Diff._read_field_values`, not the subclass's), which leaves
    columns without an attribute (`reported_on`, `value`, ...) blank: both ends are read here.
    `as_html` gives one PreviewCell per column, which the preview formats for its reader."""

    def __init__(self, resource, instance, new):
        self.left = self._read_field_values(resource, instance)
        self.right = []
        self.new = new

    def compare_with(self, resource, instance):
        self.right = self._read_field_values(resource, instance)

    @classmethod
    def _read_field_values(cls, resource, instance):
        if instance is None:
            return ["" for _field in resource.get_import_fields()]
        return [resource.export_field(field, instance) for field in resource.get_import_fields()]

    def as_html(self):
        return [
            PreviewCell("" if self.new else _text(before), _text(after))
            for before, after in zip(self.left, self.right, strict=False)
        ]


def _text(value):
    return "" if value is None else str(value)


class PreviewCell:
    """One cell of a previewed row: its value before the import (blank for a new row) and after,
    in the import format. As HTML, the value after, or the change as <del>before</del> <ins>after</ins>."""

    def __init__(self, before, after):
        self.before, self.after = before, after

    @property
    def changed(self):
        return self.before != self.after

    def __html__(self):
        if self.changed and self.before:
            return format_html("<del>{}</del> <ins>{}</ins>", self.before, self.after)
        return conditional_escape(self.after)

    def __str__(self):
        return self.__html__()


class CompetitionResource(resources.ModelResource):
    """The shared machinery: column checks, duplicate keys, parsing helpers, column-keyed errors."""

    kind = ""
    key_columns = ()
    required_columns = ()
    optional_columns = ()
    # Columns of dates and of decimals: the preview shows them in the reader's language.
    date_columns = ()
    decimal_columns = ()
    # Model field name -> column name, for errors raised by the model's own validation.
    error_columns = {}

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False
        use_transactions = True
        skip_html_diff = False

    def __init__(self, competition=None, user=None, allowed_competitions=None, html_diff=True, **kwargs):
        super().__init__(**kwargs)
        self.competition_slug = competition
        # The competitions the importing user manages (None: no limit, as for the command).
        self.allowed_competitions = allowed_competitions
        self.progress = None  # a callable (rows done, rows in all), for a progress bar
        # Row diffs as HTML are for previews only; a real import skips them (they are slow).
        self._meta = copy(self._meta)
        self._meta.skip_html_diff = not html_diff
        # A real import needs no row diffs: without them import-export deep-copies no instance
        # (with its cached pages), and skip_row compares snapshots taken before the change.
        self._meta.skip_diff = not html_diff
        self._before = None
        self._total = 0
        self.user = user if getattr(user, "is_authenticated", False) else None
        self._competitions = {}
        # Look-ups repeated on many rows, kept for the length of one import.
        self._agencies = {}
        self._targets = {}
        self._lines = {}
        self._jurors = {}
        self._accepted = {}
        self._duplicates = {}
        self._row_number = None
        # Only this agency's commitment lines and values are read (a data feed sends one agency's).
        self.agency_scope = None
        # Only the accepted values of these dates are read, when the rows' dates are known.
        self.accepted_days = None

    def named_competition_ids(self):
        """The competitions the rows read so far named (their boards change on import)."""
        return [page.pk for pages in self._competitions.values() for page in pages]

    # The columns of this kind, in the order of docs/imports.md.
    @classmethod
    def columns(cls):
        return [*cls.required_columns, *cls.optional_columns]

    def get_import_id_fields(self):
        return list(self.key_columns)

    def get_diff_class(self):
        return RowDiff

    def get_export_order(self):
        return self.columns()

    def get_import_order(self):
        return self.columns()

    def get_user_visible_fields(self):
        return self.get_export_fields()

    # Whole-file checks.
    def before_import(self, dataset, **kwargs):
        dataset.headers = [str(header or "").strip() for header in (dataset.headers or [])]
        self._total = len(dataset)
        headers = dataset.headers
        if "competition" in self.required_columns and "competition" not in headers and self.competition_slug:
            dataset.append_col([self.competition_slug] * len(dataset), header="competition")
            headers = dataset.headers
        known = set(self.columns())
        problems = []
        missing = [column for column in self.required_columns if column not in headers]
        if missing:
            problems.append(_("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
        unknown = [header for header in headers if header not in known]
        if unknown:
            problems.append(
                _("unknown column(s): %(columns)s (expected: %(expected)s)")
                % {"columns": ", ".join(unknown), "expected": ", ".join(self.columns())}
            )
        if len(set(headers)) != len(headers):
            problems.append(_("a column appears twice in the header row"))
        if problems:
            raise ValidationError("; ".join(problems))
        seen = {}
        for number, row in enumerate(dataset.dict, 1):
            key = tuple(self._key_text(row.get(column)) for column in self.key_columns)
            if key in seen:
                self._duplicates[number] = seen[key]
            else:
                seen[key] = number

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number")
        return super().import_row(row, instance_loader, **kwargs)

    def after_import_row(self, row, row_result, **kwargs):
        if self.progress is not None:
            self.progress(kwargs.get("row_number") or 0, self._total)

    def before_import_row(self, row, **kwargs):
        self.parsed, errors = self.check_row(self._row_number, row)
        if errors:
            raise ValidationError(errors)

    def check_row(self, number, row):
        """Parse data row `number` (counted from 1, after before_import) with every check of an
        import: (parsed values, {column: message}). Also used by the data feed (competition.feed)."""
        first = self._duplicates.get(number)
        if first is not None:
            return None, {
                self.key_columns[-1]: _("duplicate key: the same row key appears in row %(row)s.") % {"row": first}
            }
        errors = broken_text(row)
        if errors:
            return None, errors
        return self.parse(row, errors), errors

    def get_or_init_instance(self, instance_loader, row):
        instance = self.find_instance(self.parsed)
        if self.restricted:
            self.authorise(instance)
        if instance is None:
            self._before = None
            return self.new_instance(self.parsed), True
        self._before = self.snapshot(instance)
        return instance, False

    # Who may import what. The admin's import screen runs for a user, who may change only what
    # the admin's forms would let them change (competition.permissions and the snippets'
    # policies); the command line has no user and is not limited.
    @property
    def restricted(self):
        return self.user is not None and not self.user.is_superuser

    def authorise(self, instance):
        """Raise a ValidationError if the (restricted) user may not create (`instance` is None)
        or change `instance`. Kinds whose rows belong to a competition are limited by
        `competition()` already."""

    def refuse_without_model_permission(self, model, instance):
        """The Django model permission the snippet forms ask for, to add or change `model`."""
        from wagtail.permissions import policy_registry

        action = "add" if instance is None else "change"
        if not policy_registry.get_by_type(model).user_has_permission(self.user, action):
            if action == "add":
                message = _("you have no permission to add %(things)s.")
            else:
                message = _("you have no permission to change %(things)s.")
            raise ValidationError({self.key_columns[0]: message % {"things": model._meta.verbose_name_plural}})

    def import_instance(self, instance, row, **kwargs):
        self.apply(instance, self.parsed)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or self._before is None:
            return False
        return self._before == self.snapshot(instance)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not errors and self._before is not None and self._before == self.snapshot(instance):
            # An unchanged row writes nothing: it needs no new check (a file imported again
            # after judging closed is still "unchanged", not refused).
            return
        try:
            self.full_clean(instance)
        except ValidationError as error:
            for field, found in (
                error.error_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, [error])]
            ):
                for problem in found:
                    column = self.error_columns.get(field, field)
                    if problem.code == "judging_closed" and "competition" in self.columns():
                        column = "competition"
                    elif field == NON_FIELD_ERRORS or column not in self.columns():
                        column = self.key_columns[-1]
                    errors.setdefault(column, []).extend(problem.messages)
        if errors:
            raise ValidationError(errors)

    def full_clean(self, instance):
        instance.full_clean(validate_unique=False, validate_constraints=False)

    # Rows of a "leaf" kind are never read by a later row of the same file, so a preview (dry
    # run) validates them fully but need not write them.
    leaf = False

    def save_instance(self, instance, is_create, row, **kwargs):
        if self.leaf and kwargs.get("dry_run"):
            return
        self.save(instance, is_create, self.parsed)

    def after_import(self, dataset, result, **kwargs):
        """Page kinds publish here; the sequence reset of ModelResource is not needed (no pks
        are imported)."""

    # Per-kind hooks.
    def parse(self, row, errors):
        raise NotImplementedError

    def find_instance(self, parsed):
        raise NotImplementedError

    def new_instance(self, parsed):
        raise NotImplementedError

    def apply(self, instance, parsed):
        raise NotImplementedError

    def snapshot(self, instance):
        raise NotImplementedError

    def save(self, instance, is_create, parsed):
        instance.save()

    # Parsing helpers: each records a message under its column and returns None on error.
    @staticmethod
    def _key_text(value):
        if isinstance(value, (date, datetime)):
            return _as_date(value).isoformat()
        return unneutralise(str(value).strip()) if value is not None else ""

    @staticmethod
    def text(row, column, errors, *, required=False, max_length=None, multiline=False):
        value = row.get(column)
        # The apostrophe an export puts before text that looks like a formula is not data.
        value = "" if value is None else unneutralise(str(value).strip())
        if "\x00" in value:
            errors[column] = _("the cell holds a NUL character; remove it.")
            return None
        invisible = invisible_characters(value, multiline=multiline)
        if invisible:
            errors[column] = _("the cell holds invisible characters that can disguise it (%(codes)s); remove them.") % {
                "codes": ", ".join(invisible)
            }
            return None
        if required and not value:
            errors[column] = _("required: this cell may not be empty.")
            return None
        if max_length and len(value) > max_length:
            errors[column] = _("too long: at most %(max)s characters.") % {"max": max_length}
            return None
        return value

    @classmethod
    def decimal(cls, row, column, errors, *, required=False):
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                errors[column] = _("required: this cell may not be empty.")
            return None
        if isinstance(value, bool):
            errors[column] = _("%(value)r is not a number.") % {"value": value}
            return None
        if not str(value).isascii():
            errors[column] = _("%(value)r: write numbers with the digits 0 to 9 (and a dot for decimals).") % {
                "value": value
            }
            return None
        try:
            number = parse_decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            number = None
        if number is None or not number.is_finite():
            errors[column] = _("%(value)r is not a number (use a dot for decimals, e.g. 85.5).") % {"value": value}
            return None
        if number.as_tuple().exponent < -4:
            errors[column] = _("%(value)s has more than 4 decimal places.") % {"value": value}
            return None
        # copy_abs, not abs(): abs() rounds to the decimal context and raises Overflow for
        # 1e1000000 instead of saying that the number is too large.
        if number.copy_abs() >= Decimal("1e14"):
            errors[column] = _("%(value)s is too large.") % {"value": value}
            return None
        return number

    @classmethod
    def day(cls, row, column, errors, *, required=False):
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                errors[column] = _("required: this cell may not be empty.")
            return None
        if isinstance(value, (date, datetime)):
            return _as_date(value)
        try:
            return parse_iso_date(str(value).strip())
        except ValueError:
            errors[column] = _("%(value)r is not a date in the form YYYY-MM-DD.") % {"value": value}
            return None

    @staticmethod
    def choice(row, column, errors, choices, *, default=None):
        value = row.get(column)
        value = "" if value is None else str(value).strip().lower()
        if not value:
            if default is None:
                errors[column] = _("required: this cell may not be empty.")
            return default
        allowed = [choice.value for choice in choices]
        if value not in allowed:
            errors[column] = _("%(value)r is not one of: %(allowed)s.") % {
                "value": value,
                "allowed": ", ".join(allowed),
            }
            return None
        return value

    # Look-ups shared by the kinds.
    def competition(self, row, errors):
        slug = self.text(row, "competition", errors, required=True)
        if slug is None:
            return None
        if slug not in self._competitions:
            matches = list(CompetitionPage.objects.filter(slug=slug)[:2])
            self._competitions[slug] = matches
        matches = self._competitions[slug]
        if not matches:
            errors["competition"] = _("unknown competition %(slug)r.") % {"slug": slug}
            return None
        if self.allowed_competitions is not None and matches[0].pk not in self.allowed_competitions:
            errors["competition"] = _("you do not manage competition %(slug)r.") % {"slug": slug}
            return None
        if len(matches) > 1:
            errors["competition"] = _("several competitions have the slug %(slug)r.") % {"slug": slug}
            return None
        return matches[0]

    def agency(self, row, errors, column="agency", *, required=True):
        code = self.text(row, column, errors, required=required)
        if not code:
            return None
        if code not in self._agencies:
            self._agencies[code] = Agency.objects.filter(code=code).first()
        agency = self._agencies[code]
        if agency is None:
            errors[column] = _("unknown agency code %(code)r.") % {"code": code}
        return agency

    def target(self, competition, row, errors, column="target"):
        code = self.text(row, column, errors, required=True)
        if code is None or competition is None:
            return None
        key = (competition.pk, code)
        if key not in self._targets:
            self._targets[key] = TargetPage.objects.filter(competition=competition, code=code).first()
        target = self._targets[key]
        if target is None:
            if TargetPage.objects.filter(code=code).exists():
                errors[column] = _("target %(code)r belongs to another competition, not to %(slug)r.") % {
                    "code": code,
                    "slug": competition.slug,
                }
            else:
                errors[column] = _("unknown target code %(code)r in competition %(slug)r.") % {
                    "code": code,
                    "slug": competition.slug,
                }
        return target

    def commitment_line(self, competition, agency, target, errors):
        if competition is None or agency is None or target is None:
            return None
        if competition.pk not in self._lines:
            self._lines[competition.pk] = self._load_lines(competition)
        line = self._lines[competition.pk].get((agency.pk, target.pk))
        if line is None:
            if CommitmentPage.objects.filter(competition=competition, agency=agency).exists():
                errors["target"] = _("agency %(agency)r has not committed to target %(target)r.") % {
                    "agency": agency.code,
                    "target": target.code,
                }
            else:
                errors["agency"] = _("agency %(agency)r has no commitment in competition %(slug)r.") % {
                    "agency": agency.code,
                    "slug": competition.slug,
                }
        return line

    def _load_lines(self, competition):
        """Every line of the competition by (agency id, target id), with what rows, validation
        and previews read. Pages and agencies are read once each and shared by the lines:
        a national competition has 66,000 lines but 20 targets and 3,321 commitment pages."""
        targets = {target.pk: target for target in TargetPage.objects.filter(competition=competition)}
        agencies = self._agencies_by_pk(competition)
        commitments = {}
        for page in self._commitment_pages(competition):
            page.competition, page.agency = competition, agencies[page.agency_id]
            commitments[page.pk] = page
        lines = {}
        for line in CommitmentLine.objects.filter(commitment__in=commitments):
            line.commitment = commitments[line.commitment_id]
            line.target = targets.get(line.target_id) or line.target  # a target moved elsewhere: its own
            lines[(line.commitment.agency_id, line.target_id)] = line
        return lines

    def _commitment_pages(self, competition):
        pages = CommitmentPage.objects.filter(competition=competition)
        return pages if self.agency_scope is None else pages.filter(agency=self.agency_scope)

    def _agencies_by_pk(self, competition):
        agencies = {agency.pk: agency for agency in self._agencies.values() if agency is not None}
        missing = self._commitment_pages(competition).exclude(agency_id__in=agencies.keys())
        for agency in Agency.objects.filter(pk__in=missing.values("agency_id")):
            agencies[agency.pk] = agency
            self._agencies.setdefault(agency.code, agency)
        return agencies

    def accepted_submission(self, line, reported_on):
        """The accepted submission the board uses for (line, date): the later acceptance, then
        the higher key (docs/scoring.md, section 2). All of a competition's are read in one query."""
        found = self._accepted_values(line.commitment.competition_id).get((line.pk, reported_on))
        if found is None:
            return None
        # What rows compare and validate; an update reads the whole row before saving it.
        pk, value, narrative = found
        return Submission(
            pk=pk,
            line=line,
            reported_on=reported_on,
            value=value,
            narrative=narrative,
            status=SubmissionStatus.ACCEPTED,
        )

    def _accepted_values(self, competition_id):
        """(pk, value, narrative) of the accepted submission the board uses, by (line id, date)."""
        if competition_id not in self._accepted:
            best = {}
            accepted = Submission.objects.accepted().filter(line__commitment__competition_id=competition_id)
            if self.agency_scope is not None:
                accepted = accepted.filter(line__commitment__agency=self.agency_scope)
            if self.accepted_days is not None:
                accepted = accepted.filter(reported_on__in=sorted(self.accepted_days))
            for pk, line_id, day, value, narrative in accepted.order_by(
                F("decided_at").asc(nulls_first=True), "pk"
            ).values_list("pk", "line_id", "reported_on", "value", "narrative"):
                best[(line_id, day)] = (pk, value, narrative)
            self._accepted[competition_id] = best
        return self._accepted[competition_id]

    @staticmethod
    def in_period(competition, day, column, errors, *, inclusive_start=True):
        if day is None or competition is None:
            return
        too_early = day < competition.start_date if inclusive_start else day <= competition.start_date
        if too_early or day > competition.end_date:
            errors[column] = _("%(day)s lies outside the competition period (%(start)s to %(end)s).") % {
                "day": day.isoformat(),
                "start": competition.start_date.isoformat(),
                "end": competition.end_date.isoformat(),
            }


# Half of a character encoded as a UTF-16 pair ("\\ud800" in JSON, left by a system that cut a
# string inside an emoji): no database or page can hold it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def broken_text(row):
    """{column: message} for the cells of `row` holding a lone surrogate, checked before any cell
    reaches the database; such a cell is shown escaped (\\ud800) in the preview of the row."""
    errors = {}
    for column, value in row.items():
        if isinstance(value, str) and LONE_SURROGATE.search(value):
            found = sorted({f"U+{ord(char):04X}" for char in LONE_SURROGATE.findall(value)})
            errors[column] = _(
                "holds a broken character (%(chars)s, half of a character that was cut in two): "
                "correct the text where it comes from."
            ) % {"chars": ", ".join(found)}
            row[column] = LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", value)
    return errors


TREE_FIELDS = ["path", "depth", "numchild", "url_path"]


def _clean_page(page, parent):
    """Validate a page that may not be in the tree yet: its parent stands in for the tree."""
    if page.pk is None:
        page._cached_parent_obj = parent
        page.full_clean(exclude=TREE_FIELDS, validate_unique=False, validate_constraints=False)
    else:
        page.full_clean(validate_unique=False, validate_constraints=False)


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


def _check_unit(value, unit, column, errors):
    from .validators import validate_value_for_unit

    try:
        validate_value_for_unit(value, unit)
    except ValidationError as error:
        errors[column] = error.messages[0]


class AgencyResource(CompetitionResource):
    """`agencies`: code, name, [short_name], [parent_code], [level]; key: code."""

    kind = "agencies"
    key_columns = ("code",)
    required_columns = ("code", "name")
    optional_columns = ("short_name", "parent_code", "level")
    error_columns = {"parent": "parent_code"}

    code = Field(attribute="code", column_name="code")
    name = Field(attribute="name", column_name="name")
    short_name = Field(attribute="short_name", column_name="short_name")
    parent_code = Field(attribute="parent__code", column_name="parent_code")
    level = Field(attribute="level", column_name="level")

    class Meta(CompetitionResource.Meta):
        model = Agency
        fields = ("code", "name", "short_name", "parent_code", "level")

    def get_queryset(self):
        return Agency.objects.select_related("parent").order_by("code")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._file_codes = {}
        for number, row in enumerate(dataset.dict, 1):
            code = self._key_text(row.get("code"))
            self._file_codes.setdefault(code, number)
        self._pending_parents = {}
        self._changeable = None  # the agencies a restricted user may change, read once

    def parse(self, row, errors):
        from .models.agencies import code_validator

        code = self.text(row, "code", errors, required=True, max_length=64)
        if code:
            try:
                code_validator(code)
            except ValidationError as error:
                errors["code"] = error.messages[0]
        parsed = {
            "code": code,
            "name": self.text(row, "name", errors, required=True, max_length=255),
            "short_name": self.text(row, "short_name", errors, max_length=100) or "",
            "level": self.text(row, "level", errors, max_length=32) or "",
            "parent_code": self.text(row, "parent_code", errors) or None,
            "parent": None,
        }
        parent_code = parsed["parent_code"]
        if parent_code:
            if parent_code == code:
                errors["parent_code"] = _("an agency cannot be its own parent.")
            else:
                parsed["parent"] = Agency.objects.filter(code=parent_code).first()
                if parsed["parent"] is None and parent_code not in self._file_codes:
                    errors["parent_code"] = _("unknown agency code %(code)r.") % {"code": parent_code}
        return parsed

    def find_instance(self, parsed):
        return Agency.objects.select_related("parent").filter(code=parsed["code"]).first()

    def authorise(self, agency):
        """As the agency form: anyone with the model permission adds agencies, but changes only
        those taking part in a competition they manage, or in none yet."""
        self.refuse_without_model_permission(Agency, agency)
        if agency is None:
            return
        if self._changeable is None:
            from wagtail.permissions import policy_registry

            policy = policy_registry.get_by_type(Agency)
            self._changeable = set(
                policy.instances_user_has_any_permission_for(self.user, ["change"]).values_list("pk", flat=True)
            )
        if agency.pk not in self._changeable:
            raise ValidationError(
                {
                    "code": _("agency %(code)r takes part in a competition you do not manage: you cannot change it.")
                    % {"code": agency.code}
                }
            )

    def new_instance(self, parsed):
        return Agency(code=parsed["code"])

    def apply(self, instance, parsed):
        instance.name = parsed["name"]
        instance.short_name = parsed["short_name"]
        instance.level = parsed["level"]
        instance.parent = parsed["parent"]
        # A parent named by a later row of the file is linked once every row is saved.
        instance._parent_code = parsed["parent_code"]

    def snapshot(self, instance):
        parent_code = getattr(instance, "_parent_code", instance.parent.code if instance.parent_id else None)
        return (instance.name, instance.short_name, instance.level, parent_code)

    def save(self, instance, is_create, parsed):
        instance.save()
        if parsed["parent_code"] and parsed["parent"] is None:
            self._pending_parents[instance.pk] = (parsed["parent_code"], self._row_number)

    def after_import(self, dataset, result, **kwargs):
        if result.has_validation_errors() or result.has_errors():
            return
        codes = {code for code, _number in self._pending_parents.values()}
        parents = dict(Agency.objects.filter(code__in=codes).values_list("code", "pk"))
        for pk, (code, _number) in self._pending_parents.items():
            Agency.objects.filter(pk=pk).update(parent_id=parents[code])
        # A file may close a loop (A under B, B under A): refuse it with the row that closes it.
        for pk, (code, number) in self._pending_parents.items():
            seen, current = {pk}, Agency.objects.get(pk=pk).parent
            while current is not None:
                if current.pk in seen:
                    raise ValidationError(
                        _("row %(row)s, column parent_code: the parents form a loop through %(code)r.")
                        % {"row": number, "code": code}
                    )
                seen.add(current.pk)
                current = current.parent


class CompetitionPageResource(CompetitionResource):
    """`competitions`: slug, title, start, end, [parent], [at_risk_margin], [jury_aggregation],
    [tiers], [closed]; key: slug. Creates or updates a published competition page; `closed`
    (yes or no; blank: unchanged) closes or reopens judging as a manager would."""

    kind = "competitions"
    key_columns = ("slug",)
    required_columns = ("slug", "title", "start", "end")
    optional_columns = ("parent", "at_risk_margin", "jury_aggregation", "tiers", "closed")
    date_columns = ("start", "end")
    decimal_columns = ("at_risk_margin",)
    error_columns = {"start_date": "start", "end_date": "end"}

    slug = Field(attribute="slug", column_name="slug")
    title = Field(attribute="title", column_name="title")
    start = Field(attribute="start_date", column_name="start")
    end = Field(attribute="end_date", column_name="end")
    parent = Field(column_name="parent")
    at_risk_margin = Field(attribute="at_risk_margin", column_name="at_risk_margin")
    jury_aggregation = Field(attribute="jury_aggregation", column_name="jury_aggregation")
    tiers = Field(column_name="tiers")
    closed = Field(column_name="closed")

    class Meta(CompetitionResource.Meta):
        model = CompetitionPage
        fields = ("slug", "title", "start", "end", "parent", "at_risk_margin", "jury_aggregation", "tiers", "closed")

    def get_queryset(self):
        queryset = CompetitionPage.objects.prefetch_related("tiers").order_by("path")
        if self.competition_slug:
            queryset = queryset.filter(slug=self.competition_slug)
        return queryset

    def dehydrate_start(self, page):
        return page.start_date.isoformat() if page.start_date else ""

    def dehydrate_end(self, page):
        return page.end_date.isoformat() if page.end_date else ""

    def dehydrate_parent(self, page):
        parent = getattr(page, "_import_parent", None) or (page.get_parent() if page.pk else None)
        if parent is None or parent.pk == _site_root().pk:
            return ""
        return parent.slug

    def dehydrate_at_risk_margin(self, page):
        return _plain(page.at_risk_margin)

    def dehydrate_tiers(self, page):
        return format_tiers([(tier.label, tier.minimum) for tier in page.tiers.all()])

    def dehydrate_closed(self, page):
        return "yes" if self._closed_of(page) else "no"

    @staticmethod
    def _closed_of(page):
        """Judging closed, as the row being imported leaves it (before it is saved)."""
        wanted = getattr(page, "_import_closed", None)
        return page.closed if wanted is None else wanted

    def parse(self, row, errors):
        from django.utils.text import slugify

        slug = self.text(row, "slug", errors, required=True, max_length=255)
        if slug and slugify(slug) != slug:
            errors["slug"] = _("%(slug)r is not a valid slug: use lower-case letters, digits and hyphens.") % {
                "slug": slug
            }
        parsed = {
            "slug": slug,
            "title": self.text(row, "title", errors, required=True, max_length=255),
            "start": self.day(row, "start", errors, required=True),
            "end": self.day(row, "end", errors, required=True),
            "at_risk_margin": self.decimal(row, "at_risk_margin", errors),
            "jury_aggregation": self.choice(row, "jury_aggregation", errors, Aggregation, default=Aggregation.MEAN),
            "tiers": [],
            "parent": None,
            "closed": None,
        }
        closed = (self.text(row, "closed", errors) or "").lower()
        if closed in ("yes", "no"):
            parsed["closed"] = closed == "yes"
        elif closed and "closed" not in errors:
            errors["closed"] = _("%(value)r is not yes or no (blank leaves judging as it is).") % {"value": closed}
        if parsed["at_risk_margin"] is None:
            parsed["at_risk_margin"] = Decimal("0.10") if "at_risk_margin" not in errors else None
        elif not (0 <= parsed["at_risk_margin"] <= 1):
            errors["at_risk_margin"] = _("the margin must lie between 0 and 1 (e.g. 0.10).")
        if parsed["start"] and parsed["end"] and parsed["end"] < parsed["start"]:
            errors["end"] = _("the period must end on or after its start.")
        try:
            parsed["tiers"] = parse_tiers(unneutralise(str(row.get("tiers") or "")))
        except ValidationError as error:
            errors["tiers"] = error.messages[0]
        parent_slug = self.text(row, "parent", errors)
        if parent_slug:
            parents = list(Page.objects.filter(slug=parent_slug)[:2])
            if not parents:
                errors["parent"] = _("no page has the slug %(slug)r.") % {"slug": parent_slug}
            elif len(parents) > 1:
                errors["parent"] = _("several pages have the slug %(slug)r.") % {"slug": parent_slug}
            else:
                parsed["parent"] = parents[0]
        else:
            parsed["parent"] = _site_root()
            if parsed["parent"] is None:
                errors["parent"] = _("the site has no root page; create a site first.")
        return parsed

    def find_instance(self, parsed):
        matches = list(CompetitionPage.objects.filter(slug=parsed["slug"])[:2])
        if len(matches) > 1:
            raise ValidationError({"slug": _("several competitions have the slug %(slug)r.") % parsed})
        if matches and self.allowed_competitions is not None and matches[0].pk not in self.allowed_competitions:
            raise ValidationError({"slug": _("you do not manage competition %(slug)r.") % parsed})
        return matches[0] if matches else None

    def authorise(self, page):
        """A new competition is a page published under its parent: as in the page editor, the
        user needs the "add" and "publish" permissions there. (An existing one must be among
        the competitions they manage: see find_instance.)"""
        parent = self.parsed["parent"]
        if page is None:
            rights = parent.permissions_for_user(self.user)
            if not (rights.can_add_subpage() and rights.can_publish_subpage()):
                raise ValidationError(
                    {
                        "parent": _("you may not add and publish pages under %(title)r.")
                        % {"title": parent.get_admin_display_title()}
                    }
                )

    def new_instance(self, parsed):
        return CompetitionPage(slug=parsed["slug"])

    def apply(self, page, parsed):
        page.title = parsed["title"]
        page.draft_title = parsed["title"]
        page.start_date = parsed["start"]
        page.end_date = parsed["end"]
        page.at_risk_margin = parsed["at_risk_margin"]
        page.jury_aggregation = parsed["jury_aggregation"]
        page._import_parent = parsed["parent"]
        # Judging changes once the page is saved (`save`): it is not part of the page's revisions.
        page._import_closed = parsed["closed"]
        current = [(tier.label, tier.minimum) for tier in page.tiers.all()] if page.pk else []
        if current != parsed["tiers"]:
            page.tiers = [CompetitionTier(label=label, minimum=minimum) for label, minimum in parsed["tiers"]]
        if page.pk:
            self._check_period_keeps_data(page)
            if page.get_parent().pk != parsed["parent"].pk:
                raise ValidationError(
                    {"parent": _("the competition already lives under another page; move it in the admin.")}
                )
        elif Page.objects.child_of(parsed["parent"]).filter(slug=parsed["slug"]).exists():
            raise ValidationError({"slug": _("another page under the parent already has this slug.")})

    def _check_period_keeps_data(self, page):
        """A new period may not leave reported values, deadlines or milestones outside it."""
        start, end = page.start_date, page.end_date
        outside = (
            Submission.objects.filter(line__commitment__competition=page)
            .exclude(reported_on__range=(start, end))
            .exists()
            or TargetPage.objects.filter(competition=page, deadline__isnull=False)
            .exclude(deadline__gt=start, deadline__lte=end)
            .exists()
            or TargetMilestone.objects.filter(page__competition=page).exclude(date__range=(start, end)).exists()
            or Adjustment.objects.filter(competition=page, on__isnull=False).exclude(on__range=(start, end)).exists()
        )
        if outside:
            raise ValidationError(
                {
                    "start": _(
                        "the new period would leave reported values, deadlines, milestones or adjustments outside it."
                    )
                }
            )

    def full_clean(self, page):
        _clean_page(page, self.parsed["parent"])

    def snapshot(self, page):
        tiers = [(tier.label, tier.minimum) for tier in page.tiers.all()]
        return (
            page.title,
            page.start_date,
            page.end_date,
            Decimal(page.at_risk_margin),
            page.jury_aggregation,
            tiers,
            self._closed_of(page),
        )

    def save(self, page, is_create, parsed):
        if is_create:
            create_and_publish(parsed["parent"], page, user=self.user)
        elif self._before is None or self._before[:-1] != self.snapshot(page)[:-1]:
            publish(page, user=self.user)
        if parsed["closed"] is not None:
            judging.set_judging(page, parsed["closed"], self.user, reason=_("reopened by an import (closed: no)"))


class TargetPageResource(CompetitionResource):
    """`targets`: competition, code, title, unit, direction, baseline, target, max_points,
    [deadline], [milestones]; key: competition, code. Creates or updates a published target page."""

    kind = "targets"
    key_columns = ("competition", "code")
    required_columns = ("competition", "code", "title", "unit", "direction", "baseline", "target", "max_points")
    optional_columns = ("deadline", "milestones")
    date_columns = ("deadline",)
    decimal_columns = ("baseline", "target", "max_points")
    error_columns = {"target_value": "target"}

    competition = Field(attribute="competition__slug", column_name="competition")
    code = Field(attribute="code", column_name="code")
    title = Field(attribute="title", column_name="title")
    unit = Field(attribute="unit", column_name="unit")
    direction = Field(attribute="direction", column_name="direction")
    baseline = Field(column_name="baseline")
    target = Field(column_name="target")
    max_points = Field(column_name="max_points")
    deadline = Field(column_name="deadline")
    milestones = Field(column_name="milestones")

    class Meta(CompetitionResource.Meta):
        model = TargetPage
        fields = (
            "competition",
            "code",
            "title",
            "unit",
            "direction",
            "baseline",
            "target",
            "max_points",
            "deadline",
            "milestones",
        )

    def get_queryset(self):
        queryset = TargetPage.objects.select_related("competition").prefetch_related("milestones")
        if self.competition_slug:
            queryset = queryset.filter(competition__slug=self.competition_slug)
        return queryset.order_by("competition__slug", "code")

    def dehydrate_baseline(self, page):
        return _plain(page.baseline)

    def dehydrate_target(self, page):
        return _plain(page.target_value)

    def dehydrate_max_points(self, page):
        return _plain(page.max_points)

    def dehydrate_deadline(self, page):
        return page.deadline.isoformat() if page.deadline else ""

    def dehydrate_milestones(self, page):
        return format_milestones([(m.date, m.value) for m in page.milestones.all()])

    def parse(self, row, errors):
        competition = self.competition(row, errors)
        parsed = {
            "competition": competition,
            "code": self.text(row, "code", errors, required=True, max_length=32),
            "title": self.text(row, "title", errors, required=True, max_length=255),
            "unit": self.choice(row, "unit", errors, Unit),
            "direction": self.choice(row, "direction", errors, Direction),
            "baseline": self.decimal(row, "baseline", errors, required=True),
            "target": self.decimal(row, "target", errors, required=True),
            "max_points": self.decimal(row, "max_points", errors, required=True),
            "deadline": self.day(row, "deadline", errors),
            "milestones": [],
        }
        try:
            parsed["milestones"] = parse_milestones(row.get("milestones") or "")
        except ValidationError as error:
            errors["milestones"] = error.messages[0]
        if parsed["max_points"] is not None and parsed["max_points"] <= 0:
            errors["max_points"] = _("the maximum points must be more than 0.")
        for column in ("baseline", "target"):
            _check_unit(parsed[column], parsed["unit"], column, errors)
        for day, value in parsed["milestones"]:
            if "milestones" in errors:
                break
            self.in_period(competition, day, "milestones", errors)
            _check_unit(value, parsed["unit"], "milestones", errors)
        self.in_period(competition, parsed["deadline"], "deadline", errors, inclusive_start=False)
        return parsed

    def find_instance(self, parsed):
        return (
            TargetPage.objects.filter(competition=parsed["competition"], code=parsed["code"])
            .prefetch_related("milestones")
            .first()
        )

    def new_instance(self, parsed):
        competition = parsed["competition"]
        return TargetPage(
            competition=competition, code=parsed["code"], slug=free_slug(competition, f"target-{parsed['code']}")
        )

    def apply(self, page, parsed):
        page.title = parsed["title"]
        page.draft_title = parsed["title"]
        page.unit = parsed["unit"]
        page.direction = parsed["direction"]
        page.baseline = parsed["baseline"]
        page.target_value = parsed["target"]
        page.max_points = parsed["max_points"]
        page.deadline = parsed["deadline"]
        current = [(m.date, m.value) for m in page.milestones.all()] if page.pk else []
        if current != parsed["milestones"]:
            page.milestones = [TargetMilestone(date=day, value=value) for day, value in parsed["milestones"]]
        if (
            page.pk
            and page.unit != TargetPage.objects.get(pk=page.pk).unit
            and Submission.objects.filter(line__target=page).exists()
        ):
            raise ValidationError({"unit": _("values were already reported in this unit; it cannot change.")})

    def full_clean(self, page):
        _clean_page(page, self.parsed["competition"])

    def snapshot(self, page):
        milestones = [(m.date, m.value) for m in page.milestones.all()]
        return (
            page.title,
            page.unit,
            page.direction,
            Decimal(page.baseline),
            Decimal(page.target_value),
            Decimal(page.max_points),
            page.deadline,
            milestones,
        )

    def save(self, page, is_create, parsed):
        if is_create:
            create_and_publish(parsed["competition"], page, user=self.user)
        else:
            publish(page, user=self.user)


class CommitmentResource(CompetitionResource):
    """`commitments`: competition, agency, target, [baseline], [target_value], [pledge]; key:
    competition, agency, target. Ensures the agency's published commitment page and its line for
    the target. `pledge` is the agency's pledges on that page, in plain text (paragraphs separated
    by a blank line, competition.domain.pledges): every row of an agency carries the same text,
    or leaves the cell blank to take the text of the agency's other rows; blank on all of them,
    the page has no pledges; without the column, the pledges are left as they are."""

    kind = "commitments"
    key_columns = ("competition", "agency", "target")
    required_columns = ("competition", "agency", "target")
    optional_columns = ("baseline", "target_value", "pledge")
    decimal_columns = ("baseline", "target_value")
    MAX_PLEDGE = 5000  # as a registration's pledges

    competition = Field(attribute="commitment__competition__slug", column_name="competition")
    agency = Field(attribute="commitment__agency__code", column_name="agency")
    target = Field(attribute="target__code", column_name="target")
    baseline = Field(column_name="baseline")
    target_value = Field(column_name="target_value")
    pledge = Field(column_name="pledge")

    class Meta(CompetitionResource.Meta):
        model = CommitmentLine
        fields = ("competition", "agency", "target", "baseline", "target_value", "pledge")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._has_pledge = False
        self._file_pledges = {}  # (competition, agency) cells -> the agency's text in the file
        self._pledge_conflicts = {}  # row number -> the earlier row with another text
        self._pending_pledges = {}  # (competition id, agency id) -> text saved by this import
        # A commitment page's pledges as plain text, by page id (or by competition and agency ids).
        self._page_pledges = {}

    def get_queryset(self):
        queryset = CommitmentLine.objects.select_related("commitment__competition", "commitment__agency", "target")
        if self.competition_slug:
            queryset = queryset.filter(commitment__competition__slug=self.competition_slug)
        return queryset.order_by("commitment__competition__slug", "commitment__agency__code", "target__code")

    def dehydrate_competition(self, line):
        return self.parsed_competition(line).slug

    def dehydrate_agency(self, line):
        return line._agency.code if hasattr(line, "_agency") else line.commitment.agency.code

    def parsed_competition(self, line):
        return line._competition if hasattr(line, "_competition") else line.commitment.competition

    def dehydrate_baseline(self, line):
        return _plain(line.baseline)

    def dehydrate_target_value(self, line):
        return _plain(line.target_value)

    def dehydrate_pledge(self, line):
        if getattr(line, "_pledge", None) is not None:
            return line._pledge
        if hasattr(line, "_agency"):  # a new line: its page may not exist yet
            key = (line._competition.pk, line._agency.pk)
        else:
            key = (line.commitment.competition_id, line.commitment.agency_id)
        if key in self._pending_pledges:
            return self._pending_pledges[key]
        if not line.commitment_id:
            if key not in self._page_pledges:
                page = CommitmentPage.objects.filter(competition_id=key[0], agency_id=key[1]).first()
                self._page_pledges[key] = to_plain_text(page.pledge) if page else ""
            return self._page_pledges[key]
        if line.commitment_id not in self._page_pledges:
            self._page_pledges[line.commitment_id] = to_plain_text(line.commitment.pledge)
        return self._page_pledges[line.commitment_id]

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._touched_pages = []
        self._has_pledge = "pledge" in dataset.headers
        if not self._has_pledge:
            return
        # One text of pledges per agency: the first row that gives one sets it.
        first = {}
        for number, row in enumerate(dataset.dict, 1):
            key = (self._key_text(row.get("competition")), self._key_text(row.get("agency")))
            text = normalise(unneutralise(str(row.get("pledge") or "").strip()))
            if not text:
                continue
            if key not in self._file_pledges:
                self._file_pledges[key], first[key] = text, number
            elif self._file_pledges[key] != text:
                self._pledge_conflicts[number] = first[key]

    def parse(self, row, errors):
        competition = self.competition(row, errors)
        agency = self.agency(row, errors)
        target = self.target(competition, row, errors)
        parsed = {
            "competition": competition,
            "agency": agency,
            "target": target,
            "baseline": self.decimal(row, "baseline", errors),
            "target_value": self.decimal(row, "target_value", errors),
            "pledge": None,  # not in the file: left as it is
        }
        if target is not None:
            _check_unit(parsed["baseline"], target.unit, "baseline", errors)
            _check_unit(parsed["target_value"], target.unit, "target_value", errors)
        if self._has_pledge:
            text = self.text(row, "pledge", errors, max_length=self.MAX_PLEDGE, multiline=True)
            earlier = self._pledge_conflicts.get(self._row_number)
            if earlier is not None:
                errors["pledge"] = _(
                    "the pledges differ from those of the same agency in row %(row)s: an agency has one text "
                    "of pledges; repeat it on each of its rows or leave the cell blank."
                ) % {"row": earlier}
            elif text is not None:
                key = (self._key_text(row.get("competition")), self._key_text(row.get("agency")))
                parsed["pledge"] = self._file_pledges.get(key, "")
        return parsed

    def find_instance(self, parsed):
        return (
            CommitmentLine.objects.select_related("commitment", "target")
            .filter(
                commitment__competition=parsed["competition"],
                commitment__agency=parsed["agency"],
                target=parsed["target"],
            )
            .first()
        )

    def new_instance(self, parsed):
        line = CommitmentLine(target=parsed["target"])
        line._competition = parsed["competition"]
        line._agency = parsed["agency"]
        return line

    def apply(self, line, parsed):
        line.baseline = parsed["baseline"]
        line.target_value = parsed["target_value"]
        line._pledge = parsed["pledge"]

    def snapshot(self, line):
        return (line.baseline, line.target_value, self.dehydrate_pledge(line))

    def full_clean(self, line):
        line.full_clean(exclude=["commitment"], validate_unique=False, validate_constraints=False)

    def save(self, line, is_create, parsed):
        competition, agency = parsed["competition"], parsed["agency"]
        if is_create:
            page = CommitmentPage.objects.filter(competition=competition, agency=agency).first()
            if page is None:
                page = new_commitment_page(competition, agency, parsed["pledge"] or "")
                page.live = False
                competition.add_child(instance=page)
            line.commitment = page
            line.sort_order = CommitmentLine.objects.filter(commitment=page).count()
        line.save()
        if parsed["pledge"] is not None:
            self._pending_pledges[(competition.pk, agency.pk)] = parsed["pledge"]
        if line.commitment_id not in self._touched_pages:
            self._touched_pages.append(line.commitment_id)

    def after_import(self, dataset, result, **kwargs):
        if result.has_validation_errors() or result.has_errors():
            return
        # One revision per commitment page, built from its saved lines and the pledges of the
        # file (only when their text changed: formatting added in the page editor stays), then
        # published.
        for page in CommitmentPage.objects.filter(pk__in=self._touched_pages).order_by("path"):
            pledge = self._pending_pledges.get((page.competition_id, page.agency_id))
            if pledge is not None and normalise(to_plain_text(page.pledge)) != pledge:
                page.pledge = to_rich_text(pledge)
            publish(page, user=self.user)


class JurorResource(CompetitionResource):
    """`jurors`: competition, username, [email], [agency]; key: competition, username. Ensures
    the user (created without a usable password when new) sits on the competition's jury."""

    kind = "jurors"
    key_columns = ("competition", "username")
    required_columns = ("competition", "username")
    optional_columns = ("email", "agency")

    competition = Field(attribute="competition__slug", column_name="competition")
    username = Field(attribute="user__username", column_name="username")
    email = Field(attribute="user__email", column_name="email")
    agency = Field(attribute="agency__code", column_name="agency")

    class Meta(CompetitionResource.Meta):
        model = Juror
        fields = ("competition", "username", "email", "agency")

    def get_queryset(self):
        queryset = Juror.objects.select_related("competition", "user", "agency")
        if self.competition_slug:
            queryset = queryset.filter(competition__slug=self.competition_slug)
        return queryset.order_by("competition__slug", "user__username")

    def dehydrate_username(self, juror):
        return juror._username if juror.user_id is None else juror.user.get_username()

    def dehydrate_email(self, juror):
        return juror._email or "" if juror.user_id is None else juror.user.email

    def parse(self, row, errors):
        competition = self.competition(row, errors)
        username = self.text(row, "username", errors, required=True, max_length=150)
        if username:
            try:
                UnicodeUsernameValidator()(username)
            except ValidationError as error:
                errors["username"] = error.messages[0]
        email = self.text(row, "email", errors, max_length=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = _("%(email)r is not a valid e-mail address.") % {"email": email}
        agency = self.agency(row, errors, required=False)
        user = User.objects.filter(username=username).first() if username else None
        if (
            self.restricted
            and user is not None
            and email
            and email != user.email
            and not self.user.has_perm(f"{User._meta.app_label}.change_{User._meta.model_name}")
        ):
            # As in the admin: only those who may edit users change an account's address (a
            # password reset would reach the new one).
            errors["email"] = _(
                "user %(user)r already has an account: only those who may edit users change its e-mail address."
            ) % {"user": username}
        return {"competition": competition, "username": username, "email": email, "agency": agency, "user": user}

    def authorise(self, juror):
        self.refuse_without_model_permission(Juror, juror)

    def find_instance(self, parsed):
        if parsed["user"] is None:
            return None
        return (
            Juror.objects.select_related("user", "agency")
            .filter(competition=parsed["competition"], user=parsed["user"])
            .first()
        )

    def new_instance(self, parsed):
        juror = Juror(competition=parsed["competition"], user=parsed["user"])
        juror._username = parsed["username"]
        juror._email = parsed["email"]
        return juror

    def apply(self, juror, parsed):
        juror.agency = parsed["agency"]
        juror._email = parsed["email"]
        if juror.pk and juror.agency_id:
            conflicting = JuryScore.objects.filter(
                juror=juror, submission__line__commitment__agency=juror.agency
            ).exists()
            if conflicting:
                raise ValidationError(
                    {
                        "agency": _(
                            "this reviewer has already scored the agency's submissions; "
                            "the affiliation would be a conflict of interest."
                        )
                    }
                )

    def snapshot(self, juror):
        email = juror.user.email if juror.user_id else ""
        new_email = getattr(juror, "_email", None)
        return (juror.agency_id, new_email if new_email else email)

    def full_clean(self, juror):
        juror.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)

    def save(self, juror, is_create, parsed):
        user = juror.user if juror.user_id else parsed["user"]
        if user is None:
            user = User(username=parsed["username"], email=parsed["email"] or "")
            user.set_unusable_password()
            user.save()
        elif parsed["email"] and user.email != parsed["email"]:
            user.email = parsed["email"]
            user.save(update_fields=["email"])
        juror.user = user
        juror.save()


class ValueResource(CompetitionResource):
    """`values`: competition, agency, target, reported_on, value, [note]; key: competition,
    agency, target, reported_on. Records an accepted submission (official statistics)."""

    leaf = True
    kind = "values"
    key_columns = ("competition", "agency", "target", "reported_on")
    required_columns = ("competition", "agency", "target", "reported_on", "value")
    optional_columns = ("note",)
    date_columns = ("reported_on",)
    decimal_columns = ("value",)
    error_columns = {"narrative": "note", "line": "target"}

    competition = Field(attribute="line__commitment__competition__slug", column_name="competition")
    agency = Field(attribute="line__commitment__agency__code", column_name="agency")
    target = Field(attribute="line__target__code", column_name="target")
    reported_on = Field(column_name="reported_on")
    value = Field(column_name="value")
    note = Field(attribute="narrative", column_name="note")

    class Meta(CompetitionResource.Meta):
        model = Submission
        fields = ("competition", "agency", "target", "reported_on", "value", "note")
        # No savepoint per row: new submissions are written together after the last row (the
        # whole file is still one transaction). See save() and after_import().
        use_bulk = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._created = []
        # (competition id, agency id) of each row written (by `import_fast` or row by row): the
        # agencies whose summary of the progress history it makes out of date (domain.history.mark).
        self.changed_agencies = set()

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        # A row can only meet an accepted value of its own date: read those of the file's dates,
        # not the competition's whole history (37,000 values at HCMC size, for a file of 3,680).
        days = (self.day({"reported_on": cell}, "reported_on", {}) for cell in dataset["reported_on"])
        self.accepted_days = {day for day in days if day is not None}

    def get_queryset(self):
        queryset = Submission.objects.accepted().select_related(
            "line__commitment__competition", "line__commitment__agency", "line__target"
        )
        if self.competition_slug:
            queryset = queryset.filter(line__commitment__competition__slug=self.competition_slug)
        return queryset.order_by(
            "line__commitment__competition__slug", "line__commitment__agency__code", "line__target__code", "reported_on"
        )

    def dehydrate_reported_on(self, submission):
        return submission.reported_on.isoformat() if submission.reported_on else ""

    def dehydrate_value(self, submission):
        return _plain(submission.value)

    def parse(self, row, errors):
        competition = self.competition(row, errors)
        agency = self.agency(row, errors)
        target = self.target(competition, row, errors)
        line = self.commitment_line(competition, agency, target, errors)
        parsed = {
            "line": line,
            "reported_on": self.day(row, "reported_on", errors, required=True),
            "value": self.decimal(row, "value", errors, required=True),
            "note": self.text(row, "note", errors) or "",
        }
        self.in_period(competition, parsed["reported_on"], "reported_on", errors)
        if target is not None:
            _check_unit(parsed["value"], target.unit, "value", errors)
        return parsed

    def find_instance(self, parsed):
        submission = self.accepted_submission(parsed["line"], parsed["reported_on"])
        if submission is not None:
            submission.line = parsed["line"]  # the cached line, with its agency and competition
        return submission

    def new_instance(self, parsed):
        return Submission(line=parsed["line"], reported_on=parsed["reported_on"], status=SubmissionStatus.ACCEPTED)

    def apply(self, submission, parsed):
        submission.value = parsed["value"]
        submission.narrative = parsed["note"]

    def snapshot(self, submission):
        return (Decimal(submission.value), submission.narrative)

    def full_clean(self, submission):
        # The line and the users were looked up by this import; their rows exist.
        submission.full_clean(
            exclude=["line", "created_by", "submitted_by", "decided_by", "latest_revision"],
            validate_unique=False,
            validate_constraints=False,
        )

    def save(self, submission, is_create, parsed):
        commitment = submission.line.commitment
        self.changed_agencies.add((commitment.competition_id, commitment.agency_id))
        if is_create:
            now = timezone.now()
            submission.created_by = submission.submitted_by = submission.decided_by = self.user
            submission.submitted_at = submission.decided_at = now
            self._created.append(submission)
        else:
            self._update_accepted(submission.pk, submission.value, submission.narrative)

    def after_import(self, dataset, result, **kwargs):
        created, self._created = self._created, []
        if not created or result.has_validation_errors() or result.has_errors():
            return
        ids = self._insert_accepted(
            [(s.line, s.reported_on, s.value, s.narrative) for s in created], created[0].submitted_at
        )
        for submission, pk in zip(created, ids, strict=True):
            submission.pk = submission.id = pk

    def _insert_accepted(
        self,
        rows,
        now,
        *,
        status=SubmissionStatus.ACCEPTED,
        source=SubmissionSource.IMPORT,
        action="wagtail.create",
        data=None,
    ):
        """Write new accepted submissions, rows of (line, reported_on, value, narrative), and
        their audit log entries in bulk; return the submissions' keys in the order of `rows`.
        (The data feed writes submitted ones too, with its own source, action and log data.)"""
        columns = ["line", "reported_on", "value", "narrative", "status", "source", "created_at", "updated_at"]
        columns += ["created_by", "submitted_at", "submitted_by", "decided_at", "decided_by", "decision_note"]
        user_id = self.user and self.user.pk
        decided_at, decided_by = (now, user_id) if status == SubmissionStatus.ACCEPTED else (None, None)
        ids = insert_rows(
            Submission,
            columns,
            [
                (line.pk, day, value, narrative, status, source, now, now, user_id, now, user_id)
                + (decided_at, decided_by, "")
                for line, day, value, narrative in rows
            ],
            returning_ids=True,
        )
        # What wagtail.log_actions.log writes for each, in one statement.
        log_model = registry.get_log_model_for_model(Submission)
        if log_model is None:
            return ids
        context = get_active_log_context()
        user, uuid = self.user or context.user, context.uuid
        content_type = ContentType.objects.get_for_model(Submission, for_concrete_model=False)
        logged_at = timezone.now()
        # Plain rows, not log entry instances: building and compiling 66,000 model instances
        # took longer than the rest of the import (measured, docs/performance.md). The label is
        # the submission's str().
        insert_rows(
            log_model,
            ["content_type", "label", "action", "data", "timestamp", "uuid", "user", "object_id"]
            + ["content_changed", "deleted"],
            [
                (content_type.pk, f"{line} · {day.isoformat()} · {value}", action, data or {}, logged_at, uuid)
                + (user and user.pk, str(pk), False, False)
                for (line, day, value, _narrative), pk in zip(rows, ids, strict=True)
            ],
        )
        return ids

    def _update_accepted(self, pk, value, narrative, source=SubmissionSource.IMPORT):
        """A changed official figure keeps the old one in the submission's history."""
        stored = Submission.objects.get(pk=pk)
        stored.value, stored.narrative, stored.source = value, narrative, source
        stored.save()
        stored.save_revision(user=self.user, log_action=True, clean=False)
        return stored

    def import_fast(self, dataset, progress=None):
        """Import a whole `values` file without django-import-export's per-row machinery (row
        objects, model instances, full_clean, row results): the same checks as a row of
        `import_data` (parse() holds every check the model's validation would make), the same
        writes, in a fraction of the time (docs/performance.md). Return (created, updated,
        unchanged), or None when any row is refused: nothing is written then, and the caller runs
        `import_data` to report the errors exactly as the preview does.
        tests/test_import_fast.py compares both paths."""
        try:
            self.before_import(dataset)
        except ValidationError:
            return None
        if self._duplicates:
            return None
        headers = dataset.headers
        created, updated, unchanged = [], [], 0
        total = len(dataset)
        for number, cells in enumerate(dataset, 1):
            errors = {}
            parsed = self.parse(dict(zip(headers, cells, strict=False)), errors)  # as import_data
            if errors:
                return None
            line, day, value, note = parsed["line"], parsed["reported_on"], parsed["value"], parsed["note"]
            found = self._accepted_values(line.commitment.competition_id).get((line.pk, day))
            if found is not None and (Decimal(found[1]), found[2]) == (value, note):
                unchanged += 1
                continue
            if line.commitment.competition.closed:
                return None  # refused by the model's validation on the row-by-row path
            if found is None:
                created.append((line, day, value, note))
            else:
                updated.append((found[0], value, note))
            self.changed_agencies.add((line.commitment.competition_id, line.commitment.agency_id))
            if progress is not None:
                progress(number, total)
        if created:
            self._insert_accepted(created, timezone.now())
        for pk, value, note in updated:
            self._update_accepted(pk, value, note)
        return len(created), len(updated), unchanged


class ScoreResource(CompetitionResource):
    """`scores`: competition, agency, target, reported_on, juror, points, [comment]; key:
    submission, juror. A reviewer's points for the accepted submission of that date."""

    leaf = True
    kind = "scores"
    key_columns = ("competition", "agency", "target", "reported_on", "juror")
    required_columns = ("competition", "agency", "target", "reported_on", "juror", "points")
    optional_columns = ("comment",)
    date_columns = ("reported_on",)
    decimal_columns = ("points",)

    competition = Field(attribute="submission__line__commitment__competition__slug", column_name="competition")
    agency = Field(attribute="submission__line__commitment__agency__code", column_name="agency")
    target = Field(attribute="submission__line__target__code", column_name="target")
    reported_on = Field(column_name="reported_on")
    juror = Field(attribute="juror__user__username", column_name="juror")
    points = Field(column_name="points")
    comment = Field(attribute="comment", column_name="comment")

    class Meta(CompetitionResource.Meta):
        model = JuryScore
        fields = ("competition", "agency", "target", "reported_on", "juror", "points", "comment")

    def get_queryset(self):
        queryset = JuryScore.objects.select_related(
            "submission__line__commitment__competition",
            "submission__line__commitment__agency",
            "submission__line__target",
            "juror__user",
        ).filter(submission__status=SubmissionStatus.ACCEPTED)
        if self.competition_slug:
            queryset = queryset.filter(submission__line__commitment__competition__slug=self.competition_slug)
        return queryset.order_by(
            "submission__line__commitment__competition__slug",
            "submission__line__commitment__agency__code",
            "submission__line__target__code",
            "submission__reported_on",
            "juror__user__username",
        )

    def dehydrate_reported_on(self, score):
        return score.submission.reported_on.isoformat()

    def dehydrate_points(self, score):
        return _plain(score.points)

    def parse(self, row, errors):
        competition = self.competition(row, errors)
        agency = self.agency(row, errors)
        target = self.target(competition, row, errors)
        line = self.commitment_line(competition, agency, target, errors)
        reported_on = self.day(row, "reported_on", errors, required=True)
        points = self.decimal(row, "points", errors, required=True)
        username = self.text(row, "juror", errors, required=True)
        juror = None
        if competition is not None and username:
            key = (competition.pk, username)
            if key not in self._jurors:
                self._jurors[key] = (
                    Juror.objects.select_related("user")
                    .filter(competition=competition, user__username=username)
                    .first()
                )
            juror = self._jurors[key]
            if juror is None:
                if User.objects.filter(username=username).exists():
                    errors["juror"] = _("user %(user)r is not a reviewer of competition %(slug)r.") % {
                        "user": username,
                        "slug": competition.slug,
                    }
                else:
                    errors["juror"] = _("unknown user %(user)r.") % {"user": username}
            elif agency is not None and juror.has_conflict_with(agency.pk):
                errors["juror"] = _(
                    "reviewer %(user)r is affiliated with agency %(agency)r and cannot score it (conflict of interest)."
                ) % {"user": username, "agency": agency.code}
        submission = None
        if line is not None and reported_on is not None:
            submission = self.accepted_submission(line, reported_on)
            if submission is not None:
                submission.line = line
            else:
                errors["reported_on"] = _(
                    "no accepted value of agency %(agency)r for target %(target)r reported on %(day)s."
                ) % {"agency": agency.code, "target": target.code, "day": reported_on.isoformat()}
        if points is not None and target is not None and not (0 <= points <= target.max_points):
            errors["points"] = _("points must lie between 0 and %(max)s, the target's maximum.") % {
                "max": _plain(target.max_points)
            }
        return {
            "competition": competition,
            "submission": submission,
            "juror": juror,
            "points": points,
            "comment": self.text(row, "comment", errors) or "",
            "group_id": agency.parent_id if agency is not None else None,
        }

    def find_instance(self, parsed):
        score = JuryScore.objects.filter(submission=parsed["submission"], juror=parsed["juror"]).first()
        if score is not None:
            # The cached objects, so that the preview reads no more rows.
            score.submission, score.juror = parsed["submission"], parsed["juror"]
        return score

    def new_instance(self, parsed):
        return JuryScore(submission=parsed["submission"], juror=parsed["juror"])

    def apply(self, score, parsed):
        score.points = parsed["points"]
        score.comment = parsed["comment"]
        score.counted = self.counted(parsed)

    def counted(self, parsed):
        """A score by a reviewer not on the line's review panel is kept but does not count
        (domain.panels); the competition's panels are read once per import."""
        from .domain import panels

        competition_id = parsed["competition"].pk
        scopes = self.__dict__.setdefault("_panel_scopes", {})
        if competition_id not in scopes:
            scopes[competition_id] = panels.scopes_of([competition_id]).get(competition_id, [])
        reviewers = panels.reviewers_of_line(
            scopes[competition_id], parsed["submission"].line.target_id, parsed["group_id"]
        )
        return reviewers is None or parsed["juror"].pk in reviewers

    def snapshot(self, score):
        return (Decimal(score.points), score.comment)


class AdjustmentResource(CompetitionResource):
    """`adjustments`: competition, agency, points, reason, [on]; key: competition, agency,
    reason. The points count on boards dated on or after `on` (blank: the competition's start)."""

    leaf = True
    kind = "adjustments"
    key_columns = ("competition", "agency", "reason")
    required_columns = ("competition", "agency", "points", "reason")
    optional_columns = ("on",)
    date_columns = ("on",)
    decimal_columns = ("points",)

    competition = Field(attribute="competition__slug", column_name="competition")
    agency = Field(attribute="agency__code", column_name="agency")
    points = Field(column_name="points")
    reason = Field(attribute="reason", column_name="reason")
    on = Field(column_name="on")

    class Meta(CompetitionResource.Meta):
        model = Adjustment
        fields = ("competition", "agency", "points", "reason", "on")

    def get_queryset(self):
        queryset = Adjustment.objects.select_related("competition", "agency")
        if self.competition_slug:
            queryset = queryset.filter(competition__slug=self.competition_slug)
        return queryset.order_by("competition__slug", "agency__code", "reason")

    def dehydrate_points(self, adjustment):
        return _plain(adjustment.points)

    def dehydrate_on(self, adjustment):
        return adjustment.on.isoformat() if adjustment.on else ""

    def parse(self, row, errors):
        parsed = {
            "competition": self.competition(row, errors),
            "agency": self.agency(row, errors),
            "points": self.decimal(row, "points", errors, required=True),
            "reason": self.text(row, "reason", errors, required=True, max_length=500),
            "on": self.day(row, "on", errors),
        }
        if parsed["points"] is not None and parsed["points"] == 0:
            errors["points"] = _("an adjustment of 0 points changes nothing; enter a bonus or a deduction.")
        self.in_period(parsed["competition"], parsed["on"], "on", errors)
        return parsed

    def authorise(self, adjustment):
        self.refuse_without_model_permission(Adjustment, adjustment)

    def find_instance(self, parsed):
        return Adjustment.objects.filter(
            competition=parsed["competition"], agency=parsed["agency"], reason=parsed["reason"]
        ).first()

    def new_instance(self, parsed):
        return Adjustment(competition=parsed["competition"], agency=parsed["agency"], reason=parsed["reason"])

    def apply(self, adjustment, parsed):
        adjustment.points = parsed["points"]
        adjustment.on = parsed["on"]

    def snapshot(self, adjustment):
        return (Decimal(adjustment.points), adjustment.on)

    def save(self, adjustment, is_create, parsed):
        if is_create:
            adjustment.created_by = self.user
        adjustment.save()


def _site_root():
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    return site.root_page if site else None


RESOURCES = {
    resource.kind: resource
    for resource in (
        AgencyResource,
        CompetitionPageResource,
        TargetPageResource,
        CommitmentResource,
        JurorResource,
        ValueResource,
        ScoreResource,
        AdjustmentResource,
    )
}
