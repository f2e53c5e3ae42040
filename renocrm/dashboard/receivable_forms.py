"""The filters of the receivables page and the payment register."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from contracts import receivables as ledger
from contracts.models import Instalment, Project
from leads.selectors import DESIGNER_ROLES
from renocrm.forms import DATE, StaffChoiceField
from worksites.services.schedule import CREW_ROLES

from .receivables import GROUPINGS, Filters, PaymentFilters

PM_ROLES = CREW_ROLES["project_manager"]


class ReceivableFilterForm(forms.Form):
    bucket = forms.ChoiceField(
        label=_("Aging"), required=False, choices=[("", _("All outstanding")), *ledger.BUCKET_LABELS.items()]
    )
    designer = StaffChoiceField(label=_("Designer"), roles=DESIGNER_ROLES)
    pm = StaffChoiceField(label=_("Project manager"), roles=PM_ROLES)
    q = forms.CharField(label=_("Customer, mobile or contract number"), required=False, max_length=100)
    by = forms.ChoiceField(label=_("Totals by"), required=False, choices=[("", _("No grouping")), *GROUPINGS])
    # Set by the links of the totals by project; shown above the list, not as a field.
    project = forms.ModelChoiceField(queryset=Project.objects.all(), required=False, widget=forms.HiddenInput)

    def filters(self, *, full_contacts: bool = False) -> Filters:
        data = self.cleaned_data
        return Filters(
            full_contacts=full_contacts,
            bucket=data.get("bucket", ""),
            designer=data.get("designer"),
            pm=data.get("pm"),
            project=data.get("project"),
            q=data.get("q", "").strip(),
        )


class PaymentFilterForm(forms.Form):
    paid_from = forms.DateField(label=_("Received from"), required=False, widget=DATE)
    paid_to = forms.DateField(label=_("Received up to"), required=False, widget=DATE)
    designer = StaffChoiceField(label=_("Designer"), roles=DESIGNER_ROLES)
    pm = StaffChoiceField(label=_("Project manager"), roles=PM_ROLES)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *Instalment.Kind.choices])
    # Any member: who may record payments is the firm's duty map, which may have changed since.
    recorded_by = StaffChoiceField(label=_("Recorded by"))

    def clean(self):
        data = super().clean()
        start, end = data.get("paid_from"), data.get("paid_to")
        if start and end and end < start:
            self.add_error("paid_to", _("The last day comes before the first."))
        return data

    def filters(self) -> PaymentFilters:
        data = self.cleaned_data
        return PaymentFilters(
            paid_from=data.get("paid_from"),
            paid_to=data.get("paid_to"),
            designer=data.get("designer"),
            pm=data.get("pm"),
            kind=data.get("kind", ""),
            recorded_by=data.get("recorded_by"),
        )
