"""The old system's endpoints, kept so its scripts go on working; deprecated for /api/sessions.

Same auth and envelope as the API; every answer, errors included, carries the `Deprecation`
and `Link` headers, and successful ones a `deprecated` field in the body.

Top to bottom: the bodies, the answer, the views.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_not_required
from rest_framework import serializers

from sessions_app import selectors, services
from sessions_app.api.serializers import NullableObjectField, success
from sessions_app.api.sessions import SessionSerializer, session_object
from sessions_app.api.views import LEGACY, Operation, answer, endpoint, request_body
from sessions_app.models import SessionType
from sessions_app.representations import EXCHANGE_CHOICES

if TYPE_CHECKING:
    from sessions_app.models import Session

NOTICE = "Use /api/sessions"
SUCCESSOR = '</api/sessions>; rel="successor-version"'

# --- bodies -------------------------------------------------------------------------------------


class LegacyTestStartSerializer(serializers.Serializer):
    market = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Default XBTUSD."
    )
    strategy = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Default TestBot."
    )
    strategy_params = NullableObjectField(required=False)
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)


class LegacyMarketStartSerializer(serializers.Serializer):
    market = serializers.CharField()
    exchange = serializers.ChoiceField(choices=EXCHANGE_CHOICES, required=False, allow_null=True)


# --- answer -------------------------------------------------------------------------------------


class LegacySessionAnswerSerializer(serializers.Serializer):
    success = success(True)
    session = SessionSerializer(allow_null=True)
    deprecated = serializers.CharField(help_text="Where to go instead.")


ANSWER = {200: LegacySessionAnswerSerializer}


def _answer(session: Session | None):
    body = session_object(session) if session else None
    return answer(LegacySessionAnswerSerializer, session=body, deprecated=NOTICE)


# --- views --------------------------------------------------------------------------------------


def deprecated(view):
    """The deprecation headers on whatever the view answers."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Deprecation"] = "true"
        response["Link"] = SUCCESSOR
        return response

    return login_not_required(wrapped)


def _operation(summary: str, *refusals: int, body=None) -> Operation:
    return Operation(summary, LEGACY, ANSWER, refusals, body=body, deprecated=True)


@deprecated
@endpoint(get=_operation("The newest test session (deprecated)"))
def latest_test(request):
    """The newest test session (or null). Deprecated: use GET /api/sessions?type=test."""
    return _answer(selectors.session_latest(session_type=SessionType.TEST))


@deprecated
@endpoint(get=_operation("The newest backtest session (deprecated)"))
def latest_backtest(request):
    """The newest backtest session (or null). Deprecated: use GET /api/sessions?type=backtest."""
    return _answer(selectors.session_latest(session_type=SessionType.BACKTEST))


@deprecated
@endpoint(
    post=_operation(
        "Create and start a test session (deprecated)", 400, 403, 409, body=LegacyTestStartSerializer
    )
)
def test_start(request):
    """Create and start a test session (market XBTUSD, strategy TestBot unless given).
    Deprecated: POST /api/sessions, then /api/sessions/<id>/start."""
    return _answer(services.legacy_test_start(user=request.user, data=request_body(request)))


@deprecated
@endpoint(
    post=_operation(
        "Create and start a scraper (deprecated)", 400, 403, 409, body=LegacyMarketStartSerializer
    )
)
def market_start(request):
    """Create and start a scraper for `market`. Deprecated: POST /api/sessions (type scraper)."""
    return _answer(services.legacy_market_start(user=request.user, data=request_body(request)))
