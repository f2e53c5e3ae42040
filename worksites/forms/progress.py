from django import forms
from django.utils.translation import gettext_lazy as _

from worksites.services.media import MAX_FILES

MEDIA_ACCEPT = "image/*,video/*"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the service checks what they are."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(item, initial) for item in data if item]
        return [one(data, initial)] if data else []


class ProgressForm(forms.Form):
    # The camera first: it opens straight away on a phone; the gallery input below it picks earlier photos.
    files = MultipleFileField(
        label=_("Take photos or a video"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": MEDIA_ACCEPT, "capture": "environment", "multiple": True}),
    )
    gallery = MultipleFileField(
        label=_("Or choose from the gallery"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": MEDIA_ACCEPT, "multiple": True}),
    )
    note = forms.CharField(
        label=_("What was done today"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "enterkeyhint": "done"}),
    )
    phase = forms.ModelChoiceField(label=_("Phase"), queryset=None, required=False, empty_label="—")
    visible_to_homeowner = forms.BooleanField(label=_("The homeowner can see it"), required=False, initial=True)

    def __init__(self, *args, phases, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _("Up to %(max)s photos or videos in one update.") % {"max": MAX_FILES}
        self.fields["phase"].queryset = phases
        if current is not None:
            self.fields["phase"].initial = current.pk

    def clean(self):
        # The two inputs are one list of files for the service (which names a bad one under "files").
        data = super().clean()
        data["files"] = [*data.get("files", []), *data.pop("gallery", [])]
        return data
