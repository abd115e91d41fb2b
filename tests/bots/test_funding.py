"""Funding rates: their times, the sim exchange's rates, the archive's funding file, and the
BitMEX and Binance rates from recorded answers of the local exchange server."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import T0
from exchange_server import FIXTURES, RecordedExchangeServer

from bots import archive, funding
from bots.exchanges import get_exchange
from bots.exchanges.base import Capability, ExchangeError
from bots.exchanges.binance import BinanceExchange
from bots.exchanges.bitmex import BitmexExchange
from bots.exchanges.local import LocalExchange
from bots.funding import FundingRates, funding_times, sim_rate, sim_rates

HOUR, DAY = 3600, 86400


@pytest.fixture(scope="module")
def server():
    with RecordedExchangeServer() as running:
        yield running


def bitmex(server):
    return BitmexExchange(base_url=server.url, page_limit=250, pause=0)


def binance(server):
    return BinanceExchange(base_url=server.url, page_limit=250, rate_limit=False)


# --- times and sim rates ------------------------------------------------------------------------


def test_funding_times_are_every_interval_from_midnight_utc():
    times = funding_times(T0 + 1, T0 + DAY + 8 * HOUR, 8.0)
    assert times.tolist() == [T0 + 8 * HOUR, T0 + 16 * HOUR, T0 + DAY]  # the end is excluded
    assert funding_times(T0, T0 + 3 * HOUR, 1.0).tolist() == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert len(funding_times(T0 + 10, T0 + 10, 8.0)) == 0


def test_sim_rates_are_the_same_whatever_range_is_asked():
    week = sim_rates("XBTUSD", T0, T0 + 7 * DAY)
    day = sim_rates("XBTUSD", T0 + 2 * DAY, T0 + 3 * DAY)
    at = np.searchsorted(week.times, day.times)
    assert len(day) == 3 and np.array_equal(week.rates[at], day.rates)


def test_sim_rates_stay_within_a_hundredth_of_a_percent_and_differ_by_market():
    xbt = sim_rates("XBTUSD", T0, T0 + 365 * DAY)
    eth = sim_rates("ETHUSD", T0, T0 + 365 * DAY)
    assert len(xbt) == 3 * 365
    assert np.abs(xbt.rates).max() <= 0.0001 and np.abs(xbt.rates).max() > 0.00009
    assert (xbt.rates > 0).any() and (xbt.rates < 0).any()
    assert not np.allclose(xbt.rates, eth.rates)


def test_sim_rate_is_the_documented_formula():
    hashed = int.from_bytes(hashlib.sha256(b"funding:ETHUSD").digest()[:4], "little")
    phase = 2 * np.pi * hashed / 2**32
    t = T0 + 16 * HOUR
    d = t / 86400
    expected = 0.0001 * (
        0.5 * np.sin(2 * np.pi * d / 7 + phase) + 0.5 * np.sin(2 * np.pi * d / 2.3 + 2 * phase)
    )
    assert sim_rate("ETHUSD", np.array([t]))[0] == pytest.approx(expected, rel=1e-12)
    # A 1 h interval pays an eighth of the 8 h rate at the same time.
    assert sim_rate("ETHUSD", np.array([t]), 1.0)[0] == pytest.approx(expected / 8, rel=1e-12)


def test_the_sim_exchange_gives_its_rates_and_none_for_a_market_that_is_not_perpetual():
    sim = get_exchange("sim")
    rates = sim.fetch_funding("ETHUSD", T0, T0 + 2 * DAY)
    assert rates.times.tolist() == sim_rates("ETHUSD", T0, T0 + 2 * DAY).times.tolist()
    assert len(sim.fetch_funding("ABCEUR", T0, T0 + 2 * DAY)) == 0  # a guessed spec: not perpetual


def test_an_exchange_without_funding_history_gives_none():
    assert not LocalExchange.can(Capability.FUNDING_HISTORY)
    assert len(LocalExchange().fetch_funding("XBTUSD", T0, T0 + DAY)) == 0


def test_rates_from_pairs_are_sorted_and_the_last_of_a_time_wins():
    rates = FundingRates.from_pairs([(30, 0.3), (10, 0.1), (30, 0.4)])
    assert rates.pairs() == [[10, 0.1], [30, 0.4]]
    assert rates.between(11, None).pairs() == [[30, 0.4]] and len(rates.between(10, 30)) == 1


# --- the archive's funding file ----------------------------------------------------------------


def test_writing_rates_twice_adds_nothing_and_leaves_the_file_alone(tmp_path):
    rates = sim_rates("XBTUSD", T0, T0 + 10 * DAY)
    assert archive.write_funding(tmp_path, "bitmex", "XBTUSD", rates.times, rates.rates) == 30
    path = archive.funding_path(tmp_path, "bitmex", "XBTUSD")
    before = path.stat().st_mtime_ns
    assert archive.write_funding(tmp_path, "bitmex", "XBTUSD", rates.times, rates.rates) == 0
    assert path.stat().st_mtime_ns == before
    loaded = funding.archived(tmp_path, "bitmex", "XBTUSD", T0 + DAY, T0 + 2 * DAY)
    assert loaded.times.tolist() == [T0 + DAY, T0 + DAY + 8 * HOUR, T0 + DAY + 16 * HOUR]


def test_a_newer_rate_of_a_time_replaces_the_archived_one(tmp_path):
    archive.write_funding(tmp_path, "bitmex", "XBTUSD", np.array([T0, T0 + 8 * HOUR]), np.array([0.1, 0.2]))
    added = archive.write_funding(
        tmp_path, "bitmex", "XBTUSD", np.array([T0 + 8 * HOUR, T0 + 16 * HOUR]), np.array([0.25, 0.3])
    )
    assert added == 1
    assert funding.archived(tmp_path, "bitmex", "XBTUSD", None, None).pairs() == [
        [T0, 0.1],
        [T0 + 8 * HOUR, 0.25],
        [T0 + 16 * HOUR, 0.3],
    ]
    assert archive.funding_latest_time(tmp_path, "bitmex", "XBTUSD") == T0 + 16 * HOUR


def test_the_funding_file_hides_nothing_of_the_candle_archive(tmp_path):
    rates = sim_rates("XBTUSD", T0, T0 + DAY)
    archive.write_funding(tmp_path, "bitmex", "XBTUSD", rates.times, rates.rates)
    assert archive.inventory(tmp_path) == []  # not mistaken for a day of candles
    assert len(funding.archived(tmp_path, "bitmex", "ETHUSD", None, None)) == 0  # nothing downloaded


def test_the_archive_refuses_a_path_trick_for_funding(tmp_path):
    with pytest.raises(ValueError):
        archive.funding_path(tmp_path, "bitmex", "../../etc")


# --- BitMEX and Binance from recorded answers ---------------------------------------------------


def test_bitmex_pages_through_its_funding_rates(server):
    server.requests.clear()
    rates = bitmex(server).fetch_funding("XBTUSD", T0, T0 + 100 * DAY)
    recorded = json.loads((FIXTURES / "bitmex_funding_XBTUSD.json").read_text())
    assert len(rates) == 300
    assert rates.times[0] == T0 + 4 * HOUR and (np.diff(rates.times) == 8 * HOUR).all()
    assert rates.rates[0] == recorded[0]["fundingRate"] and rates.rates[-1] == recorded[-1]["fundingRate"]
    assert [path for path, _ in server.requests] == ["/api/v1/funding"] * 2  # 250 + 50
    first = server.requests[0][1]
    assert (first["symbol"], first["count"], first["startTime"]) == (
        "XBTUSD",
        "250",
        "2023-11-15T00:00:00.000Z",
    )


def test_bitmex_funding_keeps_to_the_range_end_exclusive(server):
    rates = bitmex(server).fetch_funding("XBTUSD", T0 + 4 * HOUR, T0 + DAY + 4 * HOUR)
    assert rates.times.tolist() == [T0 + 4 * HOUR, T0 + 12 * HOUR, T0 + 20 * HOUR]


def test_bitmex_funding_of_an_unknown_symbol_is_empty(server):
    assert len(bitmex(server).fetch_funding("NOPEUSD", T0, T0 + DAY)) == 0


def test_bitmex_funding_says_an_http_error(server):
    server.fail_next = 503
    with pytest.raises(ExchangeError, match="HTTP 503"):
        bitmex(server).fetch_funding("XBTUSD", T0, T0 + DAY)


def test_binance_pages_through_its_funding_rates_on_the_second(server):
    server.requests.clear()
    rates = binance(server).fetch_funding("BTCUSDT", T0, T0 + 100 * DAY)
    recorded = json.loads((FIXTURES / "binance_funding_BTCUSDT.json").read_text())
    assert len(rates) == 300
    assert rates.times[0] == T0 and (np.diff(rates.times) == 8 * HOUR).all()  # ms stamps rounded
    assert rates.rates[1] == float(recorded[1]["fundingRate"])
    assert [path for path, _ in server.requests] == ["/fapi/v1/fundingRate"] * 2
    assert server.requests[0][1]["symbol"] == "BTCUSDT" and server.requests[0][1]["limit"] == "250"


def test_binance_funding_of_an_unknown_symbol_is_an_exchange_error(server):
    with pytest.raises(ExchangeError, match="funding"):
        binance(server).fetch_funding("NOPEUSDT", T0, T0 + DAY)


# --- download into the archive ------------------------------------------------------------------


def test_a_download_is_idempotent_and_resumes(server, tmp_path):
    source = bitmex(server)
    assert funding.download(source, "XBTUSD", T0, T0 + 50 * DAY, str(tmp_path)) == 150
    server.requests.clear()
    assert funding.download(source, "XBTUSD", T0, T0 + 100 * DAY, str(tmp_path)) == 150
    # Resumed after the newest archived rate: the first request starts past it.
    assert server.requests[0][1]["startTime"] == "2024-01-03T20:00:01.000Z"
    assert funding.download(source, "XBTUSD", T0, T0 + 100 * DAY, str(tmp_path)) == 0
    stored = funding.archived(str(tmp_path), "bitmex", "XBTUSD", None, None)
    recorded = json.loads((FIXTURES / "bitmex_funding_XBTUSD.json").read_text())
    assert stored.rates.tolist() == [r["fundingRate"] for r in recorded]
