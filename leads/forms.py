from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Customer, FollowUp, Lead

DATE = forms.DateInput(attrs={"type": "date"})


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Customer or mobile"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Lead.Status.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All")), *Lead.Channel.choices])


class LeadCreateForm(forms.Form):
    name = forms.CharField(label=_("Customer name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30)
    channel = forms.ChoiceField(label=_("Channel"), choices=Lead.Channel.choices)
    referrer = forms.ModelChoiceField(label=_("Referrer"), queryset=Customer.objects.all(), required=False)
    household = forms.CharField(label=_("Household members"), required=False)
    style_preferences = forms.CharField(label=_("Style preferences"), required=False)
    budget_min = forms.DecimalField(label=_("Budget from"), required=False, min_value=0, decimal_places=2)
    budget_max = forms.DecimalField(label=_("Budget up to"), required=False, min_value=0, decimal_places=2)
    core_needs = forms.CharField(label=_("Core needs"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_follow_up_on = forms.DateField(label=_("Next follow-up"), required=False, widget=DATE)


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUp.Kind.choices)
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Next step"), required=False)
    next_contact_on = forms.DateField(label=_("Next contact"), required=False, widget=DATE)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=[c for c in Lead.Status.choices if c[0] != "won"])
    reason = forms.CharField(label=_("Reason"), required=False)
