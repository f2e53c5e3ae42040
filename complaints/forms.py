from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint, ComplaintSettings
from complaints.selectors import LEVEL_LABELS
from contracts.models import Project, TradeCategory
from leads.models import Customer
from renocrm.forms import StaffChoiceField

TEXTAREA = forms.Textarea(attrs={"rows": 3})
# Complaints from the portal, a callback or the API come in through those; staff log the rest.
STAFF_CHANNELS = [
    (value, label)
    for value, label in Complaint.Channel.choices
    if value not in (Complaint.Channel.PORTAL, Complaint.Channel.API)
]


class StaffField(StaffChoiceField):
    """Any of the firm's active staff, whatever their role."""

    def __init__(self, label, **kwargs):
        super().__init__(label=label, **kwargs)


class _StaffForm(forms.Form):
    """A form with staff pickers (``StaffField``)."""


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Customer name or mobile"), required=False, max_length=100)


class ComplaintForm(_StaffForm):
    """A complaint taken in by staff, for a customer chosen first."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), widget=forms.HiddenInput)
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none(), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS)
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    trade = forms.ChoiceField(label=_("Trade"), choices=[("", "—"), *TradeCategory.choices], required=False)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Complaint.Severity.choices, initial=Complaint.Severity.NORMAL
    )
    description = forms.CharField(label=_("What the customer complains about"), widget=TEXTAREA)
    responsible = StaffField(_("Responsible staff"), help_text=_("Whom the complaint is about, if anyone."))
    owner = StaffField(
        _("Handled by"),
        help_text=_("Left empty: the worksite's customer service agent, else its project manager."),
    )

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.all()
        if customer is not None:
            self.fields["customer"].initial = customer.pk
            self.fields["project"].queryset = Project.objects.filter(customer=customer).order_by("-id")
        else:
            # The service says which customer a project belongs to; here any of the firm's projects parses.
            self.fields["project"].queryset = Project.objects.all()


class RespondForm(forms.Form):
    text = forms.CharField(
        label=_("Response"), required=False, widget=TEXTAREA, help_text=_("How and what the customer was told.")
    )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=TEXTAREA)


class ReassignForm(_StaffForm):
    owner = StaffField(_("Hand to"), required=True)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=TEXTAREA)
    root_cause = forms.ChoiceField(label=_("Root cause"), choices=[("", "—"), *Complaint.RootCause.choices])


class ReportForm(forms.Form):
    text = forms.CharField(label=_("How the result was reported"), required=False, widget=TEXTAREA, max_length=2000)


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Customer's verdict"), choices=Complaint.Verdict.choices)
    comment = forms.CharField(label=_("Comment"), required=False, widget=TEXTAREA, max_length=2000)


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("Why escalate"), widget=TEXTAREA)


class ComplaintSettingsForm(forms.ModelForm):
    department_head = StaffField(ComplaintSettings._meta.get_field("department_head").verbose_name)
    general_manager = StaffField(
        ComplaintSettings._meta.get_field("general_manager").verbose_name,
        help_text=_("Left empty: the firm's first admin."),
    )

    class Meta:
        model = ComplaintSettings
        fields = [
            "level1_respond_hours",
            "level1_resolve_hours",
            "level2_respond_hours",
            "level2_resolve_hours",
            "level3_respond_hours",
            "level3_resolve_hours",
            "department_head",
            "general_manager",
        ]


class ComplaintFilterForm(_StaffForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), ("active", _("Open or in progress")), *Complaint.Status.choices],
    )
    level = forms.TypedChoiceField(
        label=_("Level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any level")), *LEVEL_LABELS.items()],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any category")), *Complaint.Category.choices]
    )
    owner = StaffField(_("Handled by"))
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)
    q = forms.CharField(label=_("Customer name or mobile"), required=False, max_length=100)


class ReportPeriodForm(forms.Form):
    start = forms.DateField(label=_("Opened from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Opened until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end of the period is before its start."))
        return data


# The homeowner portal ---------------------------------------------------------------------------------------


class HomeownerNameMixin(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, error_messages={"required": _("Type your name.")})

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Type your name."))
        return name


class PortalComplaintForm(HomeownerNameMixin):
    category = forms.ChoiceField(label=_("What is it about?"), choices=Complaint.Category.choices)
    description = forms.CharField(
        label=_("Tell us what happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": _("Tell us what happened.")},
    )


class PortalVerdictForm(HomeownerNameMixin):
    object = forms.IntegerField(widget=forms.HiddenInput)
    verdict = forms.ChoiceField(
        label=_("Are you satisfied with the result?"),
        choices=[
            (Complaint.Verdict.SATISFIED, _("Yes, I am satisfied")),
            (Complaint.Verdict.NOT_SATISFIED, _("No, I am not satisfied")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether you are satisfied.")},
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
