"""The Reports area: the index, each report's page with the period picker, and its CSV and XLSX downloads.
The page and the downloads are built from the same tables (``reports/``)."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from renocrm.accounts.access import permission_required
from renocrm.periods import period_from_request
from renocrm.tenancy.time import firm_today

from . import exports
from .reports.catalogue import BY_KEY, REPORTS, period_slug
from .reports.tables import Viewer

PERMISSION = "reports.view"
STACK_FROM_COLUMNS = 4


@dataclass(frozen=True)
class ShownCell:
    text: str = ""
    contact: exports.ContactCell | None = None
    numeric: bool = False
    label: str = ""  # the column's, for a table stacked on a phone


def _shown(value, column: exports.Column) -> ShownCell:
    if isinstance(value, exports.ContactCell):
        return ShownCell(contact=value)
    if value is None or value == "":
        return ShownCell(text="—", numeric=column.kind != exports.TEXT)
    if isinstance(value, date):
        return ShownCell(text=formats.date_format(value, "SHORT_DATE_FORMAT"))
    if column.kind == exports.MONEY and isinstance(value, int | float | Decimal):
        return ShownCell(text=formats.number_format(value, 2, use_l10n=True, force_grouping=True), numeric=True)
    return ShownCell(text=str(value), numeric=isinstance(value, int | float | Decimal))


def _page_table(table: exports.Table) -> dict:
    def cells(row):
        return [
            replace(_shown(value, column), label=column.label) for value, column in zip(row, table.columns, strict=True)
        ]

    return {
        "table": table,
        "rows": [cells(row) for row in table.rows],
        "total": cells(table.total) if table.total and table.rows else None,
        # Wide tables become one card per row on a phone.
        "stack": len(table.columns) > STACK_FROM_COLUMNS,
    }


def _report_or_404(key: str):
    report = BY_KEY.get(key)
    if report is None:
        raise Http404
    return report


@permission_required(PERMISSION)
def reports(request):
    return render(request, "dashboard/reports/index.html", {"reports": REPORTS})


@permission_required(PERMISSION)
def report(request, key: str):
    definition = _report_or_404(key)
    period, form = period_from_request(request, today=firm_today(), default=definition.default_period)
    tables = definition.build(period, Viewer(request))
    query = urlencode(period.as_query())
    downloads = [
        (label, f"{reverse('dashboard:report-download', args=[key, fmt])}?{query}")
        for fmt, label in (("csv", "CSV"), ("xlsx", "Excel (XLSX)"))
    ]
    context = {
        "report": definition,
        "reports": REPORTS,
        "period": period,
        "form": form,
        "tables": [_page_table(table) for table in tables],
        "downloads": downloads,
    }
    return render(request, "dashboard/reports/report.html", context)


@permission_required(PERMISSION)
def report_download(request, key: str, fmt: str):
    definition = _report_or_404(key)
    if fmt not in exports.WRITERS:
        raise Http404
    period, form = period_from_request(request, today=firm_today(), default=definition.default_period)
    if form.is_bound and not form.is_valid():
        return exports.refused(form, _("Choose a valid period: %(errors)s"))
    tables = definition.build(period, Viewer(request))
    slug = period_slug(period)
    return exports.download(
        tables, fmt=fmt, name=f"{definition.title}_{slug}", ascii_name=f"{definition.ascii_name}_{slug}"
    )
