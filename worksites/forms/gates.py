from django import forms
from django.utils.translation import gettext_lazy as _

from worksites.models import Gate


class GateOverrideForm(forms.Form):
    gate = forms.ChoiceField(label=_("Gate"), choices=Gate.choices)
    reason = forms.CharField(
        label=_("Why it is lifted"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text=_("Kept with your name, shown on the worksite and counted on the dashboard."),
    )


class ConstructionSettingsForm(forms.Form):
    closed_water_hours = forms.IntegerField(label=_("Closed-water test: minimum hours"), min_value=24, max_value=168)
    pre_inspection_days_before = forms.IntegerField(
        label=_("QC pre-inspection: days before planned completion"), min_value=1, max_value=60
    )
    inspection_notice_days = forms.IntegerField(
        label=_("Inspection notice: days before"),
        min_value=0,
        max_value=14,
        help_text=_("The homeowner gets a text this many days before each inspection; 0 sends none."),
    )
    inspection_notice = forms.CharField(
        label=_("Inspection notice text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Empty: the standard text. Placeholders: {firm} {project} {kind} {date} {time} {checks} {url}"),
    )
    inspection_staff_reminder_days = forms.IntegerField(
        label=_("Inspection reminder to staff: days before"),
        min_value=0,
        max_value=14,
        help_text=_(
            "The QC inspector, the project manager and (when they sign) the designer get a reminder this many "
            "days before each inspection; 0 sends none."
        ),
    )
