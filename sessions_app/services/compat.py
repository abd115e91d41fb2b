"""The old system's start calls, `/test/start` and `/market/start`, kept so its clients and
scripts go on working against this one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessions_app.errors import InvalidInput
from sessions_app.models import Session, SessionType
from sessions_app.services.lifecycle import scraper_start, session_create_and_start

TEST_START_FIELDS = ("market", "strategy", "strategy_params", "name")
TEST_START_DEFAULTS = {"market": "XBTUSD", "strategy": "TestBot"}


def legacy_test_start(*, user=None, data: Mapping[str, Any]) -> Session:
    """The old `POST /test/start`: a test session (XBTUSD and TestBot unless the body says
    otherwise), created and started at once; nothing is left behind when the start is refused."""
    _refuse_unknown(data, TEST_START_FIELDS)
    given = {field: value for field, value in data.items() if value not in (None, "")}
    return session_create_and_start(
        user=user, data={**TEST_START_DEFAULTS, **given, "type": SessionType.TEST}
    )


def legacy_market_start(*, user=None, data: Mapping[str, Any]) -> Session:
    """The old `POST /market/start`: a scraper for `market`, created and started at once."""
    _refuse_unknown(data, ("market", "exchange"))
    market = data.get("market")
    if not market:
        raise InvalidInput.from_errors({"market": ["This field is required."]})
    return scraper_start(user=user, market=market, exchange=data.get("exchange"))


def _refuse_unknown(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput.from_errors(
            {field: [f"Unknown field; this endpoint takes {', '.join(allowed)}."] for field in unknown}
        )
