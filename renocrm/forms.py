"""Helpers shared by the staff pages of every app."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from renocrm.accounts.staff import ALL_ROLES, NOT_A_MEMBER, active_members, staff_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# The widest offset any time zone uses (Kiribati, +14:00). PostgreSQL refuses a timestamp beyond ±15:59, so a
# time such as ``2026-12-29T02:30+23:34`` that Python accepts must be refused before it reaches the database.
LARGEST_UTC_OFFSET = timedelta(hours=14)


def check_clock_offset(value) -> None:
    """Refuse an aware time whose UTC offset no clock uses, as the field's own error (pages and API filters)."""
    offset = value.utcoffset() if value is not None else None
    if offset is not None and abs(offset) > LARGEST_UTC_OFFSET:
        raise ValidationError(_("Enter a time whose UTC offset is between -14:00 and +14:00."), code="invalid")


class ClockDateTimeField(forms.DateTimeField):
    """A date and time of a page's form: typed as the firm's local time, or with an offset a clock uses."""

    def to_python(self, value):
        value = super().to_python(value)
        check_clock_offset(value)
        return value


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


def submit(request, form: forms.Form | forms.BaseFormSet, save, *, check=None):
    """The POST half of a form page: for a valid submitted form, run ``save(form.cleaned_data)`` (one
    service call) and return what it returns — or True when it returns nothing — so the view redirects.
    Returns None when nothing was submitted, the form is invalid, or the service refused; the refusal is
    then on the form, next to the field it names.

    ``check``, a function of the form's data, is the service's own check of its rules (the one the service
    runs again in its transaction), raising one ValidationError that names every rule broken. It runs with
    the fields that are valid even when others are not, so one submission shows the form's mistakes and the
    rules it breaks together, instead of the rules only once the fields are right. A check skips a rule
    whose fields it was not given."""
    if request.method != "POST":
        return None
    valid = form.is_valid()
    if check is not None and not rules_kept(form, check):
        valid = False
    if not valid:
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    return True if result is None else result


def rules_kept(form: forms.Form, check) -> bool:
    """Run a service's rule ``check`` on what of the form is valid (``form.cleaned_data``, which holds only
    the fields that passed); the rules it finds broken go on the form's fields. Returns whether it passed."""
    try:
        check(dict(form.cleaned_data))
    except ValidationError as error:
        apply_service_errors(form, error)
        return False
    return True


def action_as_message(request, run, *, form=None, done=None, about: str = "", invalid: str = "", apart=False) -> bool:
    """A button's one service call, or a small form's: with ``form``, ``run(form.cleaned_data)`` once the
    form is valid, else ``run()``. Bad input and a service's refusal become an error message (after
    ``about``, what it concerns), success ``done`` (a text, or a function of what the service returned;
    none when left out). ``invalid`` replaces the form's own errors with one text; with ``apart`` every
    error is a message of its own, so a page can list the reasons. Returns whether the action ran."""
    if form is not None and not form.is_valid():
        texts = [invalid] if invalid else list(_form_errors(form, apart))
        _error(request, texts if apart else [" ".join(texts)], about)
        return False
    try:
        result = run(form.cleaned_data) if form is not None else run()
    except ValidationError as error:
        _error(request, error.messages if apart else [" ".join(error.messages)], about)
        return False
    _success(request, done, result)
    return True


def _form_errors(form, apart: bool):
    """A form's errors after their field's label: one text per error, or per field."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for text in errors if apart else [" ".join(errors)]:
            yield f"{label}: {text}" if label else text


def _success(request, done, result) -> None:
    text = done(result) if callable(done) else done
    if text:
        messages.success(request, text)


def _error(request, texts, about: str) -> None:
    for text in texts:
        messages.error(request, f"{about}: {text}" if about else text)


def page_action(request, run, *, back: str, refused_back: str = "", page=None, **outcome):
    """The POST of a button or a small form on a record's page: one service call (``action_as_message``
    with ``outcome``: ``form``, ``done``, ``about``, ``invalid``, ``apart``), then back to the page
    (``back``; ``refused_back`` after a refusal, to show it where the user was). With ``page``, a function
    of the bound form that renders the record's page again, bad input and a refusal are instead shown on
    that form, next to its fields (status 400), and ``check`` may name the service's rule check to show the
    rules it breaks with them (see ``submit``)."""
    if page is None:
        ran = action_as_message(request, run, **outcome)
        return redirect(back if ran or not refused_back else refused_back)
    form, done, check = outcome.pop("form"), outcome.pop("done", None), outcome.pop("check", None)
    if outcome:
        raise TypeError(f"page_action with page takes no {', '.join(outcome)}")
    result = submit(request, form, run, check=check)
    if result is None:
        response = page(form)
        response.status_code = 400
        return response
    _success(request, done, result)
    return redirect(back)


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
