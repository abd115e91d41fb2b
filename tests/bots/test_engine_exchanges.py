"""bitmex and binance against a local server answering with recorded responses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import T0
from exchange_server import FIXTURES, RecordedExchangeServer

from bots import archive
from bots.data import check_data, download, load_candles
from bots.exchanges import get_exchange
from bots.exchanges.base import ExchangeError
from bots.exchanges.binance import BinanceExchange
from bots.exchanges.bitmex import BitmexExchange
from bots.runner import ListSink, RunConfig, run_backtest, run_scraper


@pytest.fixture(scope="module")
def server():
    with RecordedExchangeServer() as running:
        yield running


def binance(server):
    return BinanceExchange(base_url=server.url, page_limit=250, rate_limit=False)


def bitmex(server):
    return BitmexExchange(base_url=server.url, page_limit=250, pause=0)


def test_binance_pages_through_klines(server):
    server.requests.clear()
    candles = binance(server).fetch_candles("BTCUSDT", "1m", T0 + 60, T0 + 560 * 60)
    recorded = json.loads((FIXTURES / "binance_klines_BTCUSDT_1m.json").read_text())
    assert len(candles) == 559
    assert candles.time[0] == T0 + 60 and (np.diff(candles.time) == 60).all()
    assert candles.close[0] == float(recorded[1][4]) and candles.volume[-1] == float(recorded[559][5])
    assert [p for p, _ in server.requests] == ["/api/v3/klines"] * 3  # 250 + 250 + 59
    assert server.requests[0][1]["symbol"] == "BTCUSDT" and server.requests[0][1]["interval"] == "1m"


def test_bitmex_buckets_become_open_time_candles(server):
    server.requests.clear()
    candles = bitmex(server).fetch_candles("XBTUSD", "1m", T0, T0 + 600 * 60)
    recorded = json.loads((FIXTURES / "bitmex_trade_bucketed_XBTUSD_1m.json").read_text())
    assert len(candles) == 600 and candles.time[0] == T0  # stamped 00:01 = opened 00:00
    assert candles.open[0] == recorded[0]["open"] and candles.close[-1] == recorded[-1]["close"]
    assert len(server.requests) == 3
    assert server.requests[0][1]["binSize"] == "1m" and server.requests[0][1]["partial"] == "false"


def test_bitmex_builds_15m_from_5m(server):
    fifteen = bitmex(server).fetch_candles("XBTUSD", "15m", T0, T0 + 10 * 3600)
    five = bitmex(server).fetch_candles("XBTUSD", "5m", T0, T0 + 10 * 3600)
    assert len(fifteen) == 40 and (fifteen.time % 900 == 0).all()
    assert fifteen.open[1] == five.open[3] and fifteen.close[1] == five.close[5]
    assert fifteen.high[1] == five.high[3:6].max() and fifteen.volume[1] == five.volume[3:6].sum()


def test_errors_are_reported_clearly(server):
    server.fail_next = 503
    with pytest.raises(ExchangeError, match="503"):
        bitmex(server).fetch_candles("XBTUSD", "1m", T0, T0 + 600)
    server.fail_next = 503
    with pytest.raises(ExchangeError, match="binance"):
        binance(server).fetch_candles("BTCUSDT", "1m", T0, T0 + 600)
    with pytest.raises(ExchangeError, match="5s"):
        binance(server).fetch_candles("BTCUSDT", "5s", T0, T0 + 600)


def test_download_is_resumable_and_feeds_a_backtest(server, tmp_path):
    source = bitmex(server)
    assert download(source, "XBTUSD", "1m", T0, T0 + 300 * 60, tmp_path, window=100) == 300
    server.requests.clear()
    # Again over a longer range: only the missing part is fetched.
    assert download(source, "XBTUSD", "1m", T0, T0 + 600 * 60, tmp_path, window=100) == 300
    assert all(q["startTime"] >= "2023-11-15T05:01" for _, q in server.requests)
    assert archive.latest_time(tmp_path, "bitmex", "XBTUSD", "1m") == T0 + 599 * 60
    checks = check_data("bitmex", ["XBTUSD"], "1m", T0, T0 + 700 * 60, tmp_path)
    assert checks["XBTUSD"].missing == 100 and checks["XBTUSD"].gaps == [(T0 + 600 * 60, T0 + 700 * 60)]
    config = RunConfig.for_market(
        "TestBot",
        {"threshold": 0.3, "position_size": 100},
        "XBTUSD",
        exchange="bitmex",
        range_start=T0,
        range_end=T0 + 700 * 60,
        initial_balance=1.0,
    )
    result = run_backtest(
        config, load_candles("bitmex", "XBTUSD", "1m", T0, T0 + 700 * 60, tmp_path), ListSink()
    )
    assert result.candles == 600 and result.trades


def test_a_scraper_records_a_polled_feed(server, tmp_path):
    class Clock:
        now = T0 + 200 * 60 + 5.0

        def __call__(self):
            return self.now

        def sleep(self, seconds):
            self.now += seconds

    clock = Clock()
    source = binance(server)
    feed = source.live(["BTCUSDT"], "1m", start=T0, clock=clock, sleep=clock.sleep)
    config = RunConfig.for_market(
        "MarketScraper", {"archive_interval": 1}, "BTCUSDT", exchange="binance", range_end=T0 + 260 * 60
    )
    result = run_scraper(config, feed, ListSink(), tmp_path)
    assert result.metrics["data_points"] == 260
    assert len(archive.load(tmp_path, "binance", "BTCUSDT", "1m")) == 260


def test_the_registry_builds_them():
    assert get_exchange("bitmex").name == "bitmex"
    assert get_exchange("binance").name == "binance"
