"""Forms of the callback pages: the work queue's filters, the callback's actions, the survey (the same
questions for the agent on the phone and for the homeowner through the SMS link), the plan and the settings."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aftercare.models import Area
from callbacks.models import (
    DEFAULT_SMS_TEMPLATE,
    CallbackAttempt,
    CallbackSettings,
    CallbackStep,
    Method,
    Satisfaction,
    SecondaryDemand,
    Survey,
    SurveyDefect,
)
from callbacks.selectors import ALL, MINE
from complaints.models import Complaint
from contracts.models import TradeCategory
from renocrm.accounts.roles import AGENT_ROLES
from renocrm.accounts.staff import staff_choices
from renocrm.forms import RowFormSet, StaffChoiceField, blank_first
from worksites.models import PhaseKind

BUCKETS = (
    ("due_today", _("Due today")),
    ("overdue", _("Overdue")),
    ("upcoming", _("Upcoming")),
    ("retry", _("To retry")),
    ("done", _("Done")),
)
# The outcomes an agent records with one button; "reached" is recorded by submitting the survey.
ATTEMPT_BUTTONS = (
    CallbackAttempt.Outcome.NO_ANSWER,
    CallbackAttempt.Outcome.BUSY,
    CallbackAttempt.Outcome.WRONG_NUMBER,
)
# The trades a homeowner can judge after handover, with the survey field of each.
SURVEY_TRADES = (
    (TradeCategory.PLUMBING_ELECTRICAL, "quality_plumbing_electrical"),
    (TradeCategory.CARPENTRY, "quality_carpentry"),
    (TradeCategory.MASONRY, "quality_masonry"),
    (TradeCategory.PAINTING, "quality_painting"),
)
RATINGS = ("designer_rating", "project_manager_rating", "customer_service_rating")


class QueueFilterForm(forms.Form):
    agent = forms.ChoiceField(label=_("Agent"), required=False)
    method = forms.ChoiceField(label=_("Method"), required=False, choices=[("", _("All")), *Method.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agents = {str(user.pk): user for user in staff_choices(roles=AGENT_ROLES)}
        agents = [(pk, str(user)) for pk, user in self.agents.items()]
        self.fields["agent"].choices = [(MINE, _("Mine")), (ALL, _("All agents")), *agents]

    def agent_filter(self, user):
        """The user whose callbacks to show, or None for everybody's."""
        value = self.cleaned_data.get("agent") if self.is_valid() else MINE
        if value == MINE:
            return user
        if value in ("", ALL):
            return None
        return self.agents[value]


class AssignForm(forms.Form):
    agent = StaffChoiceField(label=_("Agent"), roles=AGENT_ROLES, required=True)


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[(o.value, o.label) for o in ATTEMPT_BUTTONS])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class VisitForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Visit at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


# The survey ---------------------------------------------------------------------------------------------------


def _scale(label, *, required=False):
    return forms.TypedChoiceField(
        label=label,
        choices=Satisfaction.choices,
        coerce=int,
        empty_value=None,
        required=required,
        widget=forms.RadioSelect,
    )


YES, NEW = "yes", "new"


