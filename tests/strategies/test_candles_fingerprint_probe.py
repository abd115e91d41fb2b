"""The data fingerprint known before loading: for sim from the request, for archive data from
the files' state it was last hashed on; a changed archive is hashed again."""

import numpy as np
import pytest

from bots import archive
from bots.candles import Candles
from strategies_app.market_data import candles_fingerprint, candles_fingerprint_probe, candles_load

START = 1_767_225_600  # 2026-01-01 UTC
DAY = 86_400
RANGE = {"exchange": "local", "symbols": ["GOOG"], "timeframe": "1m", "start": START, "end": START + 2 * DAY}


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    return settings.DATA_ROOT


def _archive(root, closes, start=START):
    n = len(closes)
    closes = np.asarray(closes, dtype=float)
    candles = Candles(start + 60 * np.arange(n), closes, closes, closes, closes, np.ones(n))
    archive.write(str(root), "local", "GOOG", "1m", candles)


def _hashed(probe):
    candles = candles_load(
        exchange="local", symbols=["GOOG"], timeframe="1m", start=RANGE["start"], end=RANGE["end"]
    )
    return candles_fingerprint(
        exchange="local", timeframe="1m", start=RANGE["start"], end=RANGE["end"], candles=candles, probe=probe
    )


def test_a_sim_fingerprint_is_known_without_loading_and_equals_the_loaded_one(data_root):
    probe = candles_fingerprint_probe(**{**RANGE, "exchange": "sim", "symbols": ["ETHUSD"]})
    candles = candles_load(
        exchange="sim", symbols=["ETHUSD"], timeframe="1m", start=START, end=START + 2 * DAY
    )
    loaded = candles_fingerprint(
        exchange="sim", timeframe="1m", start=START, end=START + 2 * DAY, candles=candles
    )
    assert probe.fingerprint == loaded


def test_an_archive_fingerprint_is_known_once_hashed_until_the_archive_changes(data_root):
    _archive(data_root, [1.0, 2.0, 3.0])
    first = candles_fingerprint_probe(**RANGE)
    assert first.fingerprint is None  # never hashed: the candles must be loaded
    hashed = _hashed(first)

    assert candles_fingerprint_probe(**RANGE).fingerprint == hashed  # same files: known

    _archive(data_root, [1.0, 2.0, 4.0])  # a re-import changes a candle
    changed = candles_fingerprint_probe(**RANGE)
    assert changed.fingerprint is None
    assert _hashed(changed) != hashed

    _archive(data_root, [5.0], start=START + DAY)  # a second day filled in
    assert candles_fingerprint_probe(**RANGE).fingerprint is None
