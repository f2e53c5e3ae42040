"""``{% firm_field %}``: the firm a staff form was rendered for, which ``FirmGuardMiddleware`` checks on POST.
Written beside every ``{% csrf_token %}`` (a builtin: no ``{% load %}`` needed)."""

from django import template
from django.utils.html import format_html

from renocrm.accounts.firm_guard import FIELD

register = template.Library()


@register.simple_tag(takes_context=True)
def firm_field(context):
    firm = context.get("current_firm")
    if firm is None:
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, firm.pk)
