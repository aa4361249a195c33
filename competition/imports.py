"""Reading import files (CSV, XLSX, JSON) into datasets and running a resource over them as one
transaction, with row errors in the form `row N, column C: message` (docs/imports.md)."""

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from import_export.results import RowResult

from .domain import history
from .models import ImportRecord
from .resources import RESOURCES
from .signals import invalidation_deferred

FORMATS = ("csv", "xlsx", "json")
# An XLSX file is a zip archive: refuse one that would unpack to more than this (a zip bomb).
MAX_XLSX_UNPACKED = 200 * 1024 * 1024


class ImportFileError(Exception):
    """The file cannot be read at all (format, encoding, shape)."""


def load_dataset(content, file_format):
    """A tablib Dataset from the file's bytes; raise ImportFileError with a clear message."""
    if file_format == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(_("the file is not UTF-8 text; save the CSV as UTF-8.")) from None
        if not text.strip():
            raise ImportFileError(_("the file is empty; it needs at least a header row."))
        try:
            return tablib.Dataset().load(text, format="csv")
        except Exception as error:  # tablib raises several kinds for malformed CSV
            reason = _uneven_row(text) or str(error) or type(error).__name__
            raise ImportFileError(_("the CSV file cannot be read: %(error)s") % {"error": reason}) from None
    if file_format == "xlsx":
        try:
            unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist())
        except (zipfile.BadZipFile, ValueError):
            raise ImportFileError(_("the file is not a readable XLSX workbook.")) from None
        if unpacked > MAX_XLSX_UNPACKED:
            raise ImportFileError(_("the workbook is too large once unpacked; split it into smaller files."))
        try:
            dataset = tablib.Dataset().load(content, format="xlsx")
        except Exception:  # openpyxl raises many kinds for a damaged or foreign file
            raise ImportFileError(_("the file is not a readable XLSX workbook.")) from None
        # Spreadsheets often carry empty trailing rows; they are not data.
        empty = [i for i, row in enumerate(dataset) if all(cell in (None, "") for cell in row)]
        for i in reversed(empty):
            del dataset[i]
        return dataset
    if file_format == "json":
        try:
            data = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise ImportFileError(_("the file is not valid UTF-8 JSON.")) from None
        except RecursionError:
            # `[[[[…]]]]` deeper than Python's parser goes (a few KB of brackets suffice).
            raise ImportFileError(_("the JSON file is nested too deeply; it must hold a list of objects.")) from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ImportFileError(_("the JSON file must hold a list of objects."))
        headers = []
        for item in data:
            headers.extend(key for key in item if key not in headers)
        if any(not key.isascii() and any("\ud800" <= char <= "\udfff" for char in key) for key in headers):
            raise ImportFileError(_("a column name of the JSON file holds a broken character; correct it."))
        dataset = tablib.Dataset(headers=headers)
        for item in data:
            dataset.append([_json_cell(item.get(key)) for key in headers])
        return dataset
    raise ImportFileError(_("unsupported file type %(type)r: use .csv, .xlsx or .json.") % {"type": file_format})


def _uneven_row(text):
    """The first row with another number of cells than the header, in words (tablib's own error,
    InvalidDimensions, says nothing); None when every row has the header's width."""
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        number = 0
        for cells in reader:
            if not cells:
                continue  # a blank line is no row (nor for tablib)
            number += 1
            if len(cells) != len(header):
                return _(
                    "row %(row)s (line %(line)s of the file) has %(cells)s cells but the header has "
                    "%(columns)s; put a cell that holds a comma in double quotes."
                ) % {"row": number, "line": reader.line_num, "cells": len(cells), "columns": len(header)}
    except csv.Error:
        return None
    return None


def _json_cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def file_format_of(path):
    return Path(path).suffix.lower().lstrip(".")


@dataclass
class ImportReport:
    errors: list = field(default_factory=list)
    # Errors of the whole file (its columns); the row errors as (row number, column, message),
    # for the preview's table (column "-": an unexpected failure of no column).
    file_errors: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    result: object = None

    @property
    def ok(self):
        return not self.errors


