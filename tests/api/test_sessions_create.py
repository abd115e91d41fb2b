"""POST /api/sessions: the create body, its refusals, and nothing written on bad input."""

import time

import pytest

from sessions_app.models import Run, Session, SessionEvent


def backtest_range(days: int = 7) -> dict[str, int]:
    end = int(time.time()) - 86_400
    return {"range_start": end - days * 86_400, "range_end": end}


BODY = {
    "name": "My BTC Test",
    "type": "test",
    "market": "XBTUSD",
    "strategy": "TestBot",
    "strategy_params": {"threshold": 0.3, "position_size": 50},
    "notes": "Testing new params",
}


def test_it_creates_a_session_from_the_documented_body(operator_api):
    before = int(time.time())

    response = operator_api.post("/api/sessions", BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"success", "session"}
    assert body["success"] is True
    session = body["session"]
    assert session["name"] == "My BTC Test"
    assert session["type"] == "test"
    assert session["status"] == "created"
    assert session["market"] == "XBTUSD"
    assert session["exchange"] == "sim"
    assert session["strategy"] == "TestBot"
    assert session["strategy_params"] == {"threshold": 0.3, "position_size": 50}
    assert session["notes"] == "Testing new params"
    assert session["timeframe"] == "1m"
    assert session["fee_bps"] == 7.5 and session["slippage_bps"] == 0.0
    assert session["initial_balance"] == 1.0  # XBTUSD settles in XBT
    assert session["created_by"] == "olga"
    assert session["cloned_from"] is None
    assert session["range_start"] is None and session["range_end"] is None
    assert isinstance(session["created_at"], int) and abs(session["created_at"] - before) <= 5
    for field in ("started_at", "stopped_at", "heartbeat_at", "pid", "worker", "error"):
        assert session[field] is None, field

    row = Session.objects.get(pk=session["id"])
    assert row.created_by.username == "olga"
    assert Run.objects.filter(session=row).count() == 1
    assert list(SessionEvent.objects.filter(session=row).values_list("event_type", flat=True)) == ["created"]


def test_it_fills_default_params_and_generates_a_name(operator_api):
    body = {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}

    first = operator_api.post("/api/sessions", body, format="json").json()["session"]
    second = operator_api.post("/api/sessions", body, format="json").json()["session"]

    assert first["strategy_params"] == {"threshold": 0.5, "position_size": 1}
    assert (first["name"], second["name"]) == ("BTC Test #1", "BTC Test #2")


def test_it_merges_partial_params_with_the_defaults(operator_api):
    body = {**BODY, "strategy_params": {"threshold": 0.2}}

    session = operator_api.post("/api/sessions", body, format="json").json()["session"]

    assert session["strategy_params"] == {"threshold": 0.2, "position_size": 1}


def test_it_creates_a_backtest_with_its_range_and_execution_settings(operator_api):
    window = backtest_range(days=3)
    body = {
        "type": "backtest",
        "market": "ETHUSD",
        "strategy": "SmaCross",
        **window,
        "strategy_params": {"n1": 5, "n2": 30},
        "timeframe": "5m",
        "initial_balance": 2500,
        "fee_bps": 5,
        "slippage_bps": "1.5",
    }

    response = operator_api.post("/api/sessions", body, format="json")

    assert response.status_code == 201, response.json()
    session = response.json()["session"]
    assert (session["range_start"], session["range_end"]) == (window["range_start"], window["range_end"])
    assert session["strategy_params"] == {"n1": 5, "n2": 30, "position_size": 0.05}
    assert session["timeframe"] == "5m"
    assert (session["initial_balance"], session["fee_bps"], session["slippage_bps"]) == (2500.0, 5.0, 1.5)
    assert session["name"] == "ETH Backtest #1"


def test_it_creates_a_scraper(operator_api):
    body = {"type": "scraper", "market": "DOGEUSD", "strategy": "MarketScraper"}

    session = operator_api.post("/api/sessions", body, format="json").json()["session"]

    assert (session["type"], session["strategy_params"]) == ("scraper", {"archive_interval": 60})


