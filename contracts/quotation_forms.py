"""The quotation editor's forms: a draft's lines (an editable table whose last, blank row adds a line), its
fees, tax and discount, and the small forms that copy lines from another version or fill from a package."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renocrm.forms import RowFormSet, blank_first

from .models import PricePackage, QuotationVersion, TradeCategory
from .services import pricing

NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
AMOUNT = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}
PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("100")}


def _number(**attrs):
    return forms.TextInput(attrs={**NUMBER, **attrs})


class QuotationLineForm(forms.Form):
    """One line. ``id`` names the saved line it edits, ``price_item`` the library item it was priced from
    (the type-ahead fills both and the rest). Without ``with_costs`` there is no cost price field: the
    service keeps the line's own."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    price_item = forms.IntegerField(required=False, widget=forms.HiddenInput(attrs={"data-line": "price_item"}))
    code = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput(attrs={"data-line": "code"}))
    room = forms.CharField(
        label=_("Room / area"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "quotation-rooms", "autocomplete": "off", "data-line": "room"}),
    )
    name = forms.CharField(
        label=_("Item"),
        max_length=200,
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
    category = forms.ChoiceField(
        label=_("Trade category"),
        choices=blank_first(TradeCategory.choices),
        widget=forms.Select(attrs={"data-line": "category"}),
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, widget=forms.TextInput(attrs={"data-line": "unit"}))
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=_number(**{"data-line": "quantity"}),
    )
    unit_price = forms.DecimalField(label=_("Unit price"), **AMOUNT, widget=_number(**{"data-line": "unit_price"}))
    discount = forms.DecimalField(
        label=_("Discount"), required=False, **AMOUNT, widget=_number(**{"data-line": "discount"})
    )
    brand_model = forms.CharField(
        label=_("Brand / model"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"data-line": "brand_model"}),
    )
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, widget=forms.TextInput(attrs={"data-line": "note"})
    )
    cost_price = forms.DecimalField(
        label=_("Cost price"), required=False, **AMOUNT, widget=_number(**{"data-line": "cost_price"})
    )

    def __init__(self, *args, with_costs: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_costs:
            del self.fields["cost_price"]
        for field in self.fields.values():
            if field.label:  # a table cell has no label of its own
                field.widget.attrs["aria-label"] = field.label

    def has_changed(self):
        # The blank row comes with the last room filled in: a room alone is no line.
        return any(name != "room" for name in self.changed_data)

    def clean(self):
        data = super().clean()
        quantity, unit_price = data.get("quantity"), data.get("unit_price")
        data["discount"] = data.get("discount") or Decimal("0.00")
        if quantity is not None and unit_price is not None and "discount" not in self.errors:
            try:
                data["amount"] = pricing.line_net(quantity=quantity, unit_price=unit_price, discount=data["discount"])
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
        return data


class QuotationLineFormSet(RowFormSet):
    """The lines in their saved order, then one blank row that adds a line (its room the last one used)."""

    def __init__(self, *args, next_room: str = "", **kwargs):
        self.next_room = next_room
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None and index >= self.initial_form_count() and self.next_room:
            kwargs["initial"] = {"room": self.next_room}
        return kwargs

    def rows(self) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "amount"} for row in super().rows()]


LineFormSet = forms.formset_factory(QuotationLineForm, formset=QuotationLineFormSet, extra=1, can_delete=True)


class QuotationFeesForm(forms.Form):
    management_fee_percent = forms.DecimalField(
        label=_("Management fee %"), required=False, **PERCENT, widget=_number()
    )
    design_fee = forms.DecimalField(label=_("Design fee"), required=False, **AMOUNT, widget=_number())
    transport_fee = forms.DecimalField(label=_("Transport / handling"), required=False, **AMOUNT, widget=_number())
    other_fee = forms.DecimalField(label=_("Other fee"), required=False, **AMOUNT, widget=_number())
    other_fee_label = forms.CharField(label=_("Other fee, what for"), max_length=100, required=False)
    tax_percent = forms.DecimalField(label=_("Tax %"), required=False, **PERCENT, widget=_number())
    discount = forms.DecimalField(label=_("Discount on the total"), required=False, **AMOUNT, widget=_number())
    discount_reason = forms.CharField(label=_("Discount reason"), max_length=300, required=False)


