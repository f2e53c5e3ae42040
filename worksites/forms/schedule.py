from django import forms
from django.utils.translation import gettext_lazy as _

from renocrm.forms import DATE, RowFormSet, StaffChoiceField, blank_first
from worksites.models import PhaseKind, Worksite
from worksites.services.schedule import CREW_ROLES


class WorksiteFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Worksite.Status.choices])
    phase = forms.ChoiceField(label=_("Current phase"), required=False, choices=[("", _("All")), *PhaseKind.choices])
    mine = forms.BooleanField(label=_("Only my worksites"), required=False)
    lifted = forms.BooleanField(label=_("A gate was lifted"), required=False)


class CrewForm(forms.Form):
    designer = StaffChoiceField(label=_("Designer"), roles=CREW_ROLES["designer"])
    project_manager = StaffChoiceField(label=_("Project manager / foreman"), roles=CREW_ROLES["project_manager"])
    qc_inspector = StaffChoiceField(label=_("QC inspector"), roles=CREW_ROLES["qc_inspector"])
    customer_service = StaffChoiceField(label=_("Customer service agent"), roles=CREW_ROLES["customer_service"])


class PhaseDateForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE)


class PhaseAcceptForm(forms.Form):
    name = forms.CharField(label=_("Signed off by (homeowner)"), max_length=100)


class TechnicalHandoverForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    homeowner_present = forms.BooleanField(label=_("Homeowner present"), required=False, initial=True)
    designer_present = forms.BooleanField(label=_("Designer present"), required=False, initial=True)
    foreman_present = forms.BooleanField(label=_("Foreman present"), required=False, initial=True)
    site_manager_present = forms.BooleanField(label=_("Site manager present"), required=False, initial=True)
    other_attendees = forms.CharField(label=_("Other attendees"), max_length=300, required=False)
    existing_facilities = forms.CharField(
        label=_("Check of existing facilities"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Walls, floors, doors and windows, pipes, wiring, meters …"),
    )
    drawings_given = forms.BooleanField(label=_("Drawings given to the homeowner"), required=False)
    quotation_given = forms.BooleanField(label=_("Quotation given to the homeowner"), required=False)


class TemplateRowForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=blank_first(PhaseKind.choices))
    name = forms.CharField(label=_("Name"), max_length=100)
    duration_days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365)
    requires_acceptance = forms.BooleanField(label=_("Homeowner signs off"), required=False)
    covers_concealed_works = forms.BooleanField(label=_("Covers the concealed works"), required=False)
    covers_waterproofing = forms.BooleanField(label=_("Tiles over the waterproofing"), required=False)


TemplateRowFormSet = forms.formset_factory(TemplateRowForm, formset=RowFormSet, extra=2, can_delete=True)
