from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.forms import DATE, StaffChoiceField
from renocrm.privacy.masking import mask_address

from . import selectors
from .models import Customer, FollowUp, Lead, Property
from .services.customers import PROPERTY_FIELDS


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Customer or mobile"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Lead.Status.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All")), *Lead.Channel.choices])


class LeadNeedsForm(forms.Form):
    """The needs profile shared by the new-lead and edit-lead forms, within the lead's column limits."""

    household = forms.CharField(label=_("Household members"), max_length=200, required=False)
    style_preferences = forms.CharField(label=_("Style preferences"), max_length=200, required=False)
    budget_min = forms.DecimalField(
        label=_("Budget from"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    budget_max = forms.DecimalField(
        label=_("Budget up to"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    core_needs = forms.CharField(label=_("Core needs"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_follow_up_on = forms.DateField(label=_("Next follow-up"), required=False, widget=DATE)


class AddressForm(forms.Form):
    """A home's address in its parts, within the property's column limits; the service checks the rules (a
    city, and a compound or a street)."""

    province = forms.CharField(label=_("Province"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=20, required=False)
    district = forms.CharField(label=_("District / county"), max_length=20, required=False)
    street = forms.CharField(
        label=_("Street and number"), max_length=300, required=False, help_text=_("e.g. 188 Wensan Road")
    )
    compound = forms.CharField(
        label=_("Residential compound"), max_length=100, required=False, help_text=_("e.g. Cuihu Garden")
    )
    building_unit_room = forms.CharField(
        label=_("Building-unit-room"), max_length=50, required=False, help_text=_("e.g. 3-1-602")
    )


class NewPropertyForm(AddressForm):
    """A property entered with another record (a new lead, a measurement appointment): optional as a whole,
    and taken only when any of it is filled in (``new_property``)."""

    area = forms.DecimalField(label=_("Area (m²)"), max_digits=8, decimal_places=2, required=False)
    layout = forms.CharField(
        label=_("Layout"), max_length=50, required=False, help_text=_("e.g. 3 bedrooms 2 living rooms")
    )
    condition = forms.ChoiceField(label=_("New or old"), choices=Property.Condition.choices, required=False)
    kind = forms.ChoiceField(label=_("Property type"), choices=Property.Kind.choices, required=False)

    property_fields = PROPERTY_FIELDS

    def main_fields(self):
        return [field for field in self.visible_fields() if field.name not in self.property_fields]

    def home_fields(self):
        return [field for field in self.visible_fields() if field.name in self.property_fields]

    @classmethod
    def service_data(cls, data: dict, *, always: bool = False) -> dict:
        """The form's cleaned data as the service takes it: the property's values as ``new_property`` (None when
        nothing of it was filled in, unless ``always``), a blank condition or type left to the defaults."""
        data = dict(data)
        home = {name: data.pop(name) for name in PROPERTY_FIELDS if name in data}
        filled = any(value not in ("", None) for name, value in home.items() if name not in ("condition", "kind"))
        for name in ("condition", "kind"):
            if not home.get(name):
                home.pop(name, None)
        data["new_property"] = home if filled or always else None
        return data


class LeadCreateForm(LeadNeedsForm, NewPropertyForm):
    name = forms.CharField(label=_("Customer name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30)
    channel = forms.ChoiceField(label=_("Channel"), choices=Lead.Channel.choices)
    referrer = forms.ModelChoiceField(label=_("Referrer"), queryset=Customer.objects.all(), required=False)
    field_order = ["name", "mobile", "channel", "referrer", *LeadNeedsForm.base_fields]  # then the property


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUp.Kind.choices)
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Next step"), required=False)
    next_contact_on = forms.DateField(label=_("Next contact"), required=False, widget=DATE)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=[c for c in Lead.Status.choices if c[0] != "won"])
    reason = forms.CharField(label=_("Reason"), required=False)


class FollowUpLogFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *FollowUp.Kind.choices])
    by = forms.ChoiceField(
        label=pgettext_lazy("follow-up", "By"), required=False, choices=[("", _("Everyone")), ("me", _("Only mine"))]
    )


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or mobile"), required=False)


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Customer name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30)
    other_contacts = forms.CharField(
        label=_("Other contacts"),
        required=False,
        help_text=_("WeChat, spouse's phone …"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        return {name: getattr(customer, name) for name in cls.base_fields}


class PropertyForm(AddressForm):
    area = forms.DecimalField(label=_("Area (m²)"), max_digits=8, decimal_places=2)
    layout = forms.CharField(
        label=_("Layout"), max_length=50, required=False, help_text=_("e.g. 3 bedrooms 2 living rooms")
    )
    condition = forms.ChoiceField(label=_("New or old"), choices=Property.Condition.choices)
    kind = forms.ChoiceField(label=_("Property type"), choices=Property.Kind.choices)

    @classmethod
    def initial_for(cls, property: Property) -> dict:
        return {name: getattr(property, name) for name in cls.base_fields}


class PropertyChoiceField(forms.ModelChoiceField):
    """A customer's properties by their masked address, area and layout: the picker must not show in full
    what the page masks."""

    def label_from_instance(self, obj):
        return " · ".join(part for part in (mask_address(obj.address), f"{obj.area} m²", obj.layout) if part)


class LeadEditForm(LeadNeedsForm, NewPropertyForm):
    living_habits = forms.CharField(label=_("Living habits"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    property = PropertyChoiceField(label=_("Property"), queryset=Property.objects.none(), required=False)
    assigned_to = StaffChoiceField(label=_("Customer manager"), roles=selectors.CUSTOMER_MANAGER_ROLES)
    designer = StaffChoiceField(label=_("Designer"), roles=selectors.DESIGNER_ROLES)
    field_order = [
        "household",
        "living_habits",
        "style_preferences",
        "budget_min",
        "budget_max",
        "core_needs",
        "property",
        "next_follow_up_on",
        "assigned_to",
        "designer",
    ]  # then a new property's fields, for one that is not in the list

    def __init__(self, *args, lead: Lead, **kwargs):
        own = [name for name in self.base_fields if name not in PROPERTY_FIELDS]
        kwargs.setdefault("initial", {name: getattr(lead, name) for name in own})
        super().__init__(*args, **kwargs)
        # Choices from the lead's own customer and the current firm's staff; the service checks again.
        self.fields["property"].queryset = selectors.customer_properties(customer=lead.customer)
