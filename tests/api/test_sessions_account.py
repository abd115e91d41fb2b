"""The account in the API: leverage, sizing, maintenance_margin_pct and funding in the create
body, a change, a clone and the session's answer; each bad value a 400 naming its field, with
nothing written; all four part of the runs' config hash."""

import time

import pytest

from bots.runner import RunConfig
from sessions_app.models import Session
from sessions_app.services import config_hash

ACCOUNT = ("leverage", "sizing", "maintenance_margin_pct", "funding")


def backtest_range(days: int = 7) -> dict[str, int]:
    end = int(time.time()) - 86_400
    return {"range_start": end - days * 86_400, "range_end": end}


def _body(**fields):
    return {"type": "test", "market": "SOLUSD", "strategy": "SmaCross", **fields}


def test_the_account_defaults_to_an_unlevered_account_sized_in_units(operator_api):
    session = operator_api.post("/api/sessions", _body(), format="json").json()["session"]

    assert {k: session[k] for k in ACCOUNT} == {
        "leverage": 1.0,
        "sizing": "units",
        "maintenance_margin_pct": None,
        "funding": None,
    }


def test_it_stores_and_answers_the_account_given(operator_api):
    body = _body(
        leverage=12.5,
        sizing="equity",
        maintenance_margin_pct=0.75,
        funding=False,
        strategy_params={"n1": 5, "n2": 20, "position_size": 0.5},
    )

    answer = operator_api.post("/api/sessions", body, format="json")

    assert answer.status_code == 201, answer.content
    session = answer.json()["session"]
    assert {k: session[k] for k in ACCOUNT} == {
        "leverage": 12.5,
        "sizing": "equity",
        "maintenance_margin_pct": 0.75,
        "funding": False,
    }
    fetched = operator_api.get(f"/api/sessions/{session['id']}").json()["session"]
    assert {k: fetched[k] for k in ACCOUNT} == {k: session[k] for k in ACCOUNT}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"leverage": 0}, "leverage"),
        ({"leverage": 26}, "leverage"),  # SOLUSD allows 25x
        ({"leverage": "lots"}, "leverage"),
        ({"leverage": True}, "leverage"),
        ({"leverage": 1.00001}, "leverage"),  # more places than the column keeps
        ({"sizing": "percent"}, "sizing"),
        ({"sizing": 3}, "sizing"),
        (
            {"sizing": "equity", "strategy_params": {"n1": 5, "n2": 20, "position_size": 2}},
            "strategy_params.position_size",
        ),
        ({"maintenance_margin_pct": -0.1}, "maintenance_margin_pct"),
        ({"maintenance_margin_pct": 101}, "maintenance_margin_pct"),
        ({"funding": "yes"}, "funding"),
    ],
)
def test_it_refuses_a_bad_account_value_naming_the_field_and_writes_nothing(
    operator_api, assert_refused, row_counts, fields, named
):
    before = row_counts()

    body = assert_refused(operator_api.post("/api/sessions", _body(**fields), format="json"), 400, named)

    assert row_counts() == before
    assert set(body["errors"]) == {named}


def test_leverage_above_the_markets_maximum_says_the_maximum(operator_api, assert_refused):
    body = assert_refused(
        operator_api.post("/api/sessions", _body(leverage=50), format="json"), 400, "leverage"
    )
    assert "25" in body["errors"]["leverage"][0] and "SOLUSD" in body["errors"]["leverage"][0]


def test_a_pair_is_levered_up_to_its_lowest_maximum(operator_api, assert_refused):
    pair = {"market": "XBTUSD+SOLUSD", "strategy": "PairTradeBot"}
    body = assert_refused(operator_api.post("/api/sessions", _body(leverage=30, **pair), format="json"), 400)
    assert "25" in body["errors"]["leverage"][0]
    assert operator_api.post("/api/sessions", _body(leverage=25, **pair), format="json").status_code == 201


def test_sizing_by_equity_takes_a_fraction_of_the_margin(operator_api, assert_refused):
    params = {"n1": 5, "n2": 20, "position_size": 2}
    body = assert_refused(
        operator_api.post("/api/sessions", _body(sizing="equity", strategy_params=params), format="json"),
        400,
        "strategy_params.position_size",
    )
    assert body["errors"]["strategy_params.position_size"] == [
        'With sizing "equity" the position size is a fraction of the available margin in (0, 1]; got 2.'
    ]
    # The same size is a fine notional or a number of units.
    for sizing in ("units", "notional"):
        answer = operator_api.post(
            "/api/sessions", _body(sizing=sizing, strategy_params=params), format="json"
        )
        assert answer.status_code == 201, answer.content


