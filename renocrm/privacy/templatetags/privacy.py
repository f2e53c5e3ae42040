from django import template
from django.template.loader import render_to_string

from ..masking import mask, may_see_contacts, revealable

register = template.Library()


@register.simple_tag(takes_context=True)
def contact(context, record, field: str, label: str = ""):
    """``{% contact customer "mobile" %}``: the field masked, with a reveal button for those entitled to
    see it. Revealing is a recorded action (see ``renocrm.privacy.views.reveal``)."""
    record_type = record._meta.label_lower
    registered = revealable(record_type)
    if registered is None or field not in registered.fields:
        raise template.TemplateSyntaxError(f"{record_type}.{field} is not a registered contact field.")
    value = getattr(record, field)
    request = context.get("request")
    return render_to_string(
        "privacy/_contact.html",
        {
            "masked": mask(registered.fields[field], value),
            "has_value": bool(value),
            "may_reveal": request is not None and may_see_contacts(request),
            "record_type": record_type,
            "record_id": record.pk,
            "field": field,
            "label": label,
        },
    )
