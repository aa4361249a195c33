"""Values sent by an agency's own system (a data feed, docs/feeds.md): the rows and checks of the
`values` import (competition.resources.ValueResource) for the commitment lines of the token's
agency in the token's competition, written in one transaction or not at all.

Idempotent on (agency, target, reported_on): a row whose value and note the key already holds
(the accepted value the board uses, or the feed's last value for that key, whatever a manager
decided on it) changes nothing, so a replayed request writes nothing. Whether a new value counts
at once (accepted) or waits for a manager (submitted) is the competition's setting
`accept_feed_values`."""

from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .domain import history
from .domain.feed_tokens import note_use
from .enums import SubmissionSource, SubmissionStatus
from .models import Submission, TargetPage
from .resources import ValueResource
from .signals import invalidation_deferred
from .validators import validate_judging_open

COLUMNS = ValueResource.columns()
LOG_ACTION = "competition.feed_value"


@dataclass
class FeedResult:
    errors: list = field(default_factory=list)  # dicts: row (from 1), column, message
    values: list = field(default_factory=list)  # dicts: row, target, reported_on, result, status, id
    status: str = ""

    def count(self, result):
        return sum(1 for value in self.values if value["result"] == result)


class FeedValueResource(ValueResource):
    """The `values` import for one token: its competition and agency are known (read once), and
    only that agency's lines and values are loaded, whatever the size of the competition."""

    def __init__(self, token):
        competition = token.competition
        super().__init__(competition=competition.slug, allowed_competitions={competition.pk})
        self.token = token
        self.agency_scope = token.agency
        self._competitions[competition.slug] = [competition]
        self._agencies[token.agency.code] = token.agency
        for target in TargetPage.objects.filter(competition=competition):
            self._targets[(competition.pk, target.code)] = target

    def scope_errors(self, row):
        """A row naming another competition or agency than the token's."""
        errors = {}
        competition, agency = self.token.competition, self.token.agency
        slug = self._key_text(row.get("competition"))
        if slug != competition.slug:
            errors["competition"] = _("this token sends values to competition %(slug)r only, not to %(other)r.") % {
                "slug": competition.slug,
                "other": slug,
            }
        code = self._key_text(row.get("agency"))
        if code != agency.code:
            errors["agency"] = _("this token sends values for agency %(code)r only, not for %(other)r.") % {
                "code": agency.code,
                "other": code,
            }
        return errors

    def latest_feed_values(self):
        """(pk, value, note, status) of the feed's latest submission for each (line id, date) of the
        token's agency."""
        latest = {}
        for pk, line_id, day, value, narrative, status in (
            Submission.objects.filter(
                line__commitment__competition=self.token.competition,
                line__commitment__agency=self.token.agency,
                source=SubmissionSource.FEED,
            )
            .order_by("pk")
            .values_list("pk", "line_id", "reported_on", "value", "narrative", "status")
        ):
            latest[(line_id, day)] = (pk, Decimal(value), narrative, status)
        return latest


def _dataset(token, items):
    """The request's values as the rows of a `values` file; the token's competition and agency
    where a value names none."""
    dataset = tablib.Dataset(headers=list(COLUMNS))
    defaults = {"competition": token.competition.slug, "agency": token.agency.code}
    for item in items:
        dataset.append(
            [item.get(column) if item.get(column) is not None else defaults.get(column) for column in COLUMNS]
        )
    return dataset


def post_values(token, items):
    """Record `items` (dicts with the columns of the `values` import) for `token`: every value, or
    none with the errors of each refused row."""
    competition = token.competition
    resource = FeedValueResource(token)
    dataset = _dataset(token, items)
    resource.before_import(dataset)  # the columns are the import's: only duplicate keys are noted
    accept = competition.accept_feed_values
    status = SubmissionStatus.ACCEPTED if accept else SubmissionStatus.SUBMITTED
    result = FeedResult(status=status)
    try:
        validate_judging_open(competition)
        closed = None
    except ValidationError as error:
        closed = error.messages[0]
    latest = {} if accept else resource.latest_feed_values()
    creates, updates = [], []
    for number, row in enumerate(dataset.dict, 1):
        errors = resource.scope_errors(row)
        if not errors:
            parsed, errors = resource.check_row(number, row)
        if errors:
            result.errors.extend(
                {"row": number, "column": column, "message": str(errors[column])}
                for column in COLUMNS
                if column in errors
            )
            continue
        line, day, value, note = parsed["line"], parsed["reported_on"], parsed["value"], parsed["note"]
        outcome = {"row": number, "target": line.target.code, "reported_on": day.isoformat(), "status": status}
        board = resource.accepted_submission(line, day)
        fed = latest.get((line.pk, day))
        if board is not None and (Decimal(board.value), board.narrative) == (value, note):
            outcome.update(result="unchanged", status=SubmissionStatus.ACCEPTED, id=board.pk)
        elif fed is not None and fed[1:3] == (value, note):
            outcome.update(result="unchanged", status=fed[3], id=fed[0])
        elif closed:
            result.errors.append({"row": number, "column": "competition", "message": closed})
            continue
        elif accept and board is not None:
            outcome.update(result="updated", id=board.pk)
            updates.append((board.pk, value, note))
        elif not accept and fed is not None and fed[3] == SubmissionStatus.SUBMITTED:
            outcome.update(result="updated", id=fed[0])  # still waiting for a manager: its value changes
            updates.append((fed[0], value, note))
        else:
            outcome.update(result="created")
            creates.append((line, day, value, note))
        result.values.append(outcome)
    if result.errors:
        result.values = []
        return result
    _write(resource, token, result, creates, updates, status)
    return result


def _write(resource, token, result, creates, updates, status):
    data = {"source": SubmissionSource.FEED, "token": str(token), "status": status}
    written = []

    def changed_boards():
        # Submitted values do not count until accepted: only accepted ones change the boards.
        return [token.competition_id] if written and status == SubmissionStatus.ACCEPTED else []

    with invalidation_deferred(changed_boards, marked=True), transaction.atomic():
        ids = []
        if creates:
            ids = resource._insert_accepted(
                creates, timezone.now(), status=status, source=SubmissionSource.FEED, action=LOG_ACTION, data=data
            )
        for pk, value, note in updates:
            stored = resource._update_accepted(pk, value, note, source=SubmissionSource.FEED)
            log(stored, LOG_ACTION, data=data)
        note_use(token)
        if creates or updates:
            written.append(True)
            if status == SubmissionStatus.ACCEPTED:
                # The summary of the agency's history is out of date, in this transaction.
                history.mark([(token.competition_id, token.agency_id)])
    new_ids = iter(ids)
    for outcome in result.values:
        if outcome["result"] == "created":
            outcome["id"] = next(new_ids)