# What the rows of a kind can change of the progress history (domain.history), imported row by
# row: the figures, weights or lines of any agency of the competitions they name (the summary of
# each is marked out of date as a whole), the values of the agencies they name (`values`: those
# agencies are marked), or nothing the summary reads (the other kinds: marked nothing). The kinds
# whose rows no agency's progress depends on leave the chart's kept history too
# (signals.BESIDE_PROGRESS); a competition's period decides the chart's dates.
SUMMARY_WHOLE = {"targets", "commitments"}
BESIDE_PROGRESS = {"agencies", "jurors", "scores", "adjustments"}


def run_import(
    kind,
    dataset,
    *,
    competition=None,
    user=None,
    dry_run=False,
    allowed_competitions=None,
    progress=None,
    file_name="",
    fast=True,
):
    """Import `dataset` as `kind` in one transaction: nothing is written unless every row is
    valid (and nothing at all on a dry run). `allowed_competitions` limits the rows to the
    competitions of that set of ids; `progress(done, total)` is called after each row.
    `fast=False` keeps a real `values` import on django-import-export's path (for the tests
    that compare both paths)."""
    resource = RESOURCES[kind](
        competition=competition, user=user, allowed_competitions=allowed_competitions, html_diff=dry_run
    )
    resource.progress = progress

    def touched():
        # Agencies and competitions: every board; other kinds: the competitions their rows named.
        if kind in ("agencies", "competitions"):
            return None
        return resource.named_competition_ids()

    if fast and kind == "values" and not dry_run:
        # Official figures come in large files: a real import takes the fast path. A file it
        # refuses, or a database error on the way (the transaction then undoes everything), is
        # run through django-import-export below, which reports the errors row by row. (The fast
        # path's header checks change the dataset as import_data's would: cleaned header names,
        # the competition column added; doing so twice gives the same dataset.)
        quick = RESOURCES[kind](competition=competition, user=user, allowed_competitions=allowed_competitions)
        written = []

        def written_to():
            return quick.named_competition_ids() if written else []

        try:
            with invalidation_deferred(written_to, marked=True), transaction.atomic():
                counts = quick.import_fast(dataset, progress=progress)
                if counts is not None:
                    # The history's summary of the agencies written to: marked out of date in the
                    # import's own transaction, computed again right after its commit (as is the
                    # deferred invalidation).
                    history.mark_and_refresh(quick.changed_agencies)
                    report = ImportReport(created=counts[0], updated=counts[1], unchanged=counts[2])
                    _record(report, kind, user, competition, file_name)
                    written.append(True)
        except DatabaseError:
            written.clear()
        if written:
            return report

    # One transaction around the import and the end of the deferred invalidation, which marks the
    # summary of the history of the competitions written to out of date (domain.history.mark):
    # the rows and their marks commit together, or neither does. A dry run writes nothing, so
    # nothing is invalidated or marked.
    with (
        transaction.atomic(),
        invalidation_deferred(
            () if dry_run else touched, marked=kind not in SUMMARY_WHOLE, progress=kind not in BESIDE_PROGRESS
        ),
    ):
        result = resource.import_data(
            dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
        )
        if kind == "values" and not dry_run and not (result.has_errors() or result.has_validation_errors()):
            history.mark_and_refresh(resource.changed_agencies)
    report = ImportReport(result=result)
    for error in result.base_errors:
        report.file_errors.append(_message_of(error.error))
    report.errors.extend(report.file_errors)
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            column = resource.key_columns[-1] if column == NON_FIELD_ERRORS else column
            for message in messages:
                report.problems.append((invalid.number, column, str(message)))
    for number, errors in result.row_errors():
        for error in errors:
            # An unexpected failure (a database constraint, say): name it without a traceback.
            report.problems.append((number, "-", _message_of(error.error)))
    report.errors.extend(f"row {number}, column {column}: {message}" for number, column, message in report.problems)
    if not report.errors:
        totals = result.totals
        report.created = totals[RowResult.IMPORT_TYPE_NEW]
        report.updated = totals[RowResult.IMPORT_TYPE_UPDATE]
        report.unchanged = totals[RowResult.IMPORT_TYPE_SKIP]
        if not dry_run:
            _record(report, kind, user, competition, file_name)
    return report


def _record(report, kind, user, competition, file_name):
    ImportRecord.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        kind=kind,
        file_name=file_name[:255],
        competition=competition or "",
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )


def _message_of(error):
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error) or error.__class__.__name__
