"""The data feed API (docs/feeds.md), made with django-ninja: Wagtail 8 brings it and builds its
own new API on it, and it derives the OpenAPI schema the site serves from the same schemas that
check each request.

`POST <prefix>v1/values` with `Authorization: Bearer <feed token>` records values for the
commitment lines of the token's agency in the token's competition (competition.feed);
`GET <prefix>v1/openapi.json` is the schema. Every answer is JSON, errors included: `detail` for
people, `code` for machines and, for refused values, `errors` naming each row and column."""

import logging
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from . import conf
from .domain import feed_tokens
from .domain.scoreboard import board_cache
from .feed import post_values

logger = logging.getLogger(__name__)


class DecimalParser(Parser):
    """JSON numbers read as decimals, never as binary floats: 0.1 stays 0.1."""

    def parse_body(self, request):
        import json

        return json.loads(request.body, parse_float=Decimal)


class FeedTokenAuth(HttpBearer):
    """`Authorization: Bearer <feed token>`. Unlike ninja's own bearer class, it never logs what
    it was sent (a token must never reach a log), and says why a token is refused."""

    def __call__(self, request):
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorised("token_missing", _("Send the feed token as: Authorization: Bearer <token>."))
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token):
        try:
            return feed_tokens.authenticate(token)
        except feed_tokens.Refusal as refusal:
            raise Unauthorised(refusal.code, refusal.message) from None


class Unauthorised(AuthenticationError):
    def __init__(self, code, message):
        super().__init__(401, message)
        self.code = code


class PerTokenThrottle(SimpleRateThrottle):
    """COMPETITION_FEED_RATE requests per token, counted in the cache boards are kept in (shared by
    every process)."""

    scope = "competition_feed"

    def __init__(self):
        super().__init__(rate=conf.get("FEED_RATE"))

    @property
    def cache(self):
        return board_cache()

    def allow_request(self, request):
        # The setting as it is now (the instance is made once, when the module is imported).
        self.num_requests, self.duration = self.parse_rate(conf.get("FEED_RATE"))
        return super().allow_request(request)

    def get_cache_key(self, request):
        return f"competition:feed-rate:{request.auth.pk}"


class FeedAPI(NinjaAPI):
    """An API whose URLs sit inside the app's own namespace (`competition`, docs/integration.md)."""

    def get_root_path(self, path_params):
        return reverse(f"competition:{self.urls_namespace}:api-root", kwargs=path_params)


api = FeedAPI(
    title="Emulation competitions: data feed",
    version="1",
    description=(
        "Values for an agency's commitment lines, sent by the agency's own system with a feed token that "
        "the competition's managers issue in the admin. See docs/feeds.md."
    ),
    urls_namespace="competition_feed",
    docs_url=None,  # the schema only: no page loading a viewer from elsewhere
    parser=DecimalParser(),
    auth=FeedTokenAuth(),
)


class FeedValue(Schema):
    """One value, as a row of the `values` import."""

    target: str = Field(description="The target's code, e.g. T1.")
    reported_on: str = Field(
        description="The date the value was measured (YYYY-MM-DD).", json_schema_extra={"format": "date"}
    )
    value: Decimal | str = Field(description="The measured value: a number, with a dot for decimals.")
    note: str = Field("", description="A note shown with the value (optional).")
    competition: str | None = Field(None, description="The competition's slug; the token's when left out.")
    agency: str | None = Field(None, description="The agency's code; the token's when left out.")

    model_config = {"extra": "forbid"}


class FeedPost(Schema):
    values: list[FeedValue] = Field(description="The values, each a row of the `values` import.")

    model_config = {"extra": "forbid"}


class RowError(Schema):
    row: int | None = Field(description="The value's position in `values`, from 1 (none: the whole request).")
    column: str
    message: str


class Refused(Schema):
    detail: str
    code: str
    errors: list[RowError] = []


class ValueOutcome(Schema):
    row: int
    target: str
    reported_on: str
    result: str = Field(description="created, updated or unchanged")
    status: str = Field(description="accepted (counts on the scoreboards) or submitted (waits for a manager)")
    id: int = Field(description="The submission's id in the admin.")


class Recorded(Schema):
    competition: str
    agency: str
    created: int
    updated: int
    unchanged: int
    values: list[ValueOutcome]


def refused(request, status, code, detail, errors=()):
    return api.create_response(request, {"detail": str(detail), "code": code, "errors": list(errors)}, status=status)


@api.exception_handler(Unauthorised)
def on_unauthorised(request, exc):
    return refused(request, 401, exc.code, exc)


@api.exception_handler(ValidationError)
def on_invalid(request, exc):
    errors = []
    for error in exc.errors:
        location = [part for part in error.get("loc", ()) if part not in ("body", "payload")]
        if len(location) > 1 and location[0] == "values" and isinstance(location[1], int):
            row, column = location[1] + 1, str(location[2]) if len(location) > 2 else "values"
        else:
            row, column = None, str(location[0]) if location else "values"
        if not any((seen["row"], seen["column"]) == (row, column) for seen in errors):
            # A value that is neither a number nor a text fails both: one error is enough.
            errors.append({"row": row, "column": column, "message": error.get("msg", "")})
    return refused(request, 400, "invalid", _("The request was refused: nothing was written."), errors)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    if exc.status_code == 429:
        return refused(
            request,
            429,
            "rate_limited",
            _("Too many requests with this token: wait as Retry-After says, then send again."),
        )
    if exc.status_code == 400:
        return refused(request, 400, "unreadable", _("The request body is not valid JSON."))
    return refused(request, exc.status_code, "error", exc)


@api.exception_handler(Exception)
def on_error(request, exc):
    # Never a traceback to the caller; the transaction was rolled back, so nothing was written.
    logger.exception("A data feed request failed")
    return refused(request, 500, "server_error", _("The request failed on the server: nothing was written."))


@api.post(
    "/v1/values",
    response={200: Recorded, 400: Refused, 401: Refused, 429: Refused},
    throttle=[PerTokenThrottle()],
    summary="Send values for the agency's commitment lines",
    operation_id="post_values",
    url_name="values",
)
def values(request, payload: FeedPost):
    """Records every value, or none: a request with any refused value writes nothing and answers 400 with
    the row and column of each error. Sending the same values again changes nothing."""
    token = request.auth
    limit = conf.get("FEED_MAX_VALUES")
    if len(payload.values) > limit:
        message = _("At most %(limit)s values per request: send them in several requests.") % {"limit": limit}
        return refused(request, 400, "too_many_values", message)
    result = post_values(token, [value.model_dump() for value in payload.values])
    if result.errors:
        return refused(request, 400, "invalid", _("The request was refused: nothing was written."), result.errors)
    return {
        "competition": token.competition.slug,
        "agency": token.agency.code,
        "created": result.count("created"),
        "updated": result.count("updated"),
        "unchanged": result.count("unchanged"),
        "values": result.values,
    }
