"""The language to write to a user in: the one they picked for the Wagtail admin."""

from django.conf import settings


def preferred_language(user):
    """The user's admin language (Account > Preferences > Language), else the site's."""
    profile = getattr(user, "wagtail_userprofile", None)
    return (profile.preferred_language if profile else "") or settings.LANGUAGE_CODE


def short_date(day):
    """A date as the active language writes it in short (06/30/2025, 30/06/2025): e-mails never
    show ISO dates to people."""
    from django.utils.formats import date_format

    return date_format(day, "SHORT_DATE_FORMAT")


def mail_in_each_language(users, message):
    """E-mail `users` (those with an address), one e-mail per admin language, each written by
    `message()` (returning subject and body) in that language. Returns the number sent."""
    from django.core.mail import send_mail
    from django.utils import translation

    by_language = {}
    for user in users:
        if user.email:
            by_language.setdefault(preferred_language(user), set()).add(user.email)
    sent = 0
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            subject, body = message()
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(recipients))
    return sent
