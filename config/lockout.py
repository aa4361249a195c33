"""Sign-in lockout (django-axes, settings in config/settings/base.py): the reader's address
behind the reverse proxy, and the page a locked-out user sees.

After AXES_FAILURE_LIMIT wrong passwords for one user name from one address, that user name
cannot sign in from that address until AXES_COOLOFF_TIME has passed since the last of them
(further tries while locked out do not move that time). An administrator lifts a lockout with
`python manage.py axes_reset_username NAME` (docs/security.md, "Sign-in")."""

import ipaddress

from django.conf import settings
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _trusted(address):
    trusted = settings.FORWARDED_ALLOW_IPS
    return "*" in trusted or address in trusted


def client_ip(request):
    """The address of the client: REMOTE_ADDR, unless that is a trusted proxy (FORWARDED_ALLOW_IPS,
    as for gunicorn); then the right-most address of X-Forwarded-For that is not a trusted proxy
    itself. Each proxy appends the address it received the request from, so what a client puts
    into the header itself stays on the left and is never taken for its address."""
    address = request.META.get("REMOTE_ADDR", "")
    if not _trusted(address):
        return address
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not an address: nothing further left can be trusted
        address = hop
        if not _trusted(hop):
            break
    return address


def retry_at(request, credentials):
    """When the locked-out user name may sign in from this address again."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_cool_off

    attempts = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    times = [attempt.attempt_time for queryset in attempts for attempt in queryset]
    return max(times, default=timezone.now()) + get_cool_off(request)


def lockout_message(request, credentials):
    at = timezone.localtime(retry_at(request, credentials))
    minutes = max(1, -(-int((at - timezone.now()).total_seconds()) // 60))
    return ngettext(
        "Too many failed sign-in attempts for this account from your network. Try again after %(time)s "
        "(in %(minutes)s minute), or ask an administrator to unlock the account.",
        "Too many failed sign-in attempts for this account from your network. Try again after %(time)s "
        "(in %(minutes)s minutes), or ask an administrator to unlock the account.",
        minutes,
    ) % {"time": date_format(at, "TIME_FORMAT"), "minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in form again, with the lockout as its error (what to do and when), answered
    with 429 Too Many Requests; a plain page when the form is not at hand."""
    message = lockout_message(request, credentials)
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    if isinstance(original_response, TemplateResponse) and form is not None and hasattr(form, "add_error"):
        form.errors.clear()
        form.add_error(None, message)
        return TemplateResponse(
            request, original_response.template_name, context, status=settings.AXES_HTTP_RESPONSE_CODE
        ).render()
    return render(
        request,
        "lockout.html",
        {"message": message, "title": _("Sign-in locked")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
