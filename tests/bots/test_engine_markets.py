"""Contract types from the exchanges' own metadata (recorded answers), and quanto PnL."""

from __future__ import annotations

import pytest
from conftest import T0, make_candles
from exchange_server import RecordedExchangeServer

from bots import runner
from bots.exchanges.base import ExchangeError
from bots.exchanges.binance import BinanceExchange
from bots.exchanges.bitmex import BitmexExchange
from bots.markets import MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest


@pytest.fixture(scope="module")
def server():
    with RecordedExchangeServer() as running:
        yield running


@pytest.fixture(scope="module")
def bitmex(server):
    return {listing.spec.symbol: listing for listing in BitmexExchange(base_url=server.url).fetch_markets()}


def test_bitmex_ethusd_is_a_quanto_contract_settling_in_xbt(bitmex):
    eth = bitmex["ETHUSD"].spec
    assert (eth.base, eth.quote, eth.settle, eth.contract_type) == ("ETH", "USD", "XBT", "quanto")
    assert eth.multiplier == 1e-6  # 100 satoshis per USD of price per contract
    assert eth.tick_size == 0.05 and bitmex["ETHUSD"].active


def test_bitmex_xbtusd_is_inverse_and_the_linear_one_settles_in_usdt(bitmex):
    xbt = bitmex["XBTUSD"].spec
    assert (xbt.settle, xbt.contract_type, xbt.multiplier, xbt.tick_size) == ("XBT", "inverse", 1.0, 0.1)
    usdt = bitmex["XBTUSDT"].spec
    assert (usdt.quote, usdt.settle, usdt.contract_type) == ("USDT", "USDT", "linear")


def test_bitmex_indices_and_settled_contracts_are_not_markets(bitmex, server):
    assert ".BXBT" not in bitmex and "XBTZ23" not in bitmex
    path, query = next(r for r in server.requests if r[0] == "/api/v1/instrument")
    assert query["filter"] == '{"state": "Open"}'


def test_binance_markets_come_from_ccxt_load_markets(server):
    listings = {m.spec.symbol: m for m in BinanceExchange(base_url=server.url).fetch_markets()}
    btc = listings["BTCUSDT"].spec
    assert (btc.base, btc.quote, btc.settle, btc.contract_type, btc.tick_size) == (
        "BTC",
        "USDT",
        "USDT",
        "linear",
        0.01,
    )
    assert listings["BTCUSDT"].active and not listings["SOLBTC"].active
    assert ("/api/v3/exchangeInfo", {}) in server.requests


def test_an_unreachable_exchange_is_an_exchange_error():
    with pytest.raises(ExchangeError):
        BitmexExchange(base_url="http://127.0.0.1:9", timeout=2).fetch_markets()


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("strategy", ["Scripted", "ScriptedRules"])
def test_a_quanto_trade_pays_price_points_times_multiplier_times_contracts(
    bitmex, strategy, compiled, monkeypatch
):
    """1,000 ETHUSD contracts long from 3,000 to 3,150: 150 * 0.000001 * 1,000 = 0.15 XBT
    gross; fees 7.5 bps of 1,000 * price * 0.000001 XBT at each end."""
    monkeypatch.setattr(runner, "COMPILED_RULES", compiled)
    eth: MarketSpec = bitmex["ETHUSD"].spec
    opens = [2990.0, 2995.0, 3000.0, 3050.0, 3150.0, 3100.0]
    candles = make_candles(opens, opens[1:] + [3100.0])
    if strategy == "Scripted":
        params = {"plan": {str(T0 + 60): 1000, str(T0 + 3 * 60): 0}}
    else:
        params = {"enter": T0 + 60, "exit": T0 + 3 * 60, "size": 1000}
    config = RunConfig(
        strategy=strategy,
        params=params,
        markets=[eth],
        initial_balance=1.0,
        fee_bps=7.5,
        slippage_bps=0.0,
        leverage=5,  # 1,000 contracts are worth ~3 XBT: margin for them
        strategy_packages=("scripted_strategies",),
    )
    result = run_backtest(config, [candles], ListSink())
    (trade,) = result.trades
    assert (trade.entry_price, trade.exit_price, trade.entry_size) == (3000.0, 3150.0, 1000)
    gross = (3150.0 - 3000.0) * 0.000001 * 1000
    fees = 0.00075 * 1000 * 0.000001 * (3000.0 + 3150.0)
    assert gross == pytest.approx(0.15)
    assert trade.currency == "XBT" and result.metrics["currency"] == "XBT"
    assert trade.fee == pytest.approx(fees, rel=1e-12)
    assert trade.realized_pnl == pytest.approx(gross - fees, rel=1e-12)
    assert result.metrics["total_pnl"] == pytest.approx(0.1453875, rel=1e-12)
    assert result.metrics["final_equity"] == pytest.approx(1.1453875, rel=1e-12)
