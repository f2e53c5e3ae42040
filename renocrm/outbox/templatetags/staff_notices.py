from django import template

from renocrm.twofactor.middleware import member_signed_in

register = template.Library()


@register.inclusion_tag("outbox/_notice_bell.html", takes_context=True)
def notice_bell(context):
    """The bell in the page header, for a member signed in to a firm. Its count is fetched by the page itself
    (on load, then every minute), so rendering a page costs no query for it. Not while a two-factor step is
    owed: the poll would only be sent to that step."""
    return {"shown": member_signed_in(context.get("request"))}
