"""Issuing, revoking and checking the tokens of data feeds (competition.models.FeedToken).

A token is made, and its digest computed, as Wagtail makes its own API tokens
(`wagtail.models.APIToken`: a random secret with a checksum, stored as an HMAC of the site's
secret key, with SECRET_KEY_FALLBACKS honoured while keys rotate). The token itself is returned
once by `issue` and never stored, logged or shown again; the audit log names a token by its name
and first characters only."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import APIToken
from wagtail.models.api import DISPLAY_PREFIX_LENGTH

from ..models import FeedToken

# A new token is valid for a year unless the manager says otherwise.
DEFAULT_VALIDITY_DAYS = 365


def default_expiry():
    return timezone.localdate() + timedelta(days=DEFAULT_VALIDITY_DAYS)


def issue(token, user):
    """Save the new FeedToken `token` (its name, competition, agency and expiry set) with a fresh
    secret, log it, and return the token's plain text: the only time anybody sees it."""
    plaintext = APIToken.generate_token()
    token.key_hash = APIToken.hash_token(plaintext)
    token.prefix = plaintext[:DISPLAY_PREFIX_LENGTH]
    token.created_by = user
    with transaction.atomic():
        token.save()
        log(token, "competition.feed_token_issue", user=user, data=_scope(token))
    return plaintext


def revoke(token, user):
    """Revoke `token` for good (a revoked token stays listed, for the record). Revoking it again
    changes nothing."""
    with transaction.atomic():
        locked = FeedToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at, locked.revoked_by = timezone.now(), user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        log(locked, "competition.feed_token_revoke", user=user, data=_scope(locked))
    token.revoked_at, token.revoked_by = locked.revoked_at, locked.revoked_by
    return True


def _scope(token):
    return {
        "competition": token.competition.slug,
        "agency": token.agency.code,
        "expires_on": token.expires_on.isoformat(),
    }


@dataclass
class Refusal(Exception):
    """Why a presented token is refused: `code` for machines, `message` for people."""

    code: str
    message: str


def authenticate(plaintext):
    """The usable FeedToken of `plaintext` (with its competition and agency), or raise Refusal."""
    if not plaintext or not APIToken.validate_token_format(plaintext):
        raise Refusal("token_invalid", _("The token is not valid. Ask the competition's managers for one."))
    token = (
        FeedToken.objects.select_related("competition", "agency")
        .filter(key_hash__in=APIToken.candidate_key_hashes(plaintext))
        .first()
    )
    if token is None:
        raise Refusal("token_invalid", _("The token is not valid. Ask the competition's managers for one."))
    if token.is_revoked:
        raise Refusal(
            "token_revoked",
            _("This token was revoked on %(day)s. Ask the competition's managers for a new one.")
            % {"day": timezone.localtime(token.revoked_at).date().isoformat()},
        )
    if token.is_expired:
        raise Refusal(
            "token_expired",
            _("This token expired after %(day)s. Ask the competition's managers for a new one.")
            % {"day": token.expires_on.isoformat()},
        )
    return token


def note_use(token):
    """Remember when the token was last used (shown in the admin)."""
    token.last_used_at = timezone.now()
    FeedToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at)
