from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import pgettext

from ..masking import mask, may_see_contacts, revealable

register = template.Library()


@register.simple_tag(takes_context=True)
def contact(context, record, field: str):
    """``{% contact customer "mobile" %}``: the field masked, with a reveal button for those entitled to
    see it. Revealing is a recorded action (see ``renocrm.privacy.views.reveal``). Built with format_html
    rather than a template: list pages call it once per row."""
    record_type = record._meta.label_lower
    registered = revealable(record_type)
    if registered is None or field not in registered.fields:
        raise template.TemplateSyntaxError(f"{record_type}.{field} is not a registered contact field.")
    value = getattr(record, field)
    if not value:
        return format_html('<span class="contact">{}</span>', "—")
    masked = format_html('<span class="contact__masked">{}</span>', mask(registered.fields[field], value))
    request = context.get("request")
    button = ""
    if request is not None and may_see_contacts(request):
        button = format_html(
            ' <button type="button" class="contact__reveal link-button" hx-post="{}" hx-target="closest .contact"'
            ' hx-swap="outerHTML" title="{}" data-testid="reveal">{}</button>',
            reverse("privacy:reveal", args=[record_type, record.pk, field]),
            pgettext("contact details", "Show in full (recorded)"),
            pgettext("contact details", "Show"),
        )
    return format_html(
        '<span class="contact" data-contact="{}:{}:{}">{}{}</span>', record_type, record.pk, field, masked, button
    )
