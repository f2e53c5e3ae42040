"""Finance's pages: the receivables with their aging, the payment register and their CSV and XLSX downloads
(the payment reminder is set on the contract settings page). The pages and their downloads read the same
selection (``receivables.py``)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts import receivables as ledger
from renocrm.accounts.access import permission_required
from renocrm.privacy.masking import may_see_contacts
from renocrm.tenancy.time import firm_today

from . import exports
from .receivable_forms import PaymentFilterForm, ReceivableFilterForm
from .receivables import (
    DESIGNER,
    GROUPINGS,
    PM,
    PROJECT,
    PaymentsPage,
    ReceivablesPage,
    payments_page,
    payments_tables,
    receivables_page,
    receivables_tables,
)
from .selectors.cards import url

PERMISSION = "receivables.view"
GROUP_TITLES = {
    PROJECT: gettext_lazy("Totals by project"),
    DESIGNER: gettext_lazy("Totals by designer"),
    PM: gettext_lazy("Totals by project manager"),
}
DOWNLOADS = (("csv", "CSV"), ("xlsx", "Excel (XLSX)"))


def _query(request, **changes) -> dict:
    """The page's query string with ``changes`` (None or "" drops a parameter), without its page position."""
    query = {key: value for key, value in request.GET.items() if key != "after"}
    query.update(changes)
    return query


def _downloads(request, name: str) -> list[tuple[str, str]]:
    query = _query(request, by=None)
    return [(label, url(name, fmt, **query)) for fmt, label in DOWNLOADS]


def _download(request, fmt: str, form_class, tables, *, name: str, ascii_name: str):
    """The selection of ``form_class``'s filters as CSV or XLSX: ``tables(form, today)`` builds it, and the
    file is named after ``name`` and the firm-local day."""
    if fmt not in exports.WRITERS:
        raise Http404
    form = form_class(request.GET)
    if not form.is_valid():
        return exports.refused(form, _("Correct the filters: %(errors)s"))
    today = firm_today()
    slug = today.isoformat()
    return exports.download(tables(form, today), fmt=fmt, name=f"{name}_{slug}", ascii_name=f"{ascii_name}_{slug}")


@permission_required(PERMISSION)
def receivables(request):
    """The instalments still to be received: totals by aging bucket, the selection's rows oldest debt first,
    and totals by project, designer or project manager. Filters that do not validate show no rows."""
    today = firm_today()
    form = ReceivableFilterForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        page = receivables_page(
            filters=form.filters(full_contacts=may_see_contacts(request)),
            today=today,
            by=data["by"],
            after=request.GET.get("after", ""),
        )
    else:
        data = {"bucket": "", "by": "", "project": None}
        page = ReceivablesPage(today=today, totals={}, selection={"count": 0, "amount": ledger.ZERO}, rows=[])
    by = data["by"]
    group_filter = {PROJECT: "project", DESIGNER: "designer", PM: "pm"}.get(by, "")

    def link(**changes) -> str:
        return url("dashboard:receivables", **_query(request, **changes))

    strip = [
        {
            "bucket": bucket,
            "label": ledger.BUCKET_LABELS[bucket],
            "count": page.totals[bucket]["count"],
            "amount": page.totals[bucket]["amount"],
            "href": link(bucket=bucket),
            "current": bucket == data["bucket"],
        }
        for bucket in (ledger.BUCKETS if page.totals else ())
    ]
    groups = [
        {
            "group": group,
            "href": link(**{group_filter: group.key}) if group.key is not None else "",
            "cells": [
                {
                    **part,
                    "label": ledger.BUCKET_LABELS[part["bucket"]],
                    "href": link(bucket=part["bucket"], **{group_filter: group.key})
                    if group.key is not None and part["count"]
                    else "",
                }
                for part in group.parts
            ],
            "total": group.totals["all"],
        }
        for group in page.groups
    ]
    # The groups' sums per bucket: the totals row of the table, equal to the selection's.
    footer = {part: {"count": 0, "amount": ledger.ZERO} for part in (*ledger.PARTS, "all")}
    for group in page.groups:
        for part, measures in footer.items():
            measures["count"] += group.totals[part]["count"]
            measures["amount"] += group.totals[part]["amount"]
    context = {
        "form": form,
        "page": page,
        "strip": strip,
        "bucket": data["bucket"],
        "project": data["project"],
        "by": by,
        "by_label": dict(GROUPINGS).get(by, ""),
        "groups_title": GROUP_TITLES.get(by, ""),
        # The table's headings: the aging buckets under one band, then those not overdue.
        "aging": [label for _key, label in ledger.AGING_SHORT],
        "coming": [ledger.BUCKET_LABELS[part] for part in (ledger.DUE, ledger.LATER, ledger.SCHEDULED)],
        "groups": groups,
        "footer": [footer[part] | {"label": ledger.BUCKET_LABELS[part]} for part in ledger.PARTS],
        "footer_total": footer["all"],
        "next_url": link(after=page.next) if page.next else "",
        "clear_project_url": link(project=None),
        "downloads": _downloads(request, "dashboard:receivables-download"),
    }
    return render(request, "dashboard/receivables.html", context)


@permission_required(PERMISSION)
def receivables_download(request, fmt: str):
    return _download(
        request,
        fmt,
        ReceivableFilterForm,
        lambda form, today: receivables_tables(
            filters=form.filters(full_contacts=may_see_contacts(request)), today=today
        ),
        name=_("Receivables"),
        ascii_name="receivables",
    )


@permission_required(PERMISSION)
def payments(request):
    """The payment register: instalments received, the latest first, with the selection's totals."""
    form = PaymentFilterForm(request.GET)
    if form.is_valid():
        page = payments_page(filters=form.filters(), after=request.GET.get("after", ""))
    else:
        page = PaymentsPage(totals={"count": 0, "amount": ledger.ZERO, "received": ledger.ZERO}, rows=[])
    context = {
        "form": form,
        "page": page,
        "next_url": url("dashboard:payments", **_query(request, after=page.next)) if page.next else "",
        "downloads": _downloads(request, "dashboard:payments-download"),
    }
    return render(request, "dashboard/payments.html", context)


@permission_required(PERMISSION)
def payments_download(request, fmt: str):
    return _download(
        request,
        fmt,
        PaymentFilterForm,
        lambda form, today: payments_tables(filters=form.filters()),
        name=_("Payment register"),
        ascii_name="payments",
    )
