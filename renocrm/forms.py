"""Helpers shared by the staff pages of every app."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from renocrm.accounts.staff import ALL_ROLES, NOT_A_MEMBER, active_members, staff_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StaffChoiceField(forms.ModelChoiceField):
    """The staff picker of every page: the current firm's active members in one of ``roles`` (any role by
    default); a form made for a firm keeps that firm's staff. Any other id that comes back — another firm's
    user, a member who has left, an id nobody has — is refused with one message that names nobody. The
    service checks again (and the role), and the database refuses a non-member whatever happens
    (``renocrm.tenancy.db``)."""

    default_error_messages = {"invalid_choice": NOT_A_MEMBER}

    def __init__(self, *, roles=ALL_ROLES, **kwargs):
        kwargs.setdefault("required", False)
        self.roles = roles
        super().__init__(queryset=active_members(roles=roles), **kwargs)

    def __deepcopy__(self, memo):
        # Each form gets its copy of the field when it is made: bind the copy to the firm of that moment.
        result = super().__deepcopy__(memo)
        result.queryset = staff_choices(roles=self.roles)
        return result


def apply_service_errors(form: forms.Form | forms.BaseFormSet, error: ValidationError) -> None:
    """A service's refusal shown on the form: on its field where the form has one, else above the form.
    On a formset (an editable table) the refusal goes above the table."""
    if isinstance(form, forms.BaseFormSet):
        # Django has no public way to add a formset-wide error after validation; this is the one place
        # that sets it.
        form._non_form_errors = form.error_class([*form.non_form_errors(), *error.messages])
        return
    pairs = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    # A form whose fields are named apart from the service's arguments maps them in ``service_fields``.
    renamed = getattr(form, "service_fields", {})
    for field, texts in pairs:
        field = renamed.get(field, field)
        for message in texts:
            form.add_error(field if field in form.fields else None, message)


def submit(request, form: forms.Form | forms.BaseFormSet, save):
    """The POST half of a form page: for a valid submitted form, run ``save(form.cleaned_data)`` (one
    service call) and return what it returns — or True when it returns nothing — so the view redirects.
    Returns None when nothing was submitted, the form is invalid, or the service refused; the refusal is
    then on the form, next to the field it names."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    return True if result is None else result


def refusal_as_message(request, service, *, about: str = "", **kwargs):
    """A button's one service call: returns what the service returns, or None when it refused, the refusal
    then shown as an error message (after ``about``, what it concerns) on the page the button returns to."""
    try:
        return service(**kwargs)
    except ValidationError as error:
        text = " ".join(error.messages)
        messages.error(request, f"{about}: {text}" if about else text)
        return None


def action_as_message(request, form, run, *, done) -> bool:
    """A small form behind a button on a record's page, which the view shows again afterwards: run
    ``run(form.cleaned_data)`` (one service call). Bad input and a service's refusal come back as an error
    message, success as ``done``. Returns whether the action ran."""
    if not form.is_valid():
        messages.error(
            request,
            " ".join(
                f"{form.fields[name].label}: {' '.join(errors)}"
                if name in form.fields and form.fields[name].label
                else " ".join(errors)
                for name, errors in form.errors.items()
            ),
        )
        return False
    try:
        run(form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, done)
    return True


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
