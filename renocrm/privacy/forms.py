from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PrivacySettings


class RetentionForm(forms.ModelForm):
    """The firm's retention rule for lost leads; the model's validator refuses less than 30 days."""

    class Meta:
        model = PrivacySettings
        fields = ["lost_lead_retention_days"]
        help_texts = {
            "lost_lead_retention_days": _(
                "A lost lead is anonymised this many days after it was last changed; its customer is erased "
                "too when nothing else of theirs is kept. At least 30 days."
            )
        }
