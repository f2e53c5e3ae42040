"""Staff pages of the firm's item library and packages: lists, forms, the XLSX import and export, and the
type-ahead the quotation editor asks for items. Reading needs contracts.view, changing library.manage; cost
prices appear only to those who may see costs (``may_see_costs``)."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import may_see_costs, permission_required
from renocrm.forms import apply_service_errors, page_action, submit
from renocrm.tenancy.time import firm_today

from . import library_selectors as selectors
from .library_forms import (
    ROOMS,
    PackageLineFormSetClass,
    PriceItemFilterForm,
    PriceItemForm,
    PriceItemImportForm,
    PricePackageForm,
    package_line_initial,
)
from .library_xlsx import XLSX_TYPE, price_items_workbook, read_price_item_rows
from .models import PriceItem, PricePackage, PricePackageLine
from .services import library
from .services.amounts import line_amount, money

VIEW, MANAGE = "contracts.view", "library.manage"


def _may_manage(request) -> bool:
    return request.membership.has_perm(MANAGE)


def _attachment(filename: str, ascii_filename: str) -> str:
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Items ------------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def price_item_list(request):
    form = PriceItemFilterForm(request.GET or None)
    after = request.GET.get("after") or None
    items, next_after = selectors.price_item_page(**form.filters(), after=after)
    context = {
        "form": form,
        "items": items,
        "next_after": next_after,
        "with_costs": may_see_costs(request),
        "may_manage": _may_manage(request),
    }
    return render(request, "contracts/library/item_list.html", context)


@permission_required(MANAGE)
def price_item_create(request):
    with_costs = may_see_costs(request)
    form = PriceItemForm(request.POST or None, with_costs=with_costs)
    if item := submit(request, form, lambda data: library.price_item_create(**data)):
        messages.success(request, _("%(item)s is in the library.") % {"item": item})
        return redirect("contracts:price-items")
    return render(
        request, "contracts/library/item_form.html", {"form": form, "title": _("New library item"), "item": None}
    )


@permission_required(VIEW, to_post=MANAGE)
def price_item_detail(request, pk):
    item = get_object_or_404(PriceItem.objects, pk=pk)
    with_costs = may_see_costs(request)
    may_manage = _may_manage(request)
    form = PriceItemForm(request.POST or None, with_costs=with_costs, item=item) if may_manage else None
    if form is not None and submit(request, form, lambda data: library.price_item_update(item=item, **data)):
        messages.success(request, _("%(item)s is saved.") % {"item": item.code})
        return redirect("contracts:price-item", pk=item.pk)
    context = {"form": form, "title": str(item), "item": item, "with_costs": with_costs, "may_manage": may_manage}
    return render(request, "contracts/library/item_form.html", context)


@require_POST
@permission_required(MANAGE)
def price_item_set_active(request, pk, *, active: bool):
    """Retire an item (``active=False``) or reactivate it; the URL says which."""
    item = get_object_or_404(PriceItem.objects, pk=pk)
    if active:
        service, done = library.price_item_reactivate, _("%(item)s is active again.")
    else:
        service, done = library.price_item_retire, _("%(item)s is retired: it is no longer suggested for quotations.")
    return page_action(
        request,
        lambda: service(item=item),
        done=done % {"item": item.code},
        back=reverse("contracts:price-item", args=[item.pk]),
    )


@permission_required(MANAGE)
def price_item_import(request):
    form = PriceItemImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = read_price_item_rows(form.cleaned_data["file"], with_costs=may_see_costs(request))
            result = library.price_items_import(rows=rows)
        except ValidationError as error:
            errors = error.message_dict.get("file", error.messages) if hasattr(error, "error_dict") else error.messages
            context = {"errors": errors, "file_name": form.cleaned_data["file"].name}
            return render(request, "contracts/library/import_result.html", context, status=400)
        context = {"result": result, "file_name": form.cleaned_data["file"].name}
        return render(request, "contracts/library/import_result.html", context)
    return render(request, "contracts/library/import.html", {"form": form}, status=400 if form.errors else 200)


@permission_required(VIEW)
def price_item_export(request):
    items = selectors.price_item_list()
    content = price_items_workbook(items, with_costs=may_see_costs(request))
    response = HttpResponse(content, content_type=XLSX_TYPE)
    day = firm_today().isoformat()
    response["Content-Disposition"] = _attachment(f"{_('Item library')}-{day}.xlsx", f"price-items-{day}.xlsx")
    response["Cache-Control"] = "private, no-store"  # may carry cost prices
    return response


def suggestion(item: PriceItem, *, with_costs: bool) -> dict:
    """One item as the type-ahead answers it; ``cost_price`` is null for those who may not see costs."""
    return {
        "id": item.pk,
        "code": item.code,
        "name": item.name,
        "kind": item.kind,
        "unit": item.unit,
        "unit_price": str(item.unit_price),
        "cost_price": str(item.cost_price) if with_costs else None,
        "trade": item.trade,
        "trade_label": str(item.get_trade_display()),
        "brand_model": item.brand_model,
    }


@permission_required(VIEW)
def price_item_suggest(request):
    """``?q=`` (and ``limit``, up to 50): active items whose code starts with it or whose name contains it,
    code matches first, as JSON ``{"results": [...]}``."""
    limit = request.GET.get("limit", "")
    items = selectors.price_item_suggestions(request.GET.get("q", ""), int(limit) if limit.isdigit() else 20)
    with_costs = may_see_costs(request)
    return JsonResponse({"results": [suggestion(item, with_costs=with_costs) for item in items]})


# Packages ---------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def package_list(request):
    show = request.GET.get("show", "active")
    active = {"active": True, "retired": False}.get(show)
    context = {
        "packages": list(selectors.price_package_list(active=active)),
        "show": show,
        "may_manage": _may_manage(request),
    }
    return render(request, "contracts/library/package_list.html", context)


def _lines_formset(request, package: PricePackage | None):
    """The lines table, each line's item picked with the library's type-ahead; the package's own items (a
    retired one may stay) are known without asking."""
    lines = list(package.lines.all()) if package is not None else []
    initial = [package_line_initial(line, number) for number, line in enumerate(lines, start=1)]
    data = request.POST if request.method == "POST" else None
    return PackageLineFormSetClass(data, initial=initial, prefix="lines", known=[line.price_item for line in lines])


def _save_package(request, form, formset, save) -> PricePackage | None:
    """The package form and its lines, saved by one service call; the refusal shown where it belongs."""
    if request.method != "POST":
        return None
    valid = form.is_valid()
    valid = formset.is_valid() and valid
    if not valid:
        return None
    try:
        return save({**form.cleaned_data, "lines": formset.lines()})
    except ValidationError as error:
        if hasattr(error, "error_dict") and "lines" in error.error_dict:
            apply_service_errors(formset, ValidationError(error.error_dict.pop("lines")))
        if not hasattr(error, "error_dict") or error.error_dict:
            apply_service_errors(form, error)
        return None


def _package_page(request, *, form, formset, package, status=200):
    context = {
        "form": form,
        "formset": formset,
        "package": package,
        "rooms": ROOMS,
        "suggest_url": reverse("contracts:price-items-suggest"),
        "may_manage": _may_manage(request),
        "title": package.name if package is not None else _("New package"),
    }
    if package is not None:
        context.update(_package_figures(request, package))
    return render(request, "contracts/library/package_form.html", context, status=status)


def _package_figures(request, package: PricePackage) -> dict:
    """The package's price per m² and its fixed part, and, for ``?area=``, the lines it gives that area."""
    lines = list(package.lines.all())
    per_m2 = money(
        sum(
            (
                line.quantity * line.price_item.unit_price
                for line in lines
                if line.basis == PricePackageLine.Basis.PER_AREA
            ),
            0,
        )
    )
    fixed = money(
        sum(
            (
                line.quantity * line.price_item.unit_price
                for line in lines
                if line.basis == PricePackageLine.Basis.FIXED
            ),
            0,
        )
    )
    figures = {"lines": lines, "per_m2": per_m2, "fixed": fixed, "area": request.GET.get("area", "")}
    if figures["area"]:
        try:
            preview = library.package_lines_for(package, figures["area"])
        except ValidationError as error:
            figures["area_error"] = " ".join(error.messages)
        else:
            for row in preview:
                row["amount"] = line_amount(row["quantity"], row["unit_price"])
            figures["preview"] = preview
            figures["preview_total"] = money(sum((row["amount"] for row in preview), 0))
    return figures


