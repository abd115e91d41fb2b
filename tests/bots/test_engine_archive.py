"""The archive: daily partitions, atomic and idempotent writes, fast range reads, gap checks."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import T0

from bots import archive
from bots.candles import concat
from bots.exchanges.sim import SimExchange

sim = SimExchange()
DAY = 86400


def test_a_written_range_reads_back_identically_from_daily_partitions(tmp_path):
    candles = sim.fetch_candles("XBTUSD", "1m", T0 + 3600, T0 + 2 * DAY + 3600)
    assert archive.write(tmp_path, "sim", "XBTUSD", "1m", candles) == len(candles)
    days = sorted(os.listdir(tmp_path / "archive" / "sim" / "XBTUSD"))
    assert days == [
        "2023-11-15",
        "2023-11-16",
        "2023-11-17",
    ]
    assert (tmp_path / "archive/sim/XBTUSD/2023-11-16/1m.npy").is_file()
    assert archive.load(tmp_path, "sim", "XBTUSD", "1m").equals(candles)
    part = archive.load(tmp_path, "sim", "XBTUSD", "1m", T0 + DAY - 60, T0 + DAY + 120)
    assert part.time.tolist() == [T0 + DAY - 60, T0 + DAY, T0 + DAY + 60]


def test_writing_the_same_candles_again_changes_nothing(tmp_path):
    candles = sim.fetch_candles("ETHUSD", "1m", T0, T0 + 600)
    archive.write(tmp_path, "sim", "ETHUSD", "1m", candles)
    path = tmp_path / "archive/sim/ETHUSD/2023-11-15/1m.npy"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert archive.write(tmp_path, "sim", "ETHUSD", "1m", candles) == 0
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_overlapping_writes_merge_without_duplicates(tmp_path):
    candles = sim.fetch_candles("ETHUSD", "1m", T0, T0 + 3600)
    assert archive.write(tmp_path, "sim", "ETHUSD", "1m", candles[:40]) == 40
    assert archive.write(tmp_path, "sim", "ETHUSD", "1m", candles[30:]) == 20
    assert archive.write(tmp_path, "sim", "ETHUSD", "1m", concat([candles[50:], candles[:10]])) == 0
    assert archive.load(tmp_path, "sim", "ETHUSD", "1m").equals(candles)


def test_a_crash_while_writing_leaves_the_old_partition_whole(tmp_path, monkeypatch):
    candles = sim.fetch_candles("SOLUSD", "1m", T0, T0 + 3600)
    archive.write(tmp_path, "sim", "SOLUSD", "1m", candles[:30])
    real_save = np.save

    def torn_save(handle, data, allow_pickle=False):
        real_save(handle, data, allow_pickle=allow_pickle)
        handle.truncate(100)  # half a file on disk...
        raise OSError("disk full")  # ...and the writer dies

    monkeypatch.setattr(archive.np, "save", torn_save)
    with pytest.raises(OSError):
        archive.write(tmp_path, "sim", "SOLUSD", "1m", candles)
    monkeypatch.undo()
    day_dir = tmp_path / "archive/sim/SOLUSD/2023-11-15"
    assert sorted(p.name for p in day_dir.iterdir()) == [".lock", "1m.npy"]  # no temp left
    assert archive.load(tmp_path, "sim", "SOLUSD", "1m").equals(candles[:30])


def test_the_data_check_counts_missing_candles_and_reports_the_first_gaps(tmp_path):
    candles = sim.fetch_candles("XBTUSD", "1m", T0, T0 + 100 * 60)
    keep = np.ones(100, dtype=bool)
    keep[10:13] = False  # 3 missing
    keep[50] = False  # 1 missing
    archive.write(tmp_path, "sim", "XBTUSD", "1m", candles[keep])
    check = archive.check(tmp_path, "sim", "XBTUSD", "1m", T0 - 120, T0 + 100 * 60)
    assert check.expected == 102 and check.present == 96 and check.missing == 6
    assert check.gaps == [(T0 - 120, T0), (T0 + 600, T0 + 780), (T0 + 3000, T0 + 3060)]
    assert not check.ok and "6 of 102" in check.summary()
    assert archive.check(tmp_path, "sim", "XBTUSD", "1m", T0, T0 + 600).ok


def test_latest_time_is_the_newest_candle(tmp_path):
    assert archive.latest_time(tmp_path, "sim", "XBTUSD", "1h") is None
    candles = sim.fetch_candles("XBTUSD", "1h", T0, T0 + 3 * DAY)
    archive.write(tmp_path, "sim", "XBTUSD", "1h", candles)
    assert archive.latest_time(tmp_path, "sim", "XBTUSD", "1h") == T0 + 3 * DAY - 3600
    assert archive.earliest_time(tmp_path, "sim", "XBTUSD", "1h") == T0
    assert archive.inventory(tmp_path) == [
        {
            "exchange": "sim",
            "symbol": "XBTUSD",
            "timeframe": "1h",
            "first": T0,
            "last": T0 + 3 * DAY - 3600,
        }
    ]


@pytest.mark.parametrize("symbol", ["../etc", "a/b", "", ".hidden"])
def test_names_cannot_escape_the_archive(tmp_path, symbol):
    with pytest.raises(ValueError):
        archive.load(tmp_path, "sim", symbol, "1m")


def test_candles_off_the_timeframe_grid_are_refused(tmp_path):
    candles = sim.fetch_candles("XBTUSD", "1m", T0, T0 + 600)
    candles.time[3] += 1
    with pytest.raises(ValueError, match="grid"):
        archive.write(tmp_path, "sim", "XBTUSD", "1m", candles)