class SurveyForm(forms.Form):
    """One page, in the order the agent asks. Defects are ticked per trade; a repair or complaint section
    only counts (and is only checked) when its box is ticked."""

    contact = forms.ChoiceField(
        label=_("Contact details still right?"),
        choices=[(YES, _("Yes")), (NEW, _("New contact details"))],
        initial=YES,
        widget=forms.RadioSelect,
    )
    contact_update = forms.CharField(label=_("New contact details"), max_length=200, required=False)
    overall = _scale(_("Overall satisfaction"), required=True)
    quality_plumbing_electrical = _scale(TradeCategory.PLUMBING_ELECTRICAL.label)
    quality_carpentry = _scale(TradeCategory.CARPENTRY.label)
    quality_masonry = _scale(TradeCategory.MASONRY.label)
    quality_painting = _scale(TradeCategory.PAINTING.label)
    expectation = forms.ChoiceField(
        label=_("Result vs expectation"), choices=Survey.Expectation.choices, required=False, widget=forms.RadioSelect
    )
    designer_rating = _scale(_("Designer"))
    project_manager_rating = _scale(_("Project manager"))
    customer_service_rating = _scale(_("Customer service"))
    materials_feedback = forms.CharField(
        label=_("Materials and furniture"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    suggestions = forms.CharField(label=_("Suggestions"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    nps = forms.TypedChoiceField(
        label=_("How likely to recommend us (0–10)"),
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    demands = forms.MultipleChoiceField(
        label=_("Anything else planned for the home?"),
        choices=SecondaryDemand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    demand_note = forms.CharField(label=_("What exactly"), max_length=500, required=False)
    report_repair = forms.BooleanField(label=_("Report a repair"), required=False)
    repair_area = forms.ChoiceField(label=_("Area"), choices=blank_first(Area.choices), required=False)
    repair_trade = forms.ChoiceField(label=_("Trade"), choices=blank_first(TradeCategory.choices), required=False)
    repair_description = forms.CharField(
        label=_("What needs repairing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    file_complaint = forms.BooleanField(label=_("File a complaint"), required=False)
    complaint_category = forms.ChoiceField(
        label=_("Category"), choices=blank_first(Complaint.Category.choices), required=False
    )
    complaint_description = forms.CharField(
        label=_("What the complaint is about"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for trade, _field in SURVEY_TRADES:
            self.fields[f"defects_{trade}"] = forms.MultipleChoiceField(
                label=_("Defects"),
                choices=SurveyDefect.Kind.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"defect_note_{trade}"] = forms.CharField(label=_("Note"), max_length=300, required=False)

    def trades(self):
        """Per trade: its label, its quality scale, its defect boxes and note — one row of the form."""
        return [
            {
                "trade": trade,
                "label": trade.label,
                "quality": self[field],
                "defects": self[f"defects_{trade}"],
                "note": self[f"defect_note_{trade}"],
            }
            for trade, field in SURVEY_TRADES
        ]

    def ratings(self):
        return [self[name] for name in RATINGS]

    def clean(self):
        data = super().clean()
        need = _("Needed for this answer.")
        if data.get("contact") == NEW and not data.get("contact_update", "").strip():
            self.add_error("contact_update", need)
        for trade, _field in SURVEY_TRADES:
            if SurveyDefect.Kind.OTHER in data.get(f"defects_{trade}", ()) and not data.get(f"defect_note_{trade}"):
                self.add_error(f"defect_note_{trade}", _("Say what the other defect is."))
        if data.get("report_repair"):
            for name in ("repair_area", "repair_description"):
                if not data.get(name, "").strip():
                    self.add_error(name, need)
        if data.get("file_complaint"):
            for name in ("complaint_category", "complaint_description"):
                if not data.get(name, "").strip():
                    self.add_error(name, need)
        return data

    # Where a refusal of the survey service belongs on this form.
    # Service arguments answered by a field of another name (see renocrm.forms.apply_service_errors).
    service_fields = {
        "repair": "repair_description",
        "grievance": "complaint_description",
        "contact_confirmed": "contact",
    }

    def submission(self) -> dict:
        """The keyword arguments of ``services.survey_submit`` (without callback, via and by)."""
        data = self.cleaned_data
        answers = {
            "contact_confirmed": data["contact"] == YES,
            "contact_update": data["contact_update"].strip() if data["contact"] == NEW else "",
            "overall": data["overall"],
            "expectation": data["expectation"],
            "materials_feedback": data["materials_feedback"],
            "suggestions": data["suggestions"],
            "nps": data["nps"],
            **{field: data[field] for _trade, field in SURVEY_TRADES},
            **{name: data[name] for name in RATINGS},
        }
        defects = [
            {"trade": str(trade), "kind": kind, "note": data[f"defect_note_{trade}"] if kind == "other" else ""}
            for trade, _field in SURVEY_TRADES
            for kind in data[f"defects_{trade}"]
        ]
        repair = None
        if data["report_repair"]:
            repair = {
                "area": data["repair_area"],
                "trade": data["repair_trade"],
                "description": data["repair_description"],
            }
        grievance = None
        if data["file_complaint"]:
            grievance = {"category": data["complaint_category"], "description": data["complaint_description"]}
        return {
            **answers,
            "defects": defects,
            "demands": list(data["demands"]),
            "demand_note": data["demand_note"],
            "repair": repair,
            "grievance": grievance,
        }


# The plan and the settings ------------------------------------------------------------------------------------


class PlanStepForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    position = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=999)
    name = forms.CharField(label=_("Name"), max_length=100)
    anchor = forms.ChoiceField(label=_("Counted from"), choices=CallbackStep.Anchor.choices)
    phase_kind = forms.ChoiceField(
        label=_("Phase (milestones)"), choices=[("", "—"), *PhaseKind.choices], required=False
    )
    offset = forms.IntegerField(label=_("After"), min_value=0, max_value=120)
    unit = forms.ChoiceField(label=_("Unit"), choices=CallbackStep.Unit.choices)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].widget.attrs["class"] = "cb-position"
        self.fields["offset"].widget.attrs["class"] = "cb-offset"


class BasePlanFormSet(RowFormSet):
    def rows(self) -> list[dict]:
        """The rows in the order their position field gives (rows without one at the end, as listed)."""
        rows = super().rows()
        ordered = sorted(enumerate(rows), key=lambda pair: (pair[1]["position"] is None, pair[1]["position"], pair[0]))
        result = []
        for _index, row in ordered:
            row = {k: v for k, v in row.items() if k != "position"}
            if not row.get("id"):
                row.pop("id", None)
            result.append(row)
        return result


PlanFormSet = forms.formset_factory(PlanStepForm, formset=BasePlanFormSet, extra=2)


class CallbackSettingsForm(forms.ModelForm):
    class Meta:
        model = CallbackSettings
        fields = ["assignment", "max_attempts", "retry_after_hours", "sms_template", "survey_link_days"]
        widgets = {"sms_template": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sms_template"].help_text = _("Leave empty for the standard message (shown greyed out).")
        self.fields["sms_template"].widget.attrs["placeholder"] = str(DEFAULT_SMS_TEMPLATE)
        self.fields["survey_link_days"].validators.append(_at_least_one_day)


def _at_least_one_day(value):
    if value < 1:
        raise ValidationError(_("At least one day."))
