import base64
import binascii
import io
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from PIL import Image

from leads.forms import NewPropertyForm
from leads.selectors import DESIGNER_ROLES
from renocrm.forms import DATE, ClockDateTimeField, RowFormSet, StaffChoiceField, blank_first

from .models import ChangeOrder, ChangeOrderLine, Contract, Instalment, QuotationVersion, TradeCategory
from .phases import phase_kind_choices

NOT_NEGATIVE = {"min_value": Decimal("0"), "decimal_places": 2}
MONEY = {"max_digits": 14, **NOT_NEGATIVE}


DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
SMALL = {"rows": 2}


class ContractFilterForm(forms.Form):
    q = forms.CharField(label=_("Customer, mobile or number"), required=False)
    package_type = forms.ChoiceField(
        label=_("Package type"), required=False, choices=[("", _("All")), *Contract.PackageType.choices]
    )
    signed_from = forms.DateField(label=_("Signed from"), required=False, widget=DATE)
    signed_to = forms.DateField(label=_("Signed up to"), required=False, widget=DATE)


class QuotationFilterForm(forms.Form):
    q = forms.CharField(label=_("Customer, mobile or title"), required=False)
    status = forms.ChoiceField(
        label=_("Latest version"), required=False, choices=[("", _("All")), *QuotationVersion.Status.choices]
    )


class ChangeOrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Customer or contract number"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *ChangeOrder.Status.choices])


# Design and measurement ---------------------------------------------------------------------------------


class DesignAgreementForm(forms.Form):
    fee = forms.DecimalField(label=_("Design / measurement fee"), **MONEY)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs=SMALL))


class PaidOnForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)


class MeasurementForm(forms.Form):
    scheduled_at = ClockDateTimeField(label=_("Scheduled at"), widget=DATETIME)
    designer = StaffChoiceField(label=_("Designer"), roles=DESIGNER_ROLES)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs=SMALL))


class MeasurementAddressForm(MeasurementForm, NewPropertyForm):
    """The booking for a lead without an address: where to measure is entered on the same page."""

    field_order = list(MeasurementForm.base_fields)  # then the property


# Quotations ---------------------------------------------------------------------------------------------


class QuotationCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class ItemForm(forms.Form):
    """A quotation line or a change-order line; a row left wholly empty is skipped."""

    category = forms.ChoiceField(label=_("Trade category"), choices=blank_first(TradeCategory.choices))
    name = forms.CharField(label=_("Item"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=20)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, **NOT_NEGATIVE)
    unit_price = forms.DecimalField(label=_("Unit price"), **MONEY)
    brand_model = forms.CharField(label=_("Brand / model"), max_length=200, required=False)


class ChangeLineForm(ItemForm):
    kind = forms.ChoiceField(label=_("Addition or removal"), choices=blank_first(ChangeOrderLine.Kind.choices))
    field_order = ["kind", "category", "name", "unit", "quantity", "unit_price", "brand_model"]

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity <= 0:
            raise forms.ValidationError(_("The quantity must be more than 0."))
        return quantity


class MainMaterialForm(ItemForm):
    category = None


ItemFormSet = forms.formset_factory(ItemForm, formset=RowFormSet, extra=3, can_delete=True)
ChangeLineFormSet = forms.formset_factory(ChangeLineForm, formset=RowFormSet, extra=3)
MainMaterialFormSet = forms.formset_factory(MainMaterialForm, formset=RowFormSet, extra=2)


class AcceptForm(forms.Form):
    name = forms.CharField(label=_("Accepted by (customer's name)"), max_length=100)


class SignatureField(forms.CharField):
    """A signature drawn on the page, sent as a PNG data URL; anything else is refused."""

    PREFIX = "data:image/png;base64,"
    MAX_BYTES = 200_000

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        if not value.startswith(self.PREFIX) or len(value) > self.MAX_BYTES * 4 // 3 + len(self.PREFIX) + 4:
            raise forms.ValidationError(_("Please sign in the box."))
        try:
            png = base64.b64decode(value[len(self.PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("Please sign in the box.")) from None
        if not png.startswith(b"\x89PNG\r\n\x1a\n") or not _decodes(png):
            raise forms.ValidationError(_("Please sign in the box."))
        return value


# A signature is at most the pad's size many times over; anything larger is not one.
MAX_SIGNATURE_PIXELS = 4000 * 2000


def _decodes(png: bytes) -> bool:
    """Whether the PNG is a whole image of a signature's size: it goes into the signed PDF, whose rendering a
    broken or enormous image would stop."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_SIGNATURE_PIXELS:
                return False
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


class HomeownerAcceptForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    signature = SignatureField(
        label=_("Signature"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Please sign in the box.")},
    )
    agree = forms.BooleanField(label=_("I accept this quotation"))


# Contracts ----------------------------------------------------------------------------------------------


class ContractSignForm(forms.Form):
    number = forms.CharField(label=_("Contract number"), max_length=40)
    package_type = forms.ChoiceField(label=_("Package type"), choices=Contract.PackageType.choices)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    planned_start = forms.DateField(label=_("Planned start"), widget=DATE)
    planned_end = forms.DateField(label=_("Planned end"), widget=DATE)
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", _("The planned end is before the planned start."))
        return data


class InstalmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=blank_first(Instalment.Kind.choices))
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    trigger = forms.ChoiceField(label=_("Falls due"), choices=blank_first(Instalment.Trigger.choices))
    due_days_after_trigger = forms.IntegerField(
        label=_("Days after"), min_value=0, max_value=365, initial=0, required=False
    )
    # The kinds construction registers (contracts.phases), read when the form is made.
    trigger_phase = forms.ChoiceField(
        label=_("Phase"),
        required=False,
        choices=lambda: blank_first(phase_kind_choices()),
    )
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("trigger") in (Instalment.Trigger.ON_SIGNING, Instalment.Trigger.FIXED_DATE) and not data.get(
            "due_on"
        ):
            self.add_error("due_on", _("Give the date this instalment falls due."))
        if data.get("trigger") == Instalment.Trigger.PHASE_ACCEPTANCE and not data.get("trigger_phase"):
            self.add_error("trigger_phase", _("Choose the phase whose acceptance makes this instalment due."))
        data["due_days_after_trigger"] = data.get("due_days_after_trigger") or 0
        return data


InstalmentFormSet = forms.formset_factory(InstalmentForm, formset=RowFormSet, extra=1)


class ChangeOrderForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs=SMALL))