def test_a_sweep_sized_by_equity_sweeps_fractions_only(operator_api, assert_refused):
    body = _body(
        type="backtest",
        sizing="equity",
        strategy_params={"n1": 5, "n2": 20, "position_size": 0.5},
        sweep={"position_size": [0.25, 1.5]},
        **backtest_range(),
    )
    assert_refused(operator_api.post("/api/sessions", body, format="json"), 400, "sweep")


def test_maintenance_margin_zero_is_allowed(operator_api):
    answer = operator_api.post("/api/sessions", _body(maintenance_margin_pct=0), format="json")
    assert answer.status_code == 201 and answer.json()["session"]["maintenance_margin_pct"] == 0.0


def test_the_account_is_part_of_the_config_hash_the_engine_computes(operator_api):
    made = {}
    for name, account in {
        "plain": {},
        "levered": {"leverage": 5},
        "by_equity": {"sizing": "equity", "strategy_params": {"n1": 5, "n2": 20, "position_size": 1}},
        "margin": {"maintenance_margin_pct": 2},
        "no_funding": {"funding": False},
    }.items():
        params = account.pop("strategy_params", {"n1": 5, "n2": 20, "position_size": 1})
        body = _body(type="backtest", strategy_params=params, **account, **backtest_range())
        made[name] = Session.objects.get(
            pk=operator_api.post("/api/sessions", body, format="json").json()["session"]["id"]
        )
    hashes = {name: session.runs.get().config_hash for name, session in made.items()}
    assert len(set(hashes.values())) == len(hashes)

    levered = made["levered"]
    engine = RunConfig.for_market(
        "SmaCross",
        levered.runs.get().params,
        "SOLUSD",
        exchange="sim",
        timeframe="1m",
        range_start=levered.range_start,
        range_end=levered.range_end,
        initial_balance=10_000.0,
        fee_bps=7.5,
        slippage_bps=0.0,
        leverage=5.0,
    )
    assert hashes["levered"] == engine.config_hash() == config_hash(levered, levered.runs.get().params)


def test_funding_null_and_true_hash_alike_on_a_perpetual(operator_api):
    """null means on where the market is a perpetual: the same run as true."""
    hashes = []
    span = backtest_range()
    for funding in (None, True):
        body = _body(type="backtest", funding=funding, **span)
        session_id = operator_api.post("/api/sessions", body, format="json").json()["session"]["id"]
        hashes.append(Session.objects.get(pk=session_id).runs.get().config_hash)
    assert hashes[0] == hashes[1]


def test_a_change_sets_the_account_and_checks_it_against_the_new_market(operator_api, assert_refused):
    session = operator_api.post("/api/sessions", _body(market="XBTUSD", leverage=80), format="json").json()[
        "session"
    ]
    url = f"/api/sessions/{session['id']}"

    changed = operator_api.patch(url, {"sizing": "notional", "funding": False}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["session"]["sizing"], changed.json()["session"]["funding"]) == ("notional", False)

    # XBTUSD allows 100x, SOLUSD 25x: the leverage kept is checked against the new market.
    assert_refused(operator_api.patch(url, {"market": "SOLUSD"}, format="json"), 400, "leverage")
    assert Session.objects.get(pk=session["id"]).market == "XBTUSD"


def test_a_clone_carries_the_account_and_may_change_it(operator_api):
    body = _body(leverage=3, sizing="notional", maintenance_margin_pct=1.5, funding=False)
    source = operator_api.post("/api/sessions", body, format="json").json()["session"]

    clone = operator_api.post(f"/api/sessions/{source['id']}/clone", {}, format="json").json()["session"]
    assert {k: clone[k] for k in ACCOUNT} == {k: source[k] for k in ACCOUNT}

    changed = operator_api.post(f"/api/sessions/{source['id']}/clone", {"leverage": 10}, format="json")
    assert changed.status_code == 201 and changed.json()["session"]["leverage"] == 10.0


def test_a_clone_refuses_a_bad_account_value(operator_api, assert_refused, row_counts):
    source = operator_api.post("/api/sessions", _body(), format="json").json()["session"]
    before = row_counts()
    assert_refused(
        operator_api.post(f"/api/sessions/{source['id']}/clone", {"sizing": "x"}, format="json"),
        400,
        "sizing",
    )
    assert row_counts() == before
