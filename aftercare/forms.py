from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.models import Area, CoverageRule, RepairRequest, RepairVisit
from contracts.models import Project, TradeCategory
from leads.models import ReferralReward
from renocrm.forms import DATE, RowFormSet, StaffChoiceField, blank_first

YES, NO = "yes", "no"
OPEN_ALL = "open_all"
ANY_TRADE = [("", _("Not sure / any"))]
ANY_CATEGORY = [("", _("Not sure"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; the service checks each one (type from the bytes, size)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(f, initial) for f in files]


class RepairFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), (OPEN_ALL, _("Still open")), *RepairRequest.Status.choices],
    )
    covered = forms.ChoiceField(
        label=_("Warranty"),
        required=False,
        choices=[("", _("Any")), (YES, _("Under warranty")), (NO, _("Out of warranty"))],
    )
    assigned = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Mine")), ("none", _("Nobody"))],
    )
    overdue = forms.BooleanField(label=_("Only past an SLA deadline"), required=False)


class RepairRequestForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=None)
    area = forms.ChoiceField(label=_("Area"), choices=Area.choices)
    trade = forms.ChoiceField(label=_("Trade"), required=False, choices=[*ANY_TRADE, *TradeCategory.choices])
    category = forms.ChoiceField(
        label=_("Kind of problem"), required=False, choices=[*ANY_CATEGORY, *RepairRequest.Category.choices]
    )
    description = forms.CharField(label=_("What needs repairing"), widget=forms.Textarea(attrs={"rows": 4}))
    source = forms.ChoiceField(
        label=_("Reported by"),
        choices=[(RepairRequest.Source.STAFF, _("Phone / in person")), (RepairRequest.Source.CALLBACK, _("Callback"))],
    )
    photos = PhotosField(
        label=_("Photos"), widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.select_related("customer").order_by("-id")
        self.fields["project"].label_from_instance = lambda p: f"{p.name} — {p.customer.name}"


class TriageForm(forms.Form):
    trade = forms.ChoiceField(
        label=_("Trade"),
        required=False,
        choices=[*ANY_TRADE, *TradeCategory.choices],
        help_text=_("A trade's own warranty (waterproofing) covers only repairs of that trade, or a leak."),
    )
    category = forms.ChoiceField(
        label=_("Kind of problem"), required=False, choices=[*ANY_CATEGORY, *RepairRequest.Category.choices]
    )


class AssignForm(forms.Form):
    agent = StaffChoiceField(label=_("Assign to"))


class RespondForm(forms.Form):
    note = forms.CharField(label=_("What was agreed on the call"), widget=forms.Textarea(attrs={"rows": 2}))


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RepairVisit.Kind.choices)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    charge = forms.DecimalField(
        label=_("Charge (CNY, out of warranty only)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )


class ConfirmForm(forms.Form):
    satisfied = forms.ChoiceField(
        label=_("Is the homeowner satisfied?"),
        choices=[(YES, _("Yes, satisfied")), (NO, _("No, still a problem"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why cancel"), max_length=500)


class CoverageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    area = forms.ChoiceField(label=_("Area"), choices=Area.choices)
    trade = forms.ChoiceField(label=_("Trade"), required=False, choices=blank_first(TradeCategory.choices))
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CoverageRuleRowForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=100)
    area = forms.ChoiceField(label=_("Area"), choices=Area.choices)
    trade = forms.ChoiceField(label=_("Trade"), required=False, choices=blank_first(TradeCategory.choices))
    keywords = forms.CharField(
        label=_("Keywords"),
        max_length=200,
        required=False,
        help_text=CoverageRule._meta.get_field("keywords").help_text,
    )
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=600)
    is_active = forms.BooleanField(label=_("Active"), required=False)


CoverageRuleFormSet = forms.formset_factory(CoverageRuleRowForm, formset=RowFormSet, extra=1)


class SettingsForm(forms.Form):
    repair_response_hours = forms.IntegerField(label=_("Respond to a repair within (hours)"), min_value=1)
    repair_on_site_hours = forms.IntegerField(label=_("Be on site within (hours)"), min_value=1)
    warranty_reminder_days = forms.CharField(
        label=_("Remind before a warranty ends (days)"),
        required=False,
        help_text=_("Comma-separated, e.g. 30, 7. Leave empty for no reminders."),
    )
    birthday_greetings = forms.BooleanField(label=_("Birthday greetings"), required=False)
    holiday_greetings = forms.BooleanField(label=_("Holiday greetings"), required=False)
    free_inspection_offer_days = forms.IntegerField(
        label=_("Offer a free inspection this many days before a warranty ends (0 = never)"), min_value=0
    )

    def clean_warranty_reminder_days(self):
        text = self.cleaned_data["warranty_reminder_days"].replace("，", ",")
        days = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise forms.ValidationError(_("Write whole numbers of days separated by commas."))
            days.append(int(part))
        return days


class ReferralRewardFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *ReferralReward.Status.choices]
    )


class ExpiringFilterForm(forms.Form):
    within = forms.TypedChoiceField(
        label=_("Ending within"),
        required=False,
        coerce=int,
        empty_value=30,
        choices=[(30, _("30 days")), (60, _("60 days")), (90, _("90 days"))],
    )


class OptOutForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


# The homeowner portal ----------------------------------------------------------------------------------------


class PortalRepairForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, error_messages={"required": _("Type your name.")})
    area = forms.ChoiceField(label=_("Where"), choices=Area.choices)
    trade = forms.ChoiceField(
        label=_("What kind of work"), required=False, choices=[*ANY_TRADE, *TradeCategory.choices]
    )
    category = forms.ChoiceField(
        label=_("Kind of problem"), required=False, choices=[*ANY_CATEGORY, *RepairRequest.Category.choices]
    )
    description = forms.CharField(
        label=_("What is wrong"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe what needs repairing.")},
    )
    photos = PhotosField(label=_("Photos"))


class PortalConfirmForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, error_messages={"required": _("Type your name.")})
    satisfied = forms.ChoiceField(choices=[(YES, _("Yes, it is fixed")), (NO, _("No, there is still a problem"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
