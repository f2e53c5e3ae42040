"""Template tags about firms for the pages outside any firm: sign-in and the no-firm page."""

from django import template
from django.conf import settings

from ..selectors import firms_not_operating_for

register = template.Library()


@register.simple_tag
def firms_not_operating(user):
    """``{% firms_not_operating user as held %}``: the user's firms that are suspended or awaiting approval."""
    return firms_not_operating_for(user)


@register.simple_tag
def firm_signup_open() -> bool:
    """Whether new firms may sign up (``FIRM_SIGNUP`` is "open" or "approval")."""
    return settings.FIRM_SIGNUP != "closed"


@register.simple_tag
def operator_contact() -> str:
    """Whom a firm contacts about its account (``FIRM_SUPPORT_CONTACT``); empty when not set."""
    return settings.FIRM_SUPPORT_CONTACT
