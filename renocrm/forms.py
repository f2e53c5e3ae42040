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
