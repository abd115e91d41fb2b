"""A chart's work is bounded by the server, not by its parameters: whatever
`interval`, `from` and `to` say, one answer generates or reads at most a small multiple of
`max_points` candles. Before, an interval only 1s divides (2592001) made a 1s session build
1-second candles for the whole window: 2.0 s and +610 MB for 90 days in one web worker."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from bots import archive
from bots.candles import Candles
from strategies_app.market_data import CHART_READ_FACTOR, chart_interval

START = 1_704_067_200  # 2024-01-01 00:00 UTC
DAY = 86_400
INTERVALS = [None, 1, 7, 59, 61, 3599, 86_401, 2_592_001, 10**9]
MEMORY_LIMIT, TIME_LIMIT = 50 * 2**20, 0.5


def _measured(api, path: str) -> tuple[dict, int, float]:
    """The answer, the request's peak of Python-tracked allocations (numpy's arrays included)
    and its wall time, taken in a second request without the tracer."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        response = api.get(path)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.content[:300]
    began = time.perf_counter()
    api.get(path)
    return response.json(), peak, time.perf_counter() - began


@pytest.fixture
def second_backtest(make_session, operator_api):
    """A 1s backtest of 500 days on the generated market (43.2M candles, under MAX_RUN_CANDLES)."""
    session = make_session(
        type="backtest", timeframe="1s", range_start=START, range_end=START + 500 * DAY, exchange="sim"
    )
    operator_api.get(f"/api/sessions/{session.id}/chart")  # the sim's compiled code loaded once
    return session


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("window", ["whole", "90 days", "3 hours"])
def test_no_interval_or_window_makes_a_1s_chart_build_more_than_it_shows(
    operator_api, second_backtest, interval, window
):
    query = [] if interval is None else [f"interval={interval}"]
    if window == "90 days":
        query += [f"from={START + 400 * DAY}", f"to={START + 490 * DAY}"]
    elif window == "3 hours":
        query += [f"from={START + 7 * DAY + 5}", f"to={START + 7 * DAY + 3 * 3600 + 5}"]
    path = f"/api/sessions/{second_backtest.id}/chart?" + "&".join(query)

    body, peak, seconds = _measured(operator_api, path)

    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MB for {path}"
    assert seconds < TIME_LIMIT, f"{seconds:.2f} s for {path}"
    assert 0 < len(body["candles"]) <= 2000
    # The interval served is at least the one asked for, and a whole number of the timeframe's.
    assert body["interval"] >= (interval or 1)
    assert all(c[0] % body["interval"] == 0 for c in body["candles"])


def test_a_1s_archive_is_read_in_bounded_pieces(operator_api, make_session, settings, tmp_path):
    """Three days of 1s candles recorded: any window and interval reads whole days through
    their aggregates and at most the window's two edge days in full."""
    settings.DATA_ROOT = tmp_path
    times = np.arange(START, START + 3 * DAY, dtype=np.int64)
    close = 50_000 + np.cumsum(np.random.default_rng(3).normal(0, 1, len(times)))
    archive.write(
        tmp_path, "bitmex", "XBTUSD", "1s", Candles(times, close, close + 1, close - 1, close, close)
    )
    session = make_session(
        type="backtest", exchange="bitmex", timeframe="1s", range_start=START, range_end=START + 3 * DAY
    )
    operator_api.get(f"/api/sessions/{session.id}/chart")
    for interval in INTERVALS:
        for window in ("", f"&from={START + 100}&to={START + 2 * DAY + 100}"):
            path = f"/api/sessions/{session.id}/chart?interval={interval or ''}{window}"
            body, peak, seconds = _measured(operator_api, path)
            assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MB for {path}"
            assert seconds < TIME_LIMIT, f"{seconds:.2f} s for {path}"
            assert 0 < len(body["candles"]) <= 2000


@pytest.mark.parametrize("at_least", [0, 1, 2_592_001, 10**9])
@pytest.mark.parametrize("timeframe", ["1s", "5s", "1m", "4h", "1d"])
def test_the_interval_is_a_multiple_of_the_timeframe_within_the_points_and_the_reads(timeframe, at_least):
    from bots.candles import timeframe_seconds

    start, end = START, START + 400 * DAY
    seconds = chart_interval(
        start=start, end=end, timeframe=timeframe, max_points=500, at_least=at_least, exchange="sim"
    )
    base = timeframe_seconds(timeframe)
    assert seconds >= max(at_least, base) and seconds % base == 0
    assert (end - 1) // seconds - start // seconds + 1 <= 500
    # What the sim generates for it: the coarsest timeframe that divides it, at most 32x the points.
    from strategies_app.market_data import _read_seconds

    source = _read_seconds("sim", False, timeframe, seconds)
    assert seconds % source == 0
    assert source >= DAY or (end - start) // source <= CHART_READ_FACTOR * 500
