from django import template

from renocrm.media import media_url

register = template.Library()


@register.filter
def signed_url(field_file) -> str:
    """``{{ photo.file|signed_url }}``: a time-limited link to an uploaded file (see renocrm.media)."""
    return media_url(field_file)
