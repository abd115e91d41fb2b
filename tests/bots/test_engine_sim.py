"""The sim exchange: deterministic candles, any range, every timeframe, realistic scales."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import T0

from bots.candles import TIMEFRAMES, concat
from bots.exchanges import get_exchange
from bots.exchanges import sim as sim_module
from bots.exchanges.sim import SimExchange

sim = SimExchange()


def test_the_same_candles_whether_asked_whole_or_in_pieces():
    whole = sim.fetch_candles("XBTUSD", "1m", T0, T0 + 3 * 86400)
    end, step = T0 + 3 * 86400, 7 * 3600 + 60
    pieces = concat(sim.fetch_candles("XBTUSD", "1m", a, min(a + step, end)) for a in range(T0, end, step))
    assert len(whole) == 3 * 1440
    assert whole.equals(pieces)
    assert whole.equals(SimExchange().fetch_candles("XBTUSD", "1m", T0, T0 + 3 * 86400))


def test_candles_differ_by_market_and_are_connected():
    a = sim.fetch_candles("XBTUSD", "1h", T0, T0 + 86400)
    b = sim.fetch_candles("BTCUSDT", "1h", T0, T0 + 86400)
    assert not np.array_equal(a.close, b.close)
    assert np.array_equal(a.close[:-1], a.open[1:])  # each candle opens at the last close


@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_every_timeframe_is_on_its_grid_with_consistent_high_and_low(timeframe):
    tf = TIMEFRAMES[timeframe]
    candles = sim.fetch_candles("ETHUSD", timeframe, T0 + 1, T0 + 500 * tf + 1)
    assert len(candles) == 500
    assert (candles.time % tf == 0).all() and (np.diff(candles.time) == tf).all()
    assert candles.time[0] == T0 + tf
    assert (candles.high >= np.maximum(candles.open, candles.close)).all()
    assert (candles.low <= np.minimum(candles.open, candles.close)).all()
    assert (candles.volume > 0).all()


@pytest.mark.parametrize(
    "symbol,level",
    [
        ("XBTUSD", 90_000),
        ("BTCUSDT", 90_000),
        ("ETHUSD", 3_000),
        ("SOLUSD", 150),
        ("XRPUSD", 0.6),
        ("DOGEUSD", 0.15),
    ],
)
def test_prices_have_realistic_scale_and_volatility(symbol, level):
    daily = sim.fetch_candles(symbol, "1d", T0, T0 + 365 * 86400)
    assert level / 2.5 < np.median(daily.close) < level * 2.5
    vol = np.diff(np.log(daily.close)).std()
    assert 0.01 < vol < 0.08
    minutes = sim.fetch_candles(symbol, "1m", T0, T0 + 86400)
    assert 0.0001 < np.diff(np.log(minutes.close)).std() < 0.005


def test_unknown_symbols_get_a_stable_price():
    a = sim.fetch_candles("GOOG", "1d", T0, T0 + 10 * 86400)
    assert a.equals(SimExchange().fetch_candles("GOOG", "1d", T0, T0 + 10 * 86400))
    assert 0.05 < a.close[0] < 2000


def test_the_registry_knows_sim():
    assert isinstance(get_exchange("sim"), SimExchange)
    with pytest.raises(KeyError):
        get_exchange("nowhere")


@pytest.mark.parametrize(
    "times",
    [
        1_704_067_200 + 60 * np.arange(20_000, dtype=np.int64),  # 1m candles
        1_704_067_200 + np.arange(5_000, dtype=np.int64),  # 1s candles: every knot
        1_704_067_200 + 86_400 * np.arange(400, dtype=np.int64),  # 1d: knots far apart
        np.sort(np.random.default_rng(7).integers(0, 2**40, 3_000)),  # any times, repeats too
        np.array([1_704_067_200] * 3 + [1_704_067_260], dtype=np.int64),
    ],
    ids=["1m", "1s", "1d", "random", "repeated"],
)
def test_the_compiled_value_noise_equals_the_numpy_reference_float_for_float(times):
    for seed, periods in ((sim_module._COMMON_SEED, sim_module._COMMON), (12345, sim_module._OWN)):
        amplitudes = [math.sqrt(p) for p in periods]
        fast = sim_module.value_noise(seed, times, periods, amplitudes)
        reference = sim_module.value_noise_reference(seed, times, periods, amplitudes)
        assert np.array_equal(fast, reference)


# --- long ranges in bounded chunks ----------------------------------------------------------------


def test_a_range_generated_in_chunks_is_the_range_generated_whole():
    sim = SimExchange()
    start = 1_704_067_200 + 17  # not on a chunk's or a day's edge

    whole = sim.candles("XBTUSD", "1s", start, start + 50_000, chunk=10**9)
    chunked = sim.candles("XBTUSD", "1s", start, start + 50_000, chunk=4_099)

    assert len(chunked) == 49_999 + 1 and chunked.time[0] == start
    for ours, theirs in zip(chunked.columns(), whole.columns(), strict=True):
        assert np.array_equal(ours, theirs)


def test_a_long_range_peaks_at_its_arrays_not_at_the_whole_ranges_temporaries():
    """8M 1s candles: 48 bytes a candle are the six arrays returned; generated at once the
    range peaked at 88 bytes a candle (a 50M-candle run: 4.4 GB instead of 2.6 GB)."""
    import tracemalloc

    sim = SimExchange()
    n, start = 8_000_000, 1_704_067_200
    sim.candles("XBTUSD", "1s", start, start + 10)
    tracemalloc.start()
    try:
        candles = sim.candles("XBTUSD", "1s", start, start + n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(candles) == n
    assert peak / n < 56, f"{peak / n:.1f} bytes a candle"
