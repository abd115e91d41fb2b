"""A run loads its whole range: at most MAX_RUN_CANDLES candles of its timeframe over its
markets, else a 400 naming range_end and nothing written. Before, a 1s backtest
from 1970 to now (about 1.8e9 candles, ~150 GB for the sim) was accepted."""

import time

from sessions_app.models import Session
from tests.conftest import _refused

BODY = {"type": "backtest", "market": "XBTUSD", "strategy": "TestBot", "timeframe": "1s"}
START = 1_704_067_200  # 2024-01-01 00:00 UTC


def test_a_1s_backtest_from_1970_is_refused_naming_range_end(operator_api):
    body = {**BODY, "range_start": 0, "range_end": int(time.time()) - 86_400}

    response = operator_api.post("/api/sessions", body, format="json")

    refused = _refused(response, 400, "range_end")
    message = refused["errors"]["range_end"][0]
    assert "1s candles" in message and "50,000,000" in message and "MAX_RUN_CANDLES" in message
    assert not Session.objects.exists()


def test_the_limit_counts_every_market_leg_and_follows_the_setting(operator_api, settings):
    settings.MAX_RUN_CANDLES = 7200
    one_hour = {**BODY, "range_start": START, "range_end": START + 3600}
    assert (
        operator_api.post("/api/sessions", {**one_hour, "range_end": START + 7200}, format="json").status_code
        == 201
    )
    _refused(
        operator_api.post("/api/sessions", {**one_hour, "range_end": START + 7201}, format="json"),
        400,
        "range_end",
    )
    # Two legs of an hour: 7,200 candles; of an hour and a second: over.
    pair = {**one_hour, "market": "XBTUSD+ETHUSD", "strategy": "PairTradeBot"}
    assert operator_api.post("/api/sessions", pair, format="json").status_code == 201
    _refused(
        operator_api.post("/api/sessions", {**pair, "range_end": START + 3601}, format="json"),
        400,
        "range_end",
    )
    # The same hours in 1m candles are far below it.
    assert (
        operator_api.post(
            "/api/sessions", {**one_hour, "timeframe": "1m", "range_end": START + 86_400}, format="json"
        ).status_code
        == 201
    )


def test_a_patch_that_widens_the_range_past_the_limit_is_refused(operator_api, settings):
    settings.MAX_RUN_CANDLES = 86_400
    created = operator_api.post(
        "/api/sessions", {**BODY, "range_start": START, "range_end": START + 86_400}, format="json"
    ).json()["session"]

    response = operator_api.patch(
        f"/api/sessions/{created['id']}", {"range_end": START + 86_401}, format="json"
    )

    _refused(response, 400, "range_end")
    assert Session.objects.get(pk=created["id"]).range_end == START + 86_400
