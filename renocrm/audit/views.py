from datetime import timedelta

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from renocrm.accounts.access import permission_required
from renocrm.privacy.masking import mask_audit_changes, may_see_contacts
from renocrm.tenancy.time import firm_day_start

from . import selectors


class AuditFilterForm(forms.Form):
    table = forms.ChoiceField(label=_("Kind of record"), required=False)
    actor = forms.TypedChoiceField(label=_("User"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, tables, actors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = [("", _("All kinds of record")), *tables.items()]
        self.fields["actor"].choices = [("", _("All users")), *actors]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned

    def filters(self) -> selectors.AuditFilters | None:
        """The filters in effect, dates as whole days in the firm's time zone; None when the form has errors."""
        if not self.is_bound:
            return selectors.AuditFilters()
        if not self.is_valid():
            return None
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return selectors.AuditFilters(
            table=data.get("table") or "",
            actor_id=data.get("actor"),
            since=firm_day_start(start) if start else None,
            until=firm_day_start(end + timedelta(days=1)) if end else None,
        )


@permission_required("audit.view")
def event_list(request):
    zone = request.tenant.zone
    form = AuditFilterForm(
        request.GET or None,
        tables=selectors.audited_tables(),
        actors=selectors.audit_actor_choices(tenant=request.tenant),
    )
    filters = form.filters()
    # A filter with errors shows nothing rather than everything, so no one mistakes the full trail for a match.
    if filters is None:
        page = selectors.AuditPage(events=[], next_cursor=None)
    else:
        page = selectors.audit_event_page(filters=filters, cursor=request.GET.get("cursor", ""))
    contacts_masked = not may_see_contacts(request)
    if contacts_masked:
        # Masked before the values are shortened for display, so a cut can never leave a number half shown.
        for event in page.events:
            event.changes = mask_audit_changes(event.table_name, event.changes)
    selectors.audit_events_describe(page.events)
    context = {
        "form": form,
        "page": page,
        "firm_zone": zone,
        "is_first_page": not request.GET.get("cursor"),
        "contacts_masked": contacts_masked,
    }
    # "Older events" through htmx appends the next rows to the table instead of loading a new page.
    if request.htmx and not request.htmx.boosted:
        return render(request, "audit/_rows.html", context)
    return render(request, "audit/event_list.html", context)
