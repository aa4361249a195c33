"""Validation rules shared by the models, the admin forms and the imports, so that every path
refuses the same input with the same message."""

import re
import unicodedata
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .enums import Unit

HUNDRED = Decimal(100)
# The one written form of a date the docs name: YYYY-MM-DD in ASCII digits. (Python's
# date.fromisoformat also takes 20251031, 2025-W44-5 and, through int(), other scripts' digits.)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_iso_date(text):
    """A date written YYYY-MM-DD; ValueError for anything else."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"not a date in the form YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)


def validate_value_for_unit(value, unit):
    """Refuse a measured (or baseline, target, milestone) value that its unit cannot take."""
    if value is None or unit is None:
        return
    if unit == Unit.PERCENT and not (0 <= value <= HUNDRED):
        raise ValidationError(_("A percentage must lie between 0 and 100."), code="percent_range")
    if unit == Unit.NUMBER and value < 0:
        raise ValidationError(_("A count cannot be negative."), code="negative")
    if unit == Unit.DAYS and value < 0:
        raise ValidationError(_("A number of days cannot be negative."), code="negative")
    if unit == Unit.BOOLEAN and value not in (0, 1):
        raise ValidationError(_("A yes/no value must be 0 or 1."), code="boolean")


# Characters that change how the text around them is shown without being seen themselves:
# bidirectional controls (U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F, U+061C),
# zero-width spaces (U+200B, U+2060, U+FEFF) and the other format characters, and control
# characters but tabs and line breaks. They let "Sài Gòn Ward" and "Sài Gòn W\u200bard" be two
# agencies, or reverse how a name reads. The zero-width joiners (U+200C, U+200D) stay: some
# scripts need them.
JOINERS = {"\u200c", "\u200d"}


def invisible_characters(text, *, multiline=False):
    """The code points of `text` that validate_visible_text refuses, as "U+202E" strings."""
    if not text or text.isprintable():
        # Printable text has no character of the categories Cc and Cf (nor any other invisible
        # one but the space): the common case, without a look-up per character.
        return []
    found = []
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cf" and char not in JOINERS) or (category == "Cc" and not (multiline and char in "\t\r\n")):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def validate_visible_text(text, *, multiline=False):
    """Refuse text holding invisible control or formatting characters (see JOINERS above)."""
    found = invisible_characters(text, multiline=multiline)
    if found:
        raise ValidationError(
            _("The text holds invisible characters that can disguise it (%(codes)s); remove them.")
            % {"codes": ", ".join(found)},
            code="invisible_characters",
        )


MAX_REASON = 1000


def clean_reason(reason, missing):
    """The reason a user gives for an action the history keeps (a declared conflict, reopened
    judging, a changed award), stripped: required (`missing` is the message saying why it is
    asked for), at most MAX_REASON characters and free of invisible characters. Errors name the
    form field `reason`."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": missing})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("Keep the reason under %(n)d characters.") % {"n": MAX_REASON}})
    try:
        validate_visible_text(reason, multiline=True)
    except ValidationError as error:
        raise ValidationError({"reason": error}) from None
    return reason


def check_visible_fields(instance, *fields, multiline=()):
    """validate_visible_text on the named fields of a model instance, errors by field."""
    errors = {}
    for name in fields:
        try:
            validate_visible_text(getattr(instance, name), multiline=name in multiline)
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(errors)


def validate_ascii_number(text):
    """Refuse a number written with other digits than 0-9 (full-width, Arabic-Indic...), which
    Python's Decimal would read without a word."""
    if isinstance(text, str) and not text.isascii():
        raise ValidationError(_("Write numbers with the digits 0 to 9 (and a dot for decimals)."), code="digits")


def integer_key(text):
    """`text` as an id a database can look up (digits 0-9 only), or None: not a number, or out of
    the range of a 64-bit column (SQLite raises OverflowError on those)."""
    text = str(text)
    if not (text.isascii() and text.isdigit()):
        return None
    key = int(text)
    return key if key < 2**63 else None


def parse_decimal(text):
    """A Decimal from text in ASCII digits; ValidationError (digits) or ArithmeticError."""
    validate_ascii_number(text)
    return Decimal(text)


def validate_no_nul(text):
    """Refuse text holding a NUL character, which PostgreSQL cannot store (forms refuse it too)."""
    if text and "\x00" in text:
        raise ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")


def validate_in_period(day, start, end, *, inclusive_start=True):
    """Refuse a date outside the competition period [start, end]."""
    if day is None or start is None or end is None:
        return
    too_early = day < start if inclusive_start else day <= start
    if too_early or day > end:
        raise ValidationError(
            _("The date %(day)s lies outside the competition period (%(start)s to %(end)s).")
            % {"day": day.isoformat(), "start": start.isoformat(), "end": end.isoformat()},
            code="outside_period",
        )


