"""The form that sends a quotation version to the customer (contracts.services.delivery)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DocumentDelivery


class SendToCustomerForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("Send by"),
        choices=DocumentDelivery.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[DocumentDelivery.Channel.SMS],
        error_messages={"required": _("Choose SMS, e-mail or both.")},
    )
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
