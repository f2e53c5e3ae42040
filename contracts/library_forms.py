"""Forms of the item library and package pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .library_xlsx import MAX_BYTES
from .models import PackageType, PriceItem, PricePackageLine, TradeCategory

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}
ACTIVE, RETIRED, ALL = "active", "retired", "all"
# Rooms a package line is often for; the field takes any other.
ROOMS = ("全屋", "客厅", "餐厅", "主卧", "次卧", "书房", "厨房", "卫生间", "阳台", "玄关")


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
    """One line of a package: a library item, for a room, a fixed quantity or one per m² of floor area."""

    price_item = forms.TypedChoiceField(label=_("Library item"), coerce=int, empty_value=None)
    room = forms.CharField(
        label=_("Room / area"), max_length=50, required=False, widget=forms.TextInput(attrs={"list": "library-rooms"})
    )
    basis = forms.ChoiceField(label=_("Quantity basis"), choices=PricePackageLine.Basis.choices)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0"))

    def __init__(self, *args, item_choices=(), items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items or {}
        self.fields["price_item"].choices = [("", "—"), *item_choices]
        self.fields["basis"].initial = PricePackageLine.Basis.FIXED

    def clean_price_item(self):
        pk = self.cleaned_data["price_item"]
        if pk not in self.items:
            raise forms.ValidationError(_("Choose an item from the library."))
        return self.items[pk]


class PackageLineFormSet(forms.BaseFormSet):
    """The package's lines as an editable table: rows ticked for deletion and blank extra rows are skipped; the
    rest come in the order of their position column."""

    def lines(self) -> list[dict]:
        return [
            {key: form.cleaned_data[key] for key in ("price_item", "room", "basis", "quantity")}
            for form in self.ordered_forms
            if form.cleaned_data
        ]


PackageLineFormSetClass = forms.formset_factory(
    PackageLineForm, formset=PackageLineFormSet, extra=3, can_delete=True, can_order=True
)


def package_item_choices(items) -> tuple[list, dict]:
    """(choices grouped by trade, {id: item}) for the line picker, from items in trade order."""
    groups: dict[str, list] = {}
    labels = dict(TradeCategory.choices)
    by_id = {}
    for item in items:
        by_id[item.pk] = item
        retired = "" if item.is_active else f" ({_('retired')})"
        text = f"{item.code} {item.name} · {item.unit} · ¥{item.unit_price}{retired}"
        groups.setdefault(str(labels.get(item.trade, item.trade)), []).append((item.pk, text))
    return list(groups.items()), by_id
