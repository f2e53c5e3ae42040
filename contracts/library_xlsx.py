"""The item library as an XLSX file: written for the firm to edit in Excel or WPS, and read back for the
import (``contracts.services.library.price_items_import``).

Each header cell reads "<label in the user's language> (<column key>)", so a file travels between staff who
read Chinese and English; the import finds a column by its key, or by its label in either language. Trades and
kinds are written as their labels and read as a label in either language, a common Chinese name (泥瓦, 主材) or
the code value. The first sheet is the library; the second lists the values the import accepts.

What is read is guarded before openpyxl opens it: the size, the ZIP signature and the unpacked size (an XLSX
is a ZIP, and a small one can unpack to gigabytes), and the number of rows."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .models import PriceItem, TradeCategory
from .services.library import ImportRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Unpacked, the parts of a 5 MB workbook of 5,000 rows stay far below this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
LANGUAGES = ("zh-hans", "en")
# What spreadsheet programs take as the start of a formula (OWASP "CSV injection"): such text stays text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy, translated when written
    money: bool = False


COLUMNS = (
    Column("code", gettext_lazy("Code")),
    Column("name", gettext_lazy("Item")),
    Column("kind", gettext_lazy("Kind")),
    Column("trade", gettext_lazy("Trade category")),
    Column("unit", gettext_lazy("Unit")),
    Column("unit_price", gettext_lazy("Unit price"), money=True),
    Column("cost_price", gettext_lazy("Cost price"), money=True),
    Column("brand_model", gettext_lazy("Brand / model")),
    Column("description", gettext_lazy("Description")),
    Column("active", gettext_lazy("Active")),
)
KEYS = {column.key for column in COLUMNS}
COST_COLUMN = "cost_price"

# The names firms use besides the labels (the glossary's and the trade's own words).
TRADE_ALIASES = {
    "拆除": TradeCategory.DEMOLITION,
    "拆改": TradeCategory.DEMOLITION,
    "水电": TradeCategory.PLUMBING_ELECTRICAL,
    "泥瓦": TradeCategory.MASONRY,
    "瓦工": TradeCategory.MASONRY,
    "泥工": TradeCategory.MASONRY,
    "防水": TradeCategory.WATERPROOFING,
    "木工": TradeCategory.CARPENTRY,
    "油漆": TradeCategory.PAINTING,
    "油工": TradeCategory.PAINTING,
    "安装": TradeCategory.INSTALLATION,
    "主材": TradeCategory.MAIN_MATERIALS,
    "其他": TradeCategory.OTHER,
}
KIND_ALIASES = {
    "人工辅材": PriceItem.Kind.LABOUR_MATERIAL,
    "人工+辅材": PriceItem.Kind.LABOUR_MATERIAL,
    "辅材+人工": PriceItem.Kind.LABOUR_MATERIAL,
    "人工及辅材": PriceItem.Kind.LABOUR_MATERIAL,
    "人工": PriceItem.Kind.LABOUR,
    "辅材": PriceItem.Kind.MATERIAL,
    "主材": PriceItem.Kind.MAIN_MATERIAL,
}
HEADER_ALIASES = {
    "编码": "code",
    "编号": "code",
    "名称": "name",
    "项目": "name",
    "项目名称": "name",
    "类型": "kind",
    "工种": "trade",
    "类别": "trade",
    "单位": "unit",
    "单价": "unit_price",
    "成本价": "cost_price",
    "成本": "cost_price",
    "品牌型号": "brand_model",
    "品牌/型号": "brand_model",
    "说明": "description",
    "描述": "description",
    "工艺说明": "description",
    "启用": "active",
    "状态": "active",
}
YES = {"1", "true", "yes", "y", "是", "启用", "active", "有效"}
NO = {"0", "false", "no", "n", "否", "停用", "retired", "inactive", "已停用"}
KEY_IN_HEADER = re.compile(r"[(（]\s*([a-z_]+)\s*[)）]\s*$")


def _norm(text) -> str:
    return re.sub(r"\s+", "", str(text)).casefold()


def _in_every_language(choices) -> dict[str, str]:
    """{normalized label or value: value} for choices, with the labels of every language the UI speaks."""
    found = {}
    for language in LANGUAGES:
        with translation.override(language):
            for value, label in choices:
                found[_norm(label)] = value
    for value, _label in choices:
        found[_norm(value)] = value
    return found


def header_text(column: Column) -> str:
    return f"{column.label} ({column.key})"


# Export -----------------------------------------------------------------------------------------------------


def _text_cell(cell, value: str) -> None:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    cell.data_type = "s"  # openpyxl would take a leading "=" as a formula
    if value.startswith(FORMULA_START):
        cell.quotePrefix = True


def price_items_workbook(items, *, with_costs: bool) -> bytes:
    """Every item given, one a row, in the current language; the cost price column only ``with_costs``."""
    columns = [column for column in COLUMNS if with_costs or column.key != COST_COLUMN]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Item library"))[:31]
    bold = Font(bold=True)
    for number, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=number)
        _text_cell(cell, header_text(column))
        cell.font = bold
        sheet.column_dimensions[get_column_letter(number)].width = 14 if column.key != "name" else 30
    yes, no = _("Yes"), _("No")
    for row, item in enumerate(items, start=2):
        values = {
            "kind": item.get_kind_display(),
            "trade": item.get_trade_display(),
            "active": yes if item.is_active else no,
        }
        for number, column in enumerate(columns, start=1):
            cell = sheet.cell(row=row, column=number)
            if column.money:
                cell.value = getattr(item, column.key)
                cell.number_format = "0.00"
            else:
                _text_cell(cell, str(values.get(column.key, getattr(item, column.key, ""))))
    sheet.freeze_panes = "A2"
    _values_sheet(workbook.create_sheet(str(_("Accepted values"))[:31]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _values_sheet(sheet) -> None:
    bold = Font(bold=True)
    rows = [(_("Trade category"), value, label) for value, label in TradeCategory.choices]
    rows += [(_("Kind"), value, label) for value, label in PriceItem.Kind.choices]
    rows += [(_("Active"), "yes / no", f"{_('Yes')} / {_('No')}")]
    for number, text in enumerate((_("Column"), _("Value"), _("Label")), start=1):
        cell = sheet.cell(row=1, column=number)
        _text_cell(cell, str(text))
        cell.font = bold
    for row, values in enumerate(rows, start=2):
        for number, value in enumerate(values, start=1):
            _text_cell(sheet.cell(row=row, column=number), str(value))
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 30


# Import -----------------------------------------------------------------------------------------------------


def _refuse(message: str):
    raise ValidationError({"file": [message]})


def _open(upload):
    """The workbook of an uploaded file, or a refusal saying why it cannot be read."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > MAX_BYTES:
        _refuse(_("The file is larger than 5 MB. Split the library into smaller files."))
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if not data.startswith(b"PK\x03\x04"):
        _refuse(_("This is not an XLSX file. Save the sheet as Excel workbook (.xlsx) and upload that."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        _refuse(_("This is not an XLSX file. Save the sheet as Excel workbook (.xlsx) and upload that."))
    if "xl/workbook.xml" not in names:
        _refuse(_("This is not an XLSX file. Save the sheet as Excel workbook (.xlsx) and upload that."))
    if unpacked > MAX_UNPACKED_BYTES:
        _refuse(_("The file is larger than 5 MB. Split the library into smaller files."))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file; all mean the same to the user
        raise ValidationError(
            {"file": [_("The file could not be read as an XLSX workbook. Open it in Excel and save it again.")]}
        ) from error


def _header_keys(header: tuple) -> dict[int, str]:
    """{column index: key} of the header cells that name a known column; refused if one is named twice."""
    labels = {}
    for language in LANGUAGES:
        with translation.override(language):
            labels.update({_norm(column.label): column.key for column in COLUMNS})
    labels.update({_norm(alias): key for alias, key in HEADER_ALIASES.items()})
    labels.update({key: key for key in KEYS})
    found: dict[int, str] = {}
    for index, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        text = str(cell).strip()
        match = KEY_IN_HEADER.search(text)
        key = match.group(1) if match and match.group(1) in KEYS else labels.get(_norm(text))
        if key is None:
            continue  # a column of the firm's own (notes, a supplier) is left alone
        if key in found.values():
            _refuse(_("The column %(column)s appears twice in the header row.") % {"column": text})
        found[index] = key
    return found


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value):
    """A price cell as the services read it: a Decimal, or the text as typed (refused there, with its row)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # A value Excel computed (=10*1.1) carries binary noise beyond the cent; a typed 12.345 keeps its digits.
        return Decimal(repr(round(value, 9)))
    text = re.sub(r"[\s,，¥￥元]", "", str(value))
    return text or None


def read_price_item_rows(upload, *, with_costs: bool) -> list[ImportRow]:
    """The rows of an uploaded library file (the first sheet; the first row its header), or a refusal naming
    what is wrong with the file as a whole. Problems of single cells go on their row for the import to report
    with the rest."""
    workbook = _open(upload)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        keys = _header_keys(header or ())
        if "code" not in keys.values():
            _refuse(
                _("The first row must name the columns, with a %(column)s column at least.")
                % {"column": header_text(COLUMNS[0])}
            )
        if COST_COLUMN in keys.values() and not with_costs:
            _refuse(_("The file has a cost price column, which only staff who may see cost prices can import."))
        trades = {**_in_every_language(TradeCategory.choices), **{_norm(k): v for k, v in TRADE_ALIASES.items()}}
        kinds = {**_in_every_language(PriceItem.Kind.choices), **{_norm(k): v for k, v in KIND_ALIASES.items()}}
        yes, no = set(YES), set(NO)
        for language in LANGUAGES:
            with translation.override(language):
                yes.add(_norm(_("Yes")))
                no.add(_norm(_("No")))
        found = []
        for number, values in enumerate(rows, start=2):
            cells = {key: values[index] if index < len(values) else None for index, key in keys.items()}
            if all(_text(value) == "" for value in cells.values()):
                continue
            if len(found) >= MAX_ROWS:
                _refuse(_("The file has more than 5,000 rows. Split it into smaller files."))
            found.append(_row(number, cells, trades=trades, kinds=kinds, yes=yes, no=no))
    finally:
        workbook.close()
    if not found:
        _refuse(_("The file has no items below its header row."))
    return found


def _row(number: int, cells: dict, *, trades: dict, kinds: dict, yes: set, no: set) -> ImportRow:
    row = ImportRow(number=number, fields={})

    def bad(key, message):
        row.errors.append(message)
        row.bad.add(key)

    for key, value in cells.items():
        text = _text(value)
        if key in ("unit_price", "cost_price"):
            amount = _number(value)
            if amount is None:
                # An empty cost is nothing paid; an empty price is refused as missing, on its row.
                row.fields[key] = Decimal("0.00") if key == "cost_price" else ""
            else:
                row.fields[key] = amount
        elif key == "trade":
            if text and _norm(text) not in trades:
                bad(key, _("the trade category “%(value)s” is not one we know.") % {"value": text})
            else:
                row.fields[key] = trades.get(_norm(text), "")
        elif key == "kind":
            if text and _norm(text) not in kinds:
                bad(key, _("the kind “%(value)s” is not one we know.") % {"value": text})
            elif text:
                row.fields[key] = kinds[_norm(text)]
        elif key == "active":
            if _norm(text) in yes:
                row.is_active = True
            elif _norm(text) in no:
                row.is_active = False
            elif text:
                bad(key, _("“%(value)s” in the active column is neither yes nor no.") % {"value": text})
        else:
            row.fields[key] = text
    return row