@permission_required(MANAGE)
def package_create(request):
    form = PricePackageForm(request.POST or None)
    formset = _lines_formset(request, None)
    if package := _save_package(request, form, formset, lambda data: library.price_package_create(**data)):
        messages.success(request, _("The package %(name)s is saved.") % {"name": package.name})
        return redirect("contracts:package", pk=package.pk)
    return _package_page(request, form=form, formset=formset, package=None)


@permission_required(VIEW, to_post=MANAGE)
def package_detail(request, pk):
    package = get_object_or_404(selectors.price_package_with_lines(), pk=pk)
    if not _may_manage(request):  # reads the lines: no form to build
        return _package_page(request, form=None, formset=None, package=package)
    form = PricePackageForm(
        request.POST or None,
        initial={"name": package.name, "package_type": package.package_type, "description": package.description},
    )
    formset = _lines_formset(request, package)
    saved = _save_package(request, form, formset, lambda data: library.price_package_update(package=package, **data))
    if saved:
        messages.success(request, _("The package %(name)s is saved.") % {"name": saved.name})
        return redirect("contracts:package", pk=package.pk)
    return _package_page(request, form=form, formset=formset, package=package)


@require_POST
@permission_required(MANAGE)
def package_set_active(request, pk, *, active: bool):
    """Retire a package (``active=False``) or reactivate it; the URL says which."""
    package = get_object_or_404(PricePackage.objects, pk=pk)
    if active:
        service, done = library.price_package_reactivate, _("The package %(name)s is active again.")
    else:
        service, done = library.price_package_retire, _("The package %(name)s is retired.")
    return page_action(
        request,
        lambda: service(package=package),
        done=done % {"name": package.name},
        back=reverse("contracts:package", args=[package.pk]),
    )
