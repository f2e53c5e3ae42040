"""Report downloads: a report is a list of tables (title, columns, rows, an optional totals row), written as
CSV or XLSX by the one writer here, so a page and its two downloads always hold the same figures.

Both writers are built to be opened in Excel by people who did not write them: CSV starts with a UTF-8 BOM
(otherwise Excel reads Chinese as mojibake), XLSX carries values only, and text that looks like a formula
(= + - @) stays text in both, because a homeowner's suggestion is not something to execute."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseBadRequest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

TEXT, INTEGER, NUMBER, PERCENT, MONEY, DATE = "text", "integer", "number", "percent", "money", "date"
FORMATS = {INTEGER: "0", NUMBER: "0.0#", PERCENT: "0.0", MONEY: "#,##0.00", DATE: "yyyy-mm-dd"}
# What spreadsheet programs take as the start of a formula (OWASP "CSV injection"), tab and CR included.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    label: str  # lazy: translated when written
    kind: str = TEXT


@dataclass(frozen=True)
class ContactCell:
    """A homeowner's contact detail in a table: ``text`` is what this viewer may see in a download (full or
    masked); a page shows ``record``'s ``field`` through the audited ``{% contact %}`` tag instead."""

    record: object
    field: str
    text: str

    def __str__(self):
        return self.text


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    total: list | None = None  # the totals row, where a total means something
    empty: str = ""  # what the page says when there are no rows

    @property
    def key(self) -> str:
        return re.sub(r"\W+", "-", str(self.title).lower()).strip("-")


def plain(value):
    """A cell as the writers take it: numbers and dates as they are, everything else as text."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float | Decimal | date):
        return value
    return str(value)


def _csv_cell(value) -> str:
    value = plain(value)
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_START) else value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(tables: list[Table]) -> bytes:
    """UTF-8 with a BOM; each table is its title row, its header row, its rows and totals, and a blank line
    separates one table from the next."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([_csv_cell(table.title)])
        writer.writerow([_csv_cell(column.label) for column in table.columns])
        for row in [*table.rows, *([table.total] if table.total else [])]:
            writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = SHEET_TITLE_FORBIDDEN.sub(" ", str(title)).strip("' ")[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _write_cell(sheet, row: int, column: int, value, kind: str):
    cell = sheet.cell(row=row, column=column)
    if value is None:
        return cell
    value = plain(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        # openpyxl takes a leading "=" as a formula; a string cell with the quote prefix stays text in Excel.
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
        return cell
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
    cell.value = value
    if kind in FORMATS:
        cell.number_format = FORMATS[DATE if isinstance(value, date) else kind]
    return cell


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table: the header row, the rows, the totals in bold; values only, no formulas."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        for col, column in enumerate(table.columns, start=1):
            _write_cell(sheet, 1, col, column.label, TEXT).font = bold
            width = max([len(str(column.label))] + [len(str(plain(r[col - 1]))) for r in table.rows[:200]])
            sheet.column_dimensions[get_column_letter(col)].width = min(60, max(10, width * 1.3))
        for r, row in enumerate(table.rows, start=2):
            for col, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
                _write_cell(sheet, r, col, value, column.kind)
        if table.total:
            r = len(table.rows) + 2
            for col, (value, column) in enumerate(zip(table.total, table.columns, strict=True), start=1):
                _write_cell(sheet, r, col, value, column.kind).font = bold
        sheet.freeze_panes = "A2"
    if not tables:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def content_disposition(filename: str, ascii_filename: str) -> str:
    """``attachment`` with the file name for every client: a plain ASCII ``filename`` and, when the real name
    is not ASCII, the UTF-8 ``filename*`` that modern browsers prefer (RFC 6266, RFC 5987)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_filename) or "report"
    header = f'attachment; filename="{fallback}"'
    if filename != fallback:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


WRITERS = {"csv": (to_csv, CSV_TYPE), "xlsx": (to_xlsx, XLSX_TYPE)}


def download(tables: list[Table], *, fmt: str, name: str, ascii_name: str) -> HttpResponse:
    """The tables as a CSV or XLSX attachment called ``name``.``fmt`` (``ascii_name`` for old clients)."""
    write, content_type = WRITERS[fmt]
    response = HttpResponse(write(tables), content_type=content_type)
    response["Content-Disposition"] = content_disposition(f"{name}.{fmt}", f"{ascii_name}.{fmt}")
    response["Cache-Control"] = "private, no-store"  # may carry homeowners' contact details
    return response


def refused(form, message: str) -> HttpResponseBadRequest:
    """A download whose filters do not validate, refused with their errors in ``message`` (``%(errors)s``):
    a download of another selection than the one asked for would mislead."""
    errors = "; ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(texts)}"
        for name, texts in form.errors.items()
    )
    return HttpResponseBadRequest(message % {"errors": errors}, content_type="text/plain; charset=utf-8")
