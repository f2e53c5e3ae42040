"""Forms of the staff pages (firm admins)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renocrm.forms import StaffChoiceField

from . import services
from .roles import Role


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=Role.choices, label=_("Roles"), **kwargs)


class StaffSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("active", _("Active")), ("inactive", _("Deactivated"))],
    )


class InvitationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    roles = RolesField()

    def clean(self):
        # Every rule at once: the fields' own errors and the service's (an address already invited …).
        data = super().clean()
        try:
            services.invitation_check(
                name=data.get("name", ""),
                mobile=data.get("mobile", ""),
                email=data.get("email", ""),
                roles=data.get("roles") or [],
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in self.errors:
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        return data


class RolesForm(forms.Form):
    roles = RolesField()


class DutiesForm(forms.Form):
    """The duty map: per duty, the roles besides firm admins (who always hold it) that hold it."""

    def __init__(self, *args, duties, **kwargs):
        super().__init__(*args, **kwargs)
        self.duties = duties
        choices = [(role.value, role.label) for role in Role if role != Role.ADMIN]
        for duty, label, holders, defaults in duties:
            default_labels = "、".join(str(Role(role).label) for role in defaults)
            self.fields[self.field_name(duty)] = forms.MultipleChoiceField(
                label=label,
                choices=choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=[role for role in holders if role != Role.ADMIN],
                help_text=_("Default: %(roles)s") % {"roles": default_labels},
            )

    @staticmethod
    def field_name(duty: str) -> str:
        return duty.replace(".", "__")

    def chosen(self) -> dict[str, list[str]]:
        return {duty: self.cleaned_data[self.field_name(duty)] for duty, *_rest in self.duties}


class DeactivationForm(forms.Form):
    """One successor picker per kind of open work the leaving member holds."""

    def __init__(self, *args, held, leaving, **kwargs):
        super().__init__(*args, **kwargs)
        self.held = held
        for work in held:
            field = StaffChoiceField(
                roles=work.kind.roles,
                required=True,
                label=work.kind.label,
                help_text=_("%(count)s to hand over") % {"count": work.count},
            )
            field.queryset = field.queryset.exclude(pk=leaving.pk)
            self.fields[work.kind.key] = field

    def successors(self) -> dict:
        return {key: user for key, user in self.cleaned_data.items() if user is not None}


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False), strip=False)
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(render_value=False), strip=False, required=False
    )

    def __init__(self, *args, existing_account: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_account = existing_account
        if existing_account:
            del self.fields["name"], self.fields["password_again"]
            self.fields["password"].label = _("Your existing password")

    def clean(self):
        data = super().clean()
        if not self.existing_account and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data
