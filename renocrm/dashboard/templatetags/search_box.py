from django import template

from renocrm.twofactor.middleware import member_signed_in

register = template.Library()


@register.inclusion_tag("dashboard/_header_search.html", takes_context=True)
def search_box(context):
    """The header's search box, for a member signed in to a firm (as the notice bell); rendering it costs no
    query."""
    return {"shown": member_signed_in(context.get("request"))}
