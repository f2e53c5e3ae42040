import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from renocrm.mobiles import normalize_mobile

from .models import Tenant
from .services import firm_logo_clean

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _time_zones():
    # The firms' own zone first; the rest alphabetically.
    zones = sorted(zoneinfo.available_timezones() - {"Asia/Shanghai"})
    return [("Asia/Shanghai", "Asia/Shanghai"), *((zone, zone) for zone in zones if "/" in zone)]


class FirmProfileForm(forms.ModelForm):
    """The firm's profile. The logo is checked by the service (renocrm.uploads: the type from its bytes)."""

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP. Shown on printed documents and the homeowner portal."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zones)

    class Meta:
        model = Tenant
        fields = [
            "name",
            "short_name",
            "phone",
            "address",
            "business_licence_number",
            "time_zone",
            "language",
            "working_hours_start",
            "working_hours_end",
        ]
        widgets = {"working_hours_start": TIME, "working_hours_end": TIME}
        help_texts = {"short_name": _("Used where space is short, e.g. in SMS texts. Optional.")}

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def _post_clean(self):
        # Validation is the service's (firm_profile_update): no model validation against the unsaved instance.
        pass

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        # Checked here too, so a bad picture is shown with the form's other mistakes at once.
        return firm_logo_clean(logo) if logo else None


class SignupForm(forms.Form):
    firm_name = forms.CharField(label=_("Firm name"), max_length=200)
    admin_name = forms.CharField(label=_("Your name"), max_length=100)
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("You sign in with it."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    # A field people never see (the template hides it) and bots fill in.
    website = forms.CharField(label=_("Website"), required=False)

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data["mobile"])

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