def test_it_accepts_a_pair_market_for_a_pair_strategy(operator_api):
    body = {"type": "test", "market": "XBTUSD+ETHUSD", "strategy": "PairTradeBot"}

    response = operator_api.post("/api/sessions", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["session"]["name"] == "BTC/ETH Test #1"


PAST = backtest_range()

REFUSALS = {
    "unknown strategy": ({**BODY, "strategy": "MoonBot", "strategy_params": None}, ["strategy"]),
    "market the strategy does not trade": ({**BODY, "market": "DOGEUSD"}, ["market"]),
    # SmaCross trades "any single market"; "*" must not let a pair through.
    "pair market for a single-market strategy": (
        {"type": "test", "market": "XBTUSD+ETHUSD", "strategy": "SmaCross"},
        ["market"],
    ),
    "unknown market": ({**BODY, "market": "FOOBAR"}, ["market"]),
    "type the strategy does not run": ({**BODY, "type": "scraper"}, ["type"]),
    "unknown type": ({**BODY, "type": "paper"}, ["type"]),
    "threshold above 1": ({**BODY, "strategy_params": {"threshold": 1.5}}, ["strategy_params.threshold"]),
    "threshold below 0": ({**BODY, "strategy_params": {"threshold": -0.1}}, ["strategy_params.threshold"]),
    "position size of the wrong type": (
        {**BODY, "strategy_params": {"position_size": "big"}},
        ["strategy_params.position_size"],
    ),
    "unknown strategy param": ({**BODY, "strategy_params": {"leverage": 5}}, ["strategy_params"]),
    "params not an object": ({**BODY, "strategy_params": [0.3, 50]}, ["strategy_params"]),
    "n1 not below n2": (
        {"type": "test", "market": "ETHUSD", "strategy": "SmaCross", "strategy_params": {"n1": 30, "n2": 10}},
        [],
    ),
    "backtest without a range": ({**BODY, "type": "backtest"}, ["range_start", "range_end"]),
    "range end before start": (
        {**BODY, "type": "backtest", "range_start": PAST["range_end"], "range_end": PAST["range_start"]},
        ["range_end"],
    ),
    "range end equal to start": (
        {**BODY, "type": "backtest", "range_start": PAST["range_start"], "range_end": PAST["range_start"]},
        ["range_end"],
    ),
    "range end in the future": (
        {
            **BODY,
            "type": "backtest",
            "range_start": PAST["range_start"],
            "range_end": int(time.time()) + 86_400,
        },
        ["range_end"],
    ),
    "range that is not a time": (
        {**BODY, "type": "backtest", "range_start": "last week", "range_end": PAST["range_end"]},
        ["range_start"],
    ),
    "range on a test session": ({**BODY, **PAST}, ["range_start", "range_end"]),
    "sweep on a test session": ({**BODY, "sweep": {"threshold": [0.2, 0.4]}}, ["sweep"]),
    "sweep of an unknown param": (
        {**BODY, "type": "backtest", **PAST, "sweep": {"leverage": [1, 2]}},
        ["sweep"],
    ),
    "sweep with a bad value": (
        {**BODY, "type": "backtest", **PAST, "sweep": {"threshold": [0.2, 3]}},
        ["sweep"],
    ),
    "unknown exchange": ({**BODY, "exchange": "mtgox"}, ["exchange"]),
    "unknown timeframe": ({**BODY, "timeframe": "2m"}, ["timeframe"]),
    "negative fee": ({**BODY, "fee_bps": -1}, ["fee_bps"]),
    "zero balance": ({**BODY, "initial_balance": 0}, ["initial_balance"]),
    "name not a string": ({**BODY, "name": 42}, ["name"]),
    "name too long": ({**BODY, "name": "x" * 256}, ["name"]),
    "missing everything": ({}, ["type", "market", "strategy"]),
    "unknown body field": ({**BODY, "colour": "blue"}, ["colour"]),
    "status set by hand": ({**BODY, "status": "running"}, ["status"]),
}


@pytest.mark.parametrize("body,fields", REFUSALS.values(), ids=REFUSALS.keys())
def test_it_refuses_bad_input_and_writes_nothing(operator_api, assert_refused, row_counts, body, fields):
    before = row_counts()

    response = operator_api.post("/api/sessions", body, format="json")

    assert_refused(response, 400, *fields)
    assert row_counts() == before


def test_it_names_the_threshold_in_the_error(operator_api, assert_refused):
    response = operator_api.post(
        "/api/sessions", {**BODY, "strategy_params": {"threshold": 1.5}}, format="json"
    )

    body = assert_refused(response, 400, "strategy_params.threshold")
    assert list(body["errors"]) == ["strategy_params.threshold"]
    assert "1" in body["errors"]["strategy_params.threshold"][0]
    assert body["error"].startswith("strategy_params.threshold")


def test_it_names_every_bad_field_at_once(operator_api, assert_refused):
    body = {**BODY, "market": "DOGEUSD", "strategy_params": {"threshold": 7}, "timeframe": "2m"}

    errors = assert_refused(operator_api.post("/api/sessions", body, format="json"), 400)["errors"]

    assert {"market", "strategy_params.threshold", "timeframe"} <= set(errors)


def test_it_refuses_an_unknown_field_naming_it(operator_api, assert_refused):
    body = assert_refused(
        operator_api.post("/api/sessions", {**BODY, "colour": "blue"}, format="json"), 400, "colour"
    )

    assert list(body["errors"]) == ["colour"]
    assert "colour" in body["error"]


@pytest.mark.parametrize(
    "raw",
    ['{"type": "test", ', "not json at all", '{"type": "test",}', "\x00\xff"],
    ids=["truncated", "plain text", "trailing comma", "binary"],
)
def test_it_answers_malformed_json_with_400(operator_api, assert_refused, row_counts, raw):
    before = row_counts()

    response = operator_api.post("/api/sessions", raw, content_type="application/json")

    assert_refused(response, 400, "body")
    assert row_counts() == before


def test_it_refuses_a_body_that_is_not_an_object(operator_api, assert_refused, row_counts):
    before = row_counts()

    assert_refused(operator_api.post("/api/sessions", [BODY], format="json"), 400, "body")
    assert_refused(operator_api.post("/api/sessions", "42", content_type="application/json"), 400, "body")
    assert row_counts() == before


def test_it_accepts_a_form_encoded_body(operator_api):
    response = operator_api.post(
        "/api/sessions", {"type": "test", "market": "ETHUSD", "strategy": "TestBot", "name": "Form"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["session"]["name"] == "Form"


def test_what_it_answers_is_what_it_stored(operator_api):
    """The create answer, the stored row and the run's config hash agree on the execution
    settings, even for more decimals than the columns keep (fee_bps/slippage_bps: 4)."""
    body = {**BODY, "fee_bps": "0.00001", "slippage_bps": "1.23456"}

    response = operator_api.post("/api/sessions", body, format="json")

    if response.status_code == 400:  # refusing extra precision is fine too
        assert {"fee_bps", "slippage_bps"} & set(response.json()["errors"])
        return
    created = response.json()["session"]
    stored = operator_api.get(f"/api/sessions/{created['id']}").json()["session"]
    assert (created["fee_bps"], created["slippage_bps"]) == (stored["fee_bps"], stored["slippage_bps"])
    from sessions_app.services import config_hash

    row = Session.objects.get(pk=created["id"])
    assert row.runs.get().config_hash == config_hash(row, row.strategy_params)


def test_it_refuses_a_balance_too_small_to_store(operator_api, assert_refused, row_counts):
    """initial_balance keeps 8 decimals: 1e-9 would be stored as 0, which "must be > 0" forbids."""
    before = row_counts()

    response = operator_api.post("/api/sessions", {**BODY, "initial_balance": "0.000000001"}, format="json")

    assert_refused(response, 400, "initial_balance")
    assert row_counts() == before