# What the columns hold: a tier's minimum (CompetitionTier.minimum, 7 digits with 2 decimal places)
# and a measured value, baseline, target or milestone (decimal_field: 18 digits with 4).
TIER_DECIMAL_PLACES = 2
TIER_LIMIT = Decimal("1e5")
MEASURED_DECIMAL_PLACES = 4
MEASURED_LIMIT = Decimal("1e14")


def parse_tiers(text):
    """Parse `Excellent:90;Good:75` into [(label, Decimal(minimum)), ...]; raise ValidationError."""
    validate_no_nul(text)
    validate_visible_text(text)
    tiers = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        label, sep, minimum = part.rpartition(":")
        label = label.strip()
        if not sep or not label:
            raise ValidationError(_("Write each tier as label:minimum, e.g. Good:75."), code="tiers")
        try:
            value = parse_decimal(minimum.strip())
        except (ArithmeticError, ValidationError):
            raise ValidationError(
                _("The minimum of tier %(label)s is not a number.") % {"label": label}, code="tiers"
            ) from None
        if not value.is_finite() or value < 0:
            raise ValidationError(
                _("The minimum of tier %(label)s must be a number of 0 or more.") % {"label": label},
                code="tiers",
            )
        # What CompetitionTier.minimum holds (7 digits, 2 decimal places): never rounded or
        # overflowing without a word.
        if value.as_tuple().exponent < -TIER_DECIMAL_PLACES:
            raise ValidationError(
                _("The minimum of tier %(label)s has more than 2 decimal places.") % {"label": label},
                code="tiers",
            )
        if value >= TIER_LIMIT:
            raise ValidationError(
                _("The minimum of tier %(label)s is too large: at most 99999.99.") % {"label": label},
                code="tiers",
            )
        tiers.append((label, value))
    labels = [label for label, _minimum in tiers]
    if len(set(labels)) != len(labels):
        raise ValidationError(_("Tier labels must be unique."), code="tiers")
    return tiers


def format_tiers(tiers):
    return ";".join(f"{label}:{_plain(minimum)}" for label, minimum in tiers)


def parse_milestones(text):
    """Parse `2025-06-30:80;2025-09-30:90` into [(date, Decimal), ...]; raise ValidationError."""
    validate_no_nul(text)
    milestones = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        day, sep, value = part.partition(":")
        try:
            parsed_day = parse_iso_date(day.strip())
        except ValueError:
            raise ValidationError(
                _("%(text)s: write each milestone as YYYY-MM-DD:value.") % {"text": part}, code="milestones"
            ) from None
        try:
            parsed_value = parse_decimal(value.strip())
        except (ArithmeticError, ValidationError):
            parsed_value = None
        if not sep or parsed_value is None or not parsed_value.is_finite():
            raise ValidationError(
                _("%(text)s: the milestone value is not a number.") % {"text": part}, code="milestones"
            )
        # What TargetMilestone.value holds (as values, baselines and targets): never rounded.
        if parsed_value.as_tuple().exponent < -MEASURED_DECIMAL_PLACES:
            raise ValidationError(
                _("%(text)s: the milestone value has more than 4 decimal places.") % {"text": part},
                code="milestones",
            )
        if parsed_value.copy_abs() >= MEASURED_LIMIT:
            raise ValidationError(_("%(text)s: the milestone value is too large.") % {"text": part}, code="milestones")
        milestones.append((parsed_day, parsed_value))
    days = [day for day, _value in milestones]
    if len(set(days)) != len(days):
        raise ValidationError(_("Two milestones share a date."), code="milestones")
    return sorted(milestones)


def format_milestones(milestones):
    return ";".join(f"{day.isoformat()}:{_plain(value)}" for day, value in milestones)


def _plain(value):
    """A Decimal without exponent or trailing zeros: 80.000 -> 80, 0.50 -> 0.5."""
    value = Decimal(value)
    text = format(value.normalize(), "f")
    return text


def validate_judging_open(competition):
    """Refuse a change to what counts on a competition's boards (a value, a decision, a score, an
    adjustment) once its results are published: judging is closed until a manager reopens it."""
    if competition is not None and competition.closed:
        raise ValidationError(
            _(
                "The results of “%(title)s” are published (judging is closed): nothing that counts on "
                "its scoreboards can change until a manager reopens judging."
            )
            % {"title": competition.title},
            code="judging_closed",
        )
