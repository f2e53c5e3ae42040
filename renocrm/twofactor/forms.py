from django import forms
from django.utils.translation import gettext_lazy as _

from renocrm.forms import StaffChoiceField


def code_field(label, *, help_text=""):
    # "otp_token": axes never records its value (AXES_SENSITIVE_PARAMETERS).
    return forms.CharField(
        label=label,
        max_length=20,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false", "size": 12}
        ),
    )


class CodeForm(forms.Form):
    """A code from the authenticator app, or one of the recovery codes."""

    otp_token = code_field(
        _("Code"), help_text=_("The 6-digit code your authenticator app shows, or one of your recovery codes.")
    )


class AuthenticatorCodeForm(forms.Form):
    """A code from the authenticator app only (to confirm it, or to make new recovery codes)."""

    otp_token = code_field(_("Code from your authenticator app"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].widget.attrs["inputmode"] = "numeric"


class PolicyForm(forms.Form):
    require_admin_two_factor = forms.BooleanField(
        label=_("Firm admins must sign in with two-factor sign-in"),
        required=False,
        help_text=_("Admins without it are asked to set it up at their next page. Other staff may choose."),
    )


class MemberResetForm(forms.Form):
    member = StaffChoiceField(required=True, label=_("Staff member"))
