"""The old system's endpoints, kept so its scripts go on working; deprecated for /api/sessions.

Same auth and envelope as the API; every answer, errors included, carries the `Deprecation`
and `Link` headers, and successful ones a `deprecated` field in the body.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_not_required

from sessions_app import selectors, services
from sessions_app.api.views import endpoint, ok, request_body, session_object
from sessions_app.models import SessionType

if TYPE_CHECKING:
    from sessions_app.models import Session

NOTICE = "Use /api/sessions"
SUCCESSOR = '</api/sessions>; rel="successor-version"'


def deprecated(view):
    """The deprecation headers on whatever the view answers."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Deprecation"] = "true"
        response["Link"] = SUCCESSOR
        return response

    return login_not_required(wrapped)


def _answer(session: Session | None):
    body = session_object(session) if session else None
    return ok(session=body, deprecated=NOTICE)


@deprecated
@endpoint("GET")
def latest_test(request):
    """The newest test session (or null). Deprecated: use GET /api/sessions?type=test."""
    return _answer(selectors.session_latest(session_type=SessionType.TEST))


@deprecated
@endpoint("GET")
def latest_backtest(request):
    """The newest backtest session (or null). Deprecated: use GET /api/sessions?type=backtest."""
    return _answer(selectors.session_latest(session_type=SessionType.BACKTEST))


@deprecated
@endpoint("POST")
def test_start(request):
    """Create and start a test session (market XBTUSD, strategy TestBot unless given).
    Deprecated: POST /api/sessions, then /api/sessions/<id>/start."""
    return _answer(services.legacy_test_start(user=request.user, data=request_body(request)))


@deprecated
@endpoint("POST")
def market_start(request):
    """Create and start a scraper for `market`. Deprecated: POST /api/sessions (type scraper)."""
    return _answer(services.legacy_market_start(user=request.user, data=request_body(request)))
