from django import forms
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import Tenant


class FirmFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Tenant.Status.choices]
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    reason = forms.CharField(label=_("Note"), required=False, max_length=1000)
