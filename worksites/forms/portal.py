from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.outbox.models import Notification

COPY_ONLY = ""


class PortalLinkForm(forms.Form):
    """Staff create a link and, optionally, send it; the recipient is checked by the service."""

    channel = forms.ChoiceField(
        label=pgettext_lazy("send the link", "Send"),
        required=False,
        choices=[
            (Notification.Channel.SMS, _("By SMS")),
            (Notification.Channel.EMAIL, _("By e-mail")),
            (COPY_ONLY, _("Don't send — I'll copy the link")),
        ],
    )
    recipient = forms.CharField(
        label=_("Mobile or e-mail"),
        required=False,
        max_length=200,
        help_text=_("Left empty for an SMS, the customer's mobile on file is used."),
    )
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, initial=30)


class HomeownerNameForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, error_messages={"required": _("Type your name.")})

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Type your name."))
        return name


class MaterialRejectForm(HomeownerNameForm):
    reason = forms.CharField(
        label=_("What is wrong"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what is wrong with the delivery.")},
    )


class SolutionChoiceForm(HomeownerNameForm):
    solution = forms.IntegerField(error_messages={"required": _("Choose one of the solutions.")})
