"""Template tags of the demo site's own templates."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def language_choices():
    """[(code, name)] of settings.LANGUAGES with each name as written there, in its own language
    ("English", "Tiếng Việt"), not translated into the current one: readers find their language
    whatever the page is in."""
    return [(code, str(name)) for code, name in settings.LANGUAGES]
