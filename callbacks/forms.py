"""Forms of the callback pages: the work queue's filters, the callback's actions, the survey (the same
questions for the agent on the phone and for the homeowner through the SMS link), the plan and the settings."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftercare.models import Area
from callbacks.models import (
    DEFAULT_SMS_TEMPLATE,
    DEPARTMENT_HEADS,
    CallbackAttempt,
    CallbackSettings,
    CallbackStep,
    Method,
    Satisfaction,
    SecondaryDemand,
    Survey,
    SurveyDefect,
)
from callbacks.selectors import ALL, FOLLOW_UP_STATES, MINE
from complaints.models import Complaint
from contracts.models import TradeCategory
from renocrm.accounts.roles import AGENT_ROLES
from renocrm.accounts.staff import staff_choices
from renocrm.forms import ClockDateTimeField, RowFormSet, StaffChoiceField, blank_first
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
RATINGS = ("designer_rating", "project_manager_rating", "crew_rating", "qc_rating", "customer_service_rating")
# Material and furniture rows on the survey page: enough for the main ones; a row left blank is skipped.
MATERIAL_ROWS = 3
MATERIAL_FIELDS = ("item", "brand", "satisfaction", "comment")


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
    at = ClockDateTimeField(
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
    crew_rating = _scale(_("Construction crew"))
    qc_rating = _scale(_("QC inspection"))
    customer_service_rating = _scale(_("Customer service"))
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
        for n in range(MATERIAL_ROWS):
            self.fields[f"material_item_{n}"] = forms.CharField(
                label=_("Material or furniture"), max_length=100, required=False
            )
            self.fields[f"material_brand_{n}"] = forms.CharField(label=_("Brand"), max_length=100, required=False)
            self.fields[f"material_satisfaction_{n}"] = _scale(_("Satisfaction"))
            self.fields[f"material_comment_{n}"] = forms.CharField(label=_("Comment"), max_length=500, required=False)

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

    def material_rows(self):
        """Per material row: its fields by name (item, brand, satisfaction, comment) — one card of the form."""
        return [
            {"number": n + 1, **{name: self[f"material_{name}_{n}"] for name in MATERIAL_FIELDS}}
            for n in range(MATERIAL_ROWS)
        ]

    def _materials(self, data) -> list[tuple[int, dict]]:
        """(row index, its values) of each material row with anything filled in, in order."""
        rows = []
        for n in range(MATERIAL_ROWS):
            row = {name: data.get(f"material_{name}_{n}") for name in MATERIAL_FIELDS}
            if any(value not in (None, "") for value in row.values()):
                rows.append((n, row))
        return rows

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
        for n, row in self._materials(data):
            if not (row["item"] or "").strip():
                self.add_error(f"material_item_{n}", _("Say which material or furniture."))
            if row["satisfaction"] is None:
                self.add_error(f"material_satisfaction_{n}", _("Choose a level of satisfaction."))
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
            "materials": [row for _n, row in self._materials(data)],
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


def _head(field: str):
    return StaffChoiceField(
        label=CallbackSettings._meta.get_field(field).verbose_name,
        help_text=_("Left empty: the firm's first admin."),
    )


class CallbackSettingsForm(forms.ModelForm):
    # Any active member may head a department (staff management comes later).
    design_head = _head("design_head")
    construction_head = _head("construction_head")
    qc_head = _head("qc_head")
    service_head = _head("service_head")

    class Meta:
        model = CallbackSettings
        fields = [
            "assignment",
            "max_attempts",
            "retry_after_hours",
            "sms_template",
            "survey_link_days",
            "follow_up_threshold",
            "follow_up_days",
            *DEPARTMENT_HEADS.values(),
        ]
        widgets = {"sms_template": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sms_template"].help_text = _("Leave empty for the standard message (shown greyed out).")
        self.fields["sms_template"].widget.attrs["placeholder"] = str(DEFAULT_SMS_TEMPLATE)
        self.fields["survey_link_days"].validators.append(_at_least_one_day)


def _at_least_one_day(value):
    if value < 1:
        raise ValidationError(_("At least one day."))


# Feedback follow-ups ------------------------------------------------------------------------------------------

FOLLOW_UP_STATE_LABELS = dict(
    zip(
        FOLLOW_UP_STATES,
        (
            pgettext_lazy("follow-up status", "Open"),
            _("Overdue"),
            pgettext_lazy("follow-up status", "Closed"),
            _("All"),
        ),
        strict=True,
    ),
)


class FollowUpFilterForm(forms.Form):
    owner = forms.ChoiceField(label=_("Whose"), required=False, choices=[(MINE, _("Mine")), (ALL, _("All I can see"))])
    state = forms.ChoiceField(label=_("Status"), required=False, choices=list(FOLLOW_UP_STATE_LABELS.items()))

    def chosen(self, user, *, default_owner: str) -> tuple:
        """(the owner to keep, or None for all; the state), bad input read as the defaults."""
        data = self.cleaned_data if self.is_valid() else {}
        owner = data.get("owner") or default_owner
        return (user if owner == MINE else None), (data.get("state") or "open")


class FollowUpCloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The agent who took the survey is told, to pass it on to the homeowner."),
    )
