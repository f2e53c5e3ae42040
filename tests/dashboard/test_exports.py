"""The CSV and XLSX downloads: the writer on its own (BOM, blank line between tables, formula-looking text
kept as text, numbers as numbers, dates as dates, the file name for every client), and the downloads of
the callback report (headers in the user's language, contact details by role, totals)."""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from renocrm.accounts.models import User
from renocrm.accounts.roles import Role
from renocrm.dashboard import exports
from renocrm.dashboard.exports import DATE, INTEGER, MONEY, PERCENT, Column, ContactCell, Table
from tests.dashboard import report_fixtures
from tests.dashboard.report_fixtures import (
    FEB_QUERY,
    FORMULA,
    OVERDUE_MOBILE,
    TODAY,
    UNREACHABLE_MOBILE,
    client_for,
)

february = report_fixtures.february  # the fixture

SAMPLE = [
    Table(
        "Money",
        [Column("Who"), Column("When", DATE), Column("Amount", MONEY), Column("Share", PERCENT)],
        [["Wang", date(2026, 2, 3), Decimal("1234.50"), 66.7], ["-1+2", None, Decimal("-3.00"), None]],
        total=["Total", None, Decimal("1231.50"), 100.0],
    ),
    Table("@Commands", [Column("Text"), Column("Times", INTEGER)], [["+cmd", 2], [FORMULA, 1]]),
]


