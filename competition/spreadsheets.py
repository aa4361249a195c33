"""Spreadsheet files the app writes (scoreboards, exports, import templates), safe to open in
Excel or LibreOffice: a text cell is never taken for a formula (CSV injection).

In CSV a text cell that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage
return, or their full-width forms) is written with a leading apostrophe, which spreadsheet
programs read as "this is text"; numbers such as `-2` are left alone. The imports remove that
apostrophe again (`unneutralise`), so an exported file imports back unchanged. In XLSX the
cell is stored as text as it is, without an apostrophe."""

import csv
import io
from decimal import Decimal, InvalidOperation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _is_number(text):
    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False


def neutralise(value):
    """`value` for a CSV cell: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def unneutralise(text):
    """Undo `neutralise` on a text cell read from an import file."""
    if isinstance(text, str) and text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def neutralise_csv(chunks, encoding="utf-8"):
    """Rewrite CSV text arriving in chunks (str or bytes, as a streaming response yields them)
    with every cell neutralised; yields bytes, one chunk per complete row or more. A chunk that
    ends inside a quoted cell waits for the rest of that cell."""
    pending = ""
    for chunk in chunks:
        pending += chunk.decode(encoding) if isinstance(chunk, bytes) else chunk
        try:
            rows = list(csv.reader(io.StringIO(pending), strict=True))
        except csv.Error:
            continue  # a quoted cell goes on in the next chunk
        if pending and not pending.endswith(("\n", "\r")):
            continue  # the last row goes on in the next chunk
        pending = ""
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows([[neutralise(cell) for cell in row] for row in rows])
        yield out.getvalue().encode(encoding)
    if pending:
        out = io.StringIO()
        rows = csv.reader(io.StringIO(pending))
        csv.writer(out, lineterminator="\r\n").writerows([[neutralise(cell) for cell in row] for row in rows])
        yield out.getvalue().encode(encoding)


def export_dataset(dataset, file_format):
    """A tablib Dataset as CSV text, XLSX bytes or JSON text, with no cell read as a formula."""
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([neutralise(str(header)) for header in dataset.headers or []])
        for row in dataset:
            writer.writerow(["" if cell is None else neutralise(cell) for cell in row])
        return out.getvalue()
    if file_format == "xlsx":
        return _xlsx(dataset)
    if file_format == "json":
        return dataset.export("json")
    raise ValueError(f"unsupported format {file_format!r}")


def _xlsx(dataset):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(dataset.title or "Sheet1")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cells(values, font=None):
        for value in values:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("-", value)  # control characters XLSX cannot hold
            cell = WriteOnlyCell(sheet, value)
            if cell.data_type == "f":
                cell.data_type = "s"  # text that looks like a formula stays text
            if font is not None:
                cell.font = font
            yield cell

    sheet.append(list(cells(dataset.headers or [], bold)))
    for row in dataset:
        sheet.append(list(cells(row)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
