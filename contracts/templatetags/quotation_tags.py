"""Filters for quotation pages: a version's lines by room, and its amount before tax."""

from django import template

from contracts import selectors
from contracts.services import pricing

register = template.Library()


@register.filter
def by_room(items):
    return selectors.quotation_rooms(items)


@register.filter
def before_tax(version):
    return pricing.before_tax(version)
