"""Forms of the integrations pages: an API key, a webhook endpoint."""

from django import forms
from django.utils.translation import gettext_lazy as _

from renocrm.accounts.roles import COSTS_SCOPE, GROUPS, PAYMENTS_SCOPE, SCOPES
from renocrm.outbox.events import EVENT_TYPES
from renocrm.privacy.masking import CONTACTS_SCOPE

from .apis import ApiKeySerializer

GROUP_LABELS = {
    "leads": _("Leads and customers"),
    "contracts": _("Quotations and contracts"),
    "worksites": _("Worksites"),
    "aftercare": _("Warranty and repairs"),
    "callbacks": _("Callbacks"),
    "complaints": _("Complaints"),
    "reports": _("Reports"),
    "audit": _("Audit trail"),
    "firm": _("Firm settings"),
    "integrations": _("API keys and webhooks"),
}


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Who uses the key, e.g. the partner's name."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(scope, scope) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one scope.")},
    )
    rate = forms.CharField(
        label=_("Rate limit"),
        max_length=20,
        required=False,
        help_text=_("Requests per second, minute, hour or day, such as 600/min; empty: the default."),
    )

    def scope_rows(self):
        """(group label, [(scope, ticked)] for read and write) for the grouped checkboxes."""
        ticked = set(self["scopes"].value() or [])
        return [
            (GROUP_LABELS[group], [(f"{group}:{mode}", f"{group}:{mode}" in ticked) for mode in ("read", "write")])
            for group in GROUPS
        ]

    def contacts_ticked(self) -> bool:
        return CONTACTS_SCOPE in (self["scopes"].value() or [])

    def payments_ticked(self) -> bool:
        return PAYMENTS_SCOPE in (self["scopes"].value() or [])

    def costs_ticked(self) -> bool:
        return COSTS_SCOPE in (self["scopes"].value() or [])

    def clean(self):
        # The API's own serializer decides, so the page accepts exactly what POST /api/v1/api-keys/ accepts.
        cleaned = super().clean()
        serializer = ApiKeySerializer(data=cleaned)
        if not serializer.is_valid():
            for field, errors in serializer.errors.items():
                if self.has_error(field):
                    continue  # the form's own message already says it
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return cleaned


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Your receiver's address. RenoCRM POSTs each event there as JSON."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, f"{name} — {label}") for name, label in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event, including kinds added later."),
    )

    include_contacts = forms.BooleanField(
        label=_("Send contact details"),
        required=False,
        help_text=_(
            "Mobile numbers and addresses in events go out in full. Unticked, they are masked (138****1234), "
            "as for anyone without the contact permission."
        ),
    )

    def __init__(self, *args, endpoint=None, contacts_allowed=False, **kwargs):
        if endpoint is not None:
            kwargs.setdefault(
                "initial",
                {
                    "url": endpoint.url,
                    "description": endpoint.description,
                    "event_types": endpoint.event_types,
                    "include_contacts": endpoint.include_contacts,
                },
            )
        super().__init__(*args, **kwargs)
        if not contacts_allowed:
            # Not offered to whoever may not see contact details themselves; the service refuses it too.
            del self.fields["include_contacts"]
        if endpoint is not None:
            # Types set through the API that this list does not know stay ticked rather than silently dropped.
            known = {name for name, _label in EVENT_TYPES}
            extra = [(name, name) for name in endpoint.event_types if name not in known]
            if extra:
                self.fields["event_types"].choices = [*self.fields["event_types"].choices, *extra]


class EndpointActiveForm(forms.Form):
    active = forms.BooleanField(required=False)
