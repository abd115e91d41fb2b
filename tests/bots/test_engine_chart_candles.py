"""Chart candles: OHLC aggregation (`resample`), and the archive's day-by-day aggregates
(`load_resampled`), which must equal aggregating the raw read and follow a rewritten file."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import T0

from bots import archive
from bots.candles import Candles, resample
from bots.exchanges.sim import SimExchange

sim = SimExchange()
DAY = 86400


def test_resample_takes_first_open_highest_high_lowest_low_last_close_and_summed_volume():
    times = np.array([0, 60, 120, 180, 300], dtype=np.int64)  # 240 missing
    candles = Candles(
        times,
        np.array([1.0, 2, 3, 4, 5]),
        np.array([1.5, 9, 3.5, 4.5, 5.5]),
        np.array([0.5, 1.5, 0.1, 3.5, 4.5]),
        np.array([1.2, 2.2, 3.2, 4.2, 5.2]),
        np.array([1.0, 1, 1, 1, 10]),
    )

    out = resample(candles, 180)

    assert out.time.tolist() == [0, 180]
    assert out.rows() == [(0, 1.0, 9.0, 0.1, 3.2, 3.0), (180, 4.0, 5.5, 3.5, 5.2, 11.0)]
    assert resample(Candles.empty(), 180).rows() == []


@pytest.mark.parametrize("seconds", [900, 3600, 21_600, 86_400, 7 * 86_400])
def test_the_archives_day_aggregates_equal_aggregating_the_raw_candles(tmp_path, seconds):
    candles = sim.fetch_candles("XBTUSD", "1m", T0, T0 + 20 * DAY)
    archive.write(tmp_path, "sim", "XBTUSD", "1m", candles)
    # Whole days, and a range that starts and ends inside days.
    for start, end in ((T0, T0 + 20 * DAY), (T0 + 5 * DAY + 3 * 3600 + 60, T0 + 17 * DAY + 7 * 3600)):
        raw = archive.load(tmp_path, "sim", "XBTUSD", "1m", start, end)
        fast = archive.load_resampled(tmp_path, "sim", "XBTUSD", "1m", start, end, seconds)
        slow = resample(raw, seconds)
        assert fast.time.tolist() == slow.time.tolist(), (start, end)
        for name in ("open", "high", "low", "close"):
            assert getattr(fast, name).tolist() == getattr(slow, name).tolist(), name
        # Volume summed day by day, then by week: the same up to the order of the additions.
        assert np.allclose(fast.volume, slow.volume, rtol=1e-12)


def test_a_rewritten_day_is_aggregated_again(tmp_path):
    candles = sim.fetch_candles("XBTUSD", "1m", T0, T0 + 2 * DAY)
    archive.write(tmp_path, "sim", "XBTUSD", "1m", candles)
    before = archive.load_resampled(tmp_path, "sim", "XBTUSD", "1m", T0, T0 + 2 * DAY, 3600)

    # A scraper's late correction of one candle: same count, new values, a new file.
    fix = candles[30:31]
    fix.high[:] = fix.high * 2
    archive.write(tmp_path, "sim", "XBTUSD", "1m", fix)
    path = archive.partition_path(tmp_path, "sim", "XBTUSD", "1m", T0 // DAY)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1_000_000))
    after = archive.load_resampled(tmp_path, "sim", "XBTUSD", "1m", T0, T0 + 2 * DAY, 3600)

    assert after.high[0] == pytest.approx(float(fix.high[0])) and after.high[0] > before.high[0]
    assert after.high[1:].tolist() == before.high[1:].tolist()


def test_a_missing_market_has_no_candles(tmp_path):
    assert len(archive.load_resampled(tmp_path, "sim", "XBTUSD", "1m", T0, T0 + DAY, 3600)) == 0
