"""Helpers shared by the staff pages of every app."""

from django import forms
from django.core.exceptions import ValidationError

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal shown on the form: on its field where the form has one, else above the form."""
    pairs = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    for field, messages in pairs:
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def blank_first(choices):
    """A table row's choices start blank, so a row the user did not touch reads as empty and is skipped."""
    return [("", "—"), *choices]


class RowFormSet(forms.BaseFormSet):
    """An editable table. Extra rows the user left blank are skipped (Django leaves their cleaned_data
    empty), rows ticked for deletion too; ``rows()`` gives the rest as dicts for the service."""

    def rows(self) -> list[dict]:
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