@pytest.fixture
def still_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def parse_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def open_xlsx(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


# The writer ---------------------------------------------------------------------------------------------------


def test_csv_has_a_bom_titles_and_a_blank_line_between_tables():
    assert parse_csv(exports.to_csv(SAMPLE)) == [
        ["Money"],
        ["Who", "When", "Amount", "Share"],
        ["Wang", "2026-02-03", "1234.50", "66.7"],
        ["'-1+2", "", "-3.00", ""],
        ["Total", "", "1231.50", "100.0"],
        [],
        ["'@Commands"],
        ["Text", "Times"],
        ["'+cmd", "2"],
        [f"'{FORMULA}", "1"],
    ]


def test_xlsx_has_a_sheet_per_table_with_values_of_their_own_types():
    book = open_xlsx(exports.to_xlsx(SAMPLE))
    assert book.sheetnames == ["Money", "@Commands"]
    money = [[cell.value for cell in row] for row in book["Money"].iter_rows()]
    assert money[0] == ["Who", "When", "Amount", "Share"]
    assert money[1][0] == "Wang" and money[1][1].date() == date(2026, 2, 3)
    assert money[1][2:] == [1234.5, 66.7]
    assert money[2] == ["-1+2", None, -3, None]
    assert money[3] == ["Total", None, 1231.5, 100]
    assert book["Money"]["B2"].is_date and book["Money"]["C2"].data_type == "n"
    assert book["Money"]["A4"].font.b  # the totals row stands out


def test_xlsx_keeps_formula_looking_text_as_text():
    content = exports.to_xlsx(SAMPLE)
    sheet = open_xlsx(content)["@Commands"]
    assert [sheet["A2"].value, sheet["A3"].value] == ["+cmd", FORMULA]
    assert sheet["A3"].data_type == "s" and sheet["A3"].quotePrefix
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_sheet_names_are_made_valid_and_unique():
    tables = [Table("A/B: [x]?", [Column("c")]), Table("A/B: [x]?", [Column("c")]), Table("x" * 40, [Column("c")])]
    assert open_xlsx(exports.to_xlsx(tables)).sheetnames == ["A B   x", "A B   x (2)", "x" * 31]


def test_the_file_name_has_an_ascii_fallback_and_the_real_name_in_utf8():
    header = exports.content_disposition("回访报表_2026-11.xlsx", "callback-report_2026-11.xlsx")
    assert header == (
        'attachment; filename="callback-report_2026-11.xlsx"; '
        "filename*=UTF-8''%E5%9B%9E%E8%AE%BF%E6%8A%A5%E8%A1%A8_2026-11.xlsx"
    )
    assert exports.content_disposition("report.csv", "report.csv") == 'attachment; filename="report.csv"'


def test_a_contact_cell_writes_the_text_the_viewer_may_see():
    table = Table("T", [Column("Mobile")], [[ContactCell(record=None, field="mobile", text="138****1234")]])
    assert parse_csv(exports.to_csv([table]))[2] == ["138****1234"]
    assert open_xlsx(exports.to_xlsx([table]))["T"]["A2"].value == "138****1234"


# The callback report's downloads --------------------------------------------------------------------------------


def download(client, fmt, language="en", key="callbacks"):
    # A download speaks the reader's own language (their profile's choice), not the browser's.
    User.objects.filter(pk=client.session["_auth_user_id"]).update(language=language)
    response = client.get(reverse("dashboard:report-download", args=[key, fmt]), FEB_QUERY)
    assert response.status_code == 200
    return response


def attention_rows(content_rows, customer_header):
    """The rows of the overdue and unreachable table in a parsed CSV."""
    start = next(i for i, row in enumerate(content_rows) if customer_header in row)
    return content_rows[start : start + 3]


@pytest.mark.usefixtures("still_clock")
def test_customer_service_downloads_full_mobiles_in_english(client, firm_a, february):
    client_for(client, firm_a, Role.CUSTOMER_SERVICE)
    response = download(client, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="callback-report_2026-02-01_2026-02-28.csv"; ' + (
        "filename*=UTF-8''Callback%20report_2026-02-01_2026-02-28.csv"
    )
    rows = parse_csv(response.content)
    assert rows[:2] == [["Summary"], ["Figure", "Value"]]
    header, *lines = attention_rows(rows, "Customer")
    assert header == ["Status", "Due on", "Callback", "Customer", "Mobile", "Agent", "Attempts"]
    assert [line[3:5] for line in lines] == [["Zhao Lei", UNREACHABLE_MOBILE], ["Sun Li", OVERDUE_MOBILE]]
    assert ["Call me on 13700001111", "1", "2026-02-12"] in rows
    assert [f"'{FORMULA}", "1", "2026-02-12"] in rows


@pytest.mark.usefixtures("still_clock")
def test_finance_downloads_masked_mobiles(client, firm_a, february):
    client_for(client, firm_a, Role.FINANCE)
    rows = parse_csv(download(client, "csv").content)
    header, *lines = attention_rows(rows, "Customer")
    assert [line[4] for line in lines] == ["138****1234", "139****6666"]
    assert ["Call me on 137****1111", "1", "2026-02-12"] in rows
    book = open_xlsx(download(client, "xlsx").content)
    sheet = book.worksheets[5]
    assert [sheet["E2"].value, sheet["E3"].value] == ["138****1234", "139****6666"]
    flat = " ".join(str(cell.value) for ws in book.worksheets for row in ws.iter_rows() for cell in row)
    assert UNREACHABLE_MOBILE not in flat and "13700001111" not in flat


@pytest.mark.usefixtures("still_clock")
def test_headers_follow_the_users_language(client, firm_a, february):
    client_for(client, firm_a, Role.ADMIN)
    rows = parse_csv(download(client, "csv", language="zh-hans").content)
    header, *lines = attention_rows(rows, "客户")
    assert header[:5] == ["状态", "到期日", "回访", "客户", "手机号"]
    assert [line[0] for line in lines] == ["无法联系", "已逾期"]
    book = open_xlsx(download(client, "xlsx", language="zh-hans").content)
    assert [cell.value for cell in book.worksheets[5][1]][3:5] == ["客户", "手机号"]
    assert book.worksheets[1]["A7"].value == "合计"  # the totals row
    english = open_xlsx(download(client, "xlsx").content)
    assert [cell.value for cell in english.worksheets[5][1]][3:5] == ["Customer", "Mobile"]


@pytest.mark.usefixtures("still_clock")
def test_the_file_name_is_in_the_users_language(client, firm_a, february):
    client_for(client, firm_a, Role.ADMIN)
    response = download(client, "xlsx", language="zh-hans")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="callback-report_2026-02-01_2026-02-28.xlsx"; filename*=')
    from django.utils import translation

    with translation.override("zh-hans"):
        title = str(translation.gettext("Callback report"))
    assert unquote(disposition.split("UTF-8''")[1]) == f"{title}_2026-02-01_2026-02-28.xlsx"


@pytest.mark.usefixtures("still_clock")
def test_xlsx_figures_and_totals_of_the_callback_report(client, firm_a, february):
    client_for(client, firm_a, Role.ADMIN)
    book = open_xlsx(download(client, "xlsx").content)
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows(min_row=2)}
    assert summary["Planned callbacks"] == 9 and summary["Completion rate (%)"] == 66.7
    satisfaction = [[cell.value for cell in row] for row in book.worksheets[1].iter_rows(min_row=2)]
    assert satisfaction[-1] == ["Total", 5, 100]
    defects = [[cell.value for cell in row] for row in book.worksheets[3].iter_rows(min_row=2)]
    assert defects[-1] == ["Total", 1, 1, 0, 1, 0, 3]
    attention = book.worksheets[5]
    assert attention["B2"].is_date and attention["B2"].value.date() == date(2026, 2, 5)
    assert attention["G2"].value == 3 and attention["G2"].data_type == "n"
    assert book.worksheets[4]["A4"].value == FORMULA and book.worksheets[4]["A4"].data_type == "s"


@pytest.mark.usefixtures("still_clock")
@pytest.mark.parametrize("key", ["satisfaction", "complaints"])
def test_the_other_reports_download_as_csv_and_xlsx(client, firm_a, february, key):
    client_for(client, firm_a, Role.FINANCE)
    rows = parse_csv(download(client, "csv", key=key).content)
    book = open_xlsx(download(client, "xlsx", key=key).content)
    # The same tables: one sheet for each title row of the CSV.
    titles = [rows[0][0]] + [rows[i + 1][0] for i, row in enumerate(rows) if row == []]
    assert len(book.sheetnames) == len(titles)
