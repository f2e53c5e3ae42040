from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.forms import DATE, RowFormSet, blank_first
from worksites.models import Inspection, ProblemSolution, SignoffRole, SitePatrol

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class _WorksiteForm(forms.Form):
    """A form with a ``phase`` field offering the worksite's own phases."""

    def __init__(self, *args, worksite, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = worksite.phases.all()


class InspectionScheduleForm(_WorksiteForm):
    kind = forms.ChoiceField(label=_("Inspection"), choices=blank_first(Inspection.Kind.choices))
    scheduled_on = forms.DateField(label=_("Date"), widget=DATE, required=False)
    scheduled_time = forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        required=False,
        help_text=_("The homeowner is told the date, the time and what to check beforehand."),
    )
    phase = forms.ModelChoiceField(label=_("Phase"), queryset=None, required=False)


class SignForm(forms.Form):
    role = forms.ChoiceField(label=_("Signs as"))
    signed_name = forms.CharField(
        label=_("Name as signed"),
        max_length=100,
        required=False,
        help_text=_("For the homeowner: their name as they signed. Staff sign with their own name when left empty."),
    )
    note = forms.CharField(label=_("Remark"), max_length=300, required=False)
    paper_photo = forms.FileField(
        label=_("Photo of the page the homeowner signed"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf", "capture": "environment"}),
        help_text=_("Staff never sign for the homeowner: they record the paper signature with its photo."),
    )

    def __init__(self, *args, roles, with_note=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, SignoffRole(role).label) for role in roles]
        if not with_note:
            del self.fields["note"]
        if SignoffRole.HOMEOWNER not in roles:
            del self.fields["paper_photo"]


class InspectionResultForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Result"),
        choices=[("passed", _("Passed")), ("failed", pgettext_lazy("check result", "Failed"))],
        widget=forms.RadioSelect,
    )
    findings = forms.CharField(
        label=_("Findings"), widget=TEXTAREA, required=False, help_text=_("Required when it fails: what to put right.")
    )
    water_hours = forms.IntegerField(label=_("Hours the water stood"), required=False, min_value=0, max_value=720)

    def __init__(self, *args, closed_water=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not closed_water:
            del self.fields["water_hours"]


class CircuitDiagramForm(forms.Form):
    file = forms.FileField(
        label=_("Circuit diagram"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
        help_text=_("A photo or a PDF of the wiring as laid."),
    )


class MaterialArrivalForm(forms.Form):
    material = forms.CharField(label=_("Material"), max_length=200)
    brand_model = forms.CharField(label=_("Brand / model"), max_length=200, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=10, decimal_places=2)
    unit = forms.CharField(label=_("Unit"), max_length=20)
    arrived_on = forms.DateField(label=_("Arrived on"), widget=DATE)


class MaterialRejectForm(forms.Form):
    reason = forms.CharField(label=_("Why is it rejected?"), widget=TEXTAREA, required=False)
    signed_name = forms.CharField(
        label=_("Rejected by"),
        max_length=100,
        required=False,
        help_text=_("The homeowner's name if they rejected it; your own name when left empty."),
    )


class SitePatrolForm(forms.Form):
    role = forms.ChoiceField(label=_("Patrolled as"), choices=SitePatrol.Role.choices)
    patrolled_on = forms.DateField(label=_("Date"), widget=DATE)
    findings = forms.CharField(label=_("Findings"), widget=TEXTAREA, required=False)
    issues_found = forms.BooleanField(label=_("Issues found"), required=False)


class SiteProblemForm(_WorksiteForm):
    title = forms.CharField(label=_("Problem"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=TEXTAREA, required=False)
    phase = forms.ModelChoiceField(label=_("Phase"), queryset=None, required=False)


class SolutionForm(forms.Form):
    description = forms.CharField(label=_("Solution"), max_length=2000)
    cost_change = forms.DecimalField(
        label=_("Cost to the homeowner (¥)"), max_digits=12, decimal_places=2, required=False
    )
    extra_days = forms.IntegerField(label=_("Extra days"), min_value=-999, max_value=999, required=False)


SolutionFormSet = forms.formset_factory(SolutionForm, formset=RowFormSet, extra=3)


class SolutionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, solution):
        return _("%(description)s (¥%(cost)s, %(days)s extra days)") % {
            "description": solution.description,
            "cost": solution.cost_change,
            "days": solution.extra_days,
        }


class ProblemChooseForm(forms.Form):
    solution = SolutionChoiceField(
        label=_("The homeowner's choice"), queryset=ProblemSolution.objects.none(), widget=forms.RadioSelect
    )
    chosen_name = forms.CharField(label=_("Chosen by (homeowner)"), max_length=100, required=False)

    def __init__(self, *args, problem, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["solution"].queryset = problem.solutions.all()
