"""The language to write to a user in: the one they picked for the Wagtail admin."""

from django.conf import settings


def preferred_language(user):
    """The user's admin language (Account > Preferences > Language), else the site's."""
    profile = getattr(user, "wagtail_userprofile", None)
    return (profile.preferred_language if profile else "") or settings.LANGUAGE_CODE
