"""Forms of the item library and package pages."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .library_xlsx import MAX_BYTES
from .models import PackageType, PriceItem, PricePackageLine, TradeCategory

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}
ACTIVE, RETIRED, ALL = "active", "retired", "all"
# Offered for a quotation line's or a package line's room or area; any other name may be typed.
ROOMS = [
    pgettext_lazy("room", "Whole home"),
    pgettext_lazy("room", "Living room"),
    pgettext_lazy("room", "Dining room"),
    pgettext_lazy("room", "Master bedroom"),
    pgettext_lazy("room", "Second bedroom"),
    pgettext_lazy("room", "Children's room"),
    pgettext_lazy("room", "Study"),
    pgettext_lazy("room", "Kitchen"),
    pgettext_lazy("room", "Master bathroom"),
    pgettext_lazy("room", "Guest bathroom"),
    pgettext_lazy("room", "Balcony"),
    pgettext_lazy("room", "Entrance"),
]


class PriceItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False)
    trade = forms.ChoiceField(
        label=_("Trade category"), required=False, choices=[("", _("All")), *TradeCategory.choices]
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *PriceItem.Kind.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(ACTIVE, _("Active")), (RETIRED, _("Retired")), (ALL, _("All"))],
    )

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or ACTIVE
        return {
            "q": data.get("q", ""),
            "trade": data.get("trade", ""),
            "kind": data.get("kind", ""),
            "active": None if status == ALL else status == ACTIVE,
        }


class PriceItemForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("Unique in the firm, e.g. SD-012."))
    name = forms.CharField(label=_("Item"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PriceItem.Kind.choices)
    trade = forms.ChoiceField(label=_("Trade category"), choices=TradeCategory.choices)
    unit = forms.CharField(label=_("Unit"), max_length=20, help_text=_("m², m, 项, 个, 套, 樘, 点位 …"))
    unit_price = forms.DecimalField(label=_("Unit price"), **MONEY)
    cost_price = forms.DecimalField(
        label=_("Cost price"),
        required=False,
        **MONEY,
        help_text=_("What the item costs the firm; staff without cost access never see it."),
    )
    brand_model = forms.CharField(
        label=_("Brand / model"),
        max_length=200,
        required=False,
        help_text=_("For main materials: what the customer gets."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Workmanship, materials included."),
    )

    def __init__(self, *args, with_costs: bool, item: PriceItem | None = None, **kwargs):
        if item is not None:
            kwargs.setdefault(
                "initial", {name: getattr(item, name) for name in self.base_fields if hasattr(item, name)}
            )
        super().__init__(*args, **kwargs)
        if not with_costs:
            del self.fields["cost_price"]

    def clean_cost_price(self):
        return self.cleaned_data["cost_price"] or Decimal("0.00")


class PriceItemImportForm(forms.Form):
    file = forms.FileField(
        label=_("XLSX file"),
        help_text=_(
            "The first sheet, its first row naming the columns, as the export writes it. At most 5 MB and 5,000 rows."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB. Split the library into smaller files."))
        return upload


class PricePackageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. 全包 per-m² package 2026."))
    package_type = forms.ChoiceField(label=_("Package type"), choices=PackageType.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PackageLineForm(forms.Form):
    """One line of a package: a library item, for a room, a fixed quantity or one per m² of floor area. The
    item is picked with the item library's type-ahead (as on a quotation line): ``price_item`` is its id,
    ``item`` the name shown."""

    price_item = forms.IntegerField(required=False, widget=forms.HiddenInput(attrs={"data-line": "price_item"}))
    item = forms.CharField(
        label=_("Library item"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "data-line": "name",
                "data-suggest": "1",
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-expanded": "false",
            }
        ),
    )
    room = forms.CharField(
        label=_("Room / area"), max_length=50, required=False, widget=forms.TextInput(attrs={"list": "library-rooms"})
    )
    basis = forms.ChoiceField(label=_("Quantity basis"), choices=PricePackageLine.Basis.choices)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0"))

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items or {}
        self.fields["basis"].initial = PricePackageLine.Basis.FIXED
        self.fields["quantity"].widget.attrs["data-line"] = "quantity"  # where picking an item moves to
        for field in self.fields.values():
            if field.label:  # a table cell has no label of its own
                field.widget.attrs["aria-label"] = field.label

    @property
    def picked(self) -> PriceItem | None:
        """The library item the row names now (shown beside the name: its code, and whether it is retired)."""
        pk = str(self["price_item"].value() or "")
        return self.items.get(int(pk)) if pk.isdigit() else None

    def clean(self):
        data = super().clean()
        item = self.items.get(data.get("price_item"))
        if item is None:
            self.add_error("item", _("Choose an item from the library."))
        data["price_item"] = item
        return data


class PackageLineFormSet(forms.BaseFormSet):
    """The package's lines as an editable table: rows ticked for deletion and blank extra rows are skipped; the
    rest come in the order of their position column. ``known`` are the items the package has (a retired one
    may stay); the items the rows name are read in one query when posted. Whether a retired item may be
    added is the service's to say."""

    def __init__(self, *args, known=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {item.pk: item for item in known}
        if self.is_bound:
            field = re.compile(rf"{re.escape(self.prefix)}-\d+-price_item")
            posted = {int(v) for k, v in self.data.items() if field.fullmatch(k) and str(v).isdigit()}
            # This firm's only: another firm's id is not found.
            self.items.update(PriceItem.objects.in_bulk(posted - set(self.items)))

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "items": self.items}

    def lines(self) -> list[dict]:
        return [
            {key: form.cleaned_data[key] for key in ("price_item", "room", "basis", "quantity")}
            for form in self.ordered_forms
            if form.cleaned_data
        ]


PackageLineFormSetClass = forms.formset_factory(
    PackageLineForm, formset=PackageLineFormSet, extra=3, can_delete=True, can_order=True
)


def package_line_initial(line: PricePackageLine, position: int) -> dict:
    return {
        "price_item": line.price_item_id,
        "item": line.price_item.name,
        "room": line.room,
        "basis": line.basis,
        "quantity": line.quantity,
        "ORDER": position,
    }
