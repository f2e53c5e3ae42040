from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.accounts.staff import staff_choices
from renocrm.forms import DATE, RowFormSet, StaffChoiceField
from worksites.models import HandoverDocument, RectificationItem
from worksites.services.handover import RECTIFICATION_OWNER_ROLES

PASS, FAIL = "pass", "fail"
RESULTS = [(PASS, _("Passed")), (FAIL, pgettext_lazy("check result", "Failed"))]


class OwnerField(StaffChoiceField):
    def __init__(self, **kwargs):
        super().__init__(label=_("Owner"), roles=RECTIFICATION_OWNER_ROLES, **kwargs)


def owner_queryset():
    return staff_choices(roles=RECTIFICATION_OWNER_ROLES)


class AcceptanceCheckForm(forms.Form):
    """One check, passed or failed; a failure carries its rectification item (the service insists)."""

    result = forms.ChoiceField(label=_("Result"), choices=RESULTS)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(label=_("What to put right"), required=False, widget=forms.Textarea)
    owner = OwnerField()
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=DATE)

    def rectification(self) -> dict | None:
        data = self.cleaned_data
        if data["result"] == PASS:
            return None
        return {"description": data["description"], "owner": data["owner"], "deadline": data["deadline"]}


class RectificationItemForm(forms.Form):
    description = forms.CharField(label=_("What to put right"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = OwnerField()
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)


class RecheckForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=RESULTS)
    note = forms.CharField(label=_("Re-check note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    new_deadline = forms.DateField(label=_("New deadline"), required=False, widget=DATE)


class HandoverDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=HandoverDocument.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File (PDF or photo)"))


class HandoverCompleteForm(forms.Form):
    on = forms.DateField(label=_("Handover date"), required=False, widget=DATE)


class RectificationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Outstanding")), *RectificationItem.Status.choices],
    )
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)
    mine = forms.BooleanField(label=_("Only mine"), required=False)


class ChecklistRowForm(forms.Form):
    area = forms.CharField(label=_("Area"), max_length=50)
    item = forms.CharField(label=_("Check"), max_length=300)


ChecklistRowFormSet = forms.formset_factory(ChecklistRowForm, formset=RowFormSet, extra=2, can_delete=True)