class QuotationEditor:
    """A draft's lines and fees, posted together (the editor's one form): ``is_valid``, then ``save`` with a
    service call; a refusal goes on the fee it names, else above the lines."""

    def __init__(self, version: QuotationVersion, *, data=None, with_costs: bool, next_room: str = ""):
        self.version, self.with_costs = version, with_costs
        items = list(version.items.all())
        initial = [self.line_initial(item) for item in items]
        next_room = next_room or (items[-1].room if items else "")
        self.lines = LineFormSet(
            data, initial=initial, prefix="items", form_kwargs={"with_costs": with_costs}, next_room=next_room
        )
        # Only a POST that carries the fees sets them (an older page posts the lines alone).
        fees_posted = data is not None and any(key.startswith("fees-") for key in data)
        self.fees = QuotationFeesForm(
            data if fees_posted else None,
            prefix="fees",
            initial={field: getattr(version, field) for field in pricing.FEE_FIELDS},
        )

    def line_initial(self, item) -> dict:
        fields = ("id", "price_item", "code", "room", "name", "category", "unit", "quantity", "unit_price")
        initial = {field: getattr(item, field) for field in fields if field != "price_item"}
        initial.update(
            price_item=item.price_item_id,
            discount=item.discount,
            brand_model=item.brand_model,
            note=item.note,
            amount=item.amount,
        )
        if self.with_costs:
            initial["cost_price"] = item.cost_price
        return initial

    def groups(self) -> list[dict]:
        """The saved lines' rows by room as saved (rooms in the order they first appear), each room with its
        subtotal; the blank row that adds a line is ``added_forms``."""
        rooms: dict[str, dict] = {}
        for form in self.lines.forms[: self.lines.initial_form_count()]:
            name = form.initial.get("room", "")
            room = rooms.setdefault(name, {"room": name, "forms": [], "subtotal": Decimal("0.00")})
            room["forms"].append(form)
            room["subtotal"] += form.initial.get("amount") or Decimal("0.00")
        return list(rooms.values())

    def added_forms(self):
        return self.lines.forms[self.lines.initial_form_count() :]

    def is_valid(self) -> bool:
        lines_valid = self.lines.is_valid()
        return lines_valid and (not self.fees.is_bound or self.fees.is_valid())

    def added_room(self) -> str | None:
        """The room of the line the blank row added, if it added one."""
        extra = self.lines.forms[self.lines.initial_form_count() :]
        for form in extra:
            if form.has_changed() and getattr(form, "cleaned_data", None):
                return form.cleaned_data.get("room", "")
        return None

    def service_arguments(self) -> dict:
        return {
            "items": self.lines.rows(),
            "fees": dict(self.fees.cleaned_data) if self.fees.is_bound else None,
            "with_costs": self.with_costs,
        }

    def apply_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict") and self.fees.is_bound:
            rest = {}
            for field, messages in error.message_dict.items():
                if field in self.fees.fields:
                    self.fees.add_error(field, messages)
                else:
                    rest[field] = messages
            if not rest:
                return
            error = ValidationError([m for messages in rest.values() for m in messages])
        self.lines._non_form_errors = self.lines.error_class([*self.lines.non_form_errors(), *error.messages])

    @property
    def has_errors(self) -> bool:
        return bool(self.lines.total_error_count() or (self.fees.is_bound and self.fees.errors))


def version_label(version: QuotationVersion) -> str:
    return f"{version.quotation.lead.customer.name} · {version.quotation.title} · v{version.number} · ¥{version.total}"


class CopyLinesForm(forms.Form):
    source = forms.TypedChoiceField(label=_("Copy the lines of"), coerce=int)

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—"), *((v.pk, version_label(v)) for v in versions)]


class PackageFillForm(forms.Form):
    package = forms.ModelChoiceField(label=_("Package"), queryset=PricePackage.objects.none())
    area = forms.DecimalField(
        label=_("Floor area (m²)"),
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=_number(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read in the request's firm, when the form is made.
        self.fields["package"].queryset = PricePackage.objects.filter(is_active=True).order_by("name")
