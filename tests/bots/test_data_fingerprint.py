"""The data fingerprint: the same for the same candles, different for different ones."""

import numpy as np

from bots.candles import Candles
from bots.data import data_fingerprint, load_candles

START = 1_767_225_600
DAY = 86_400


def _candles(closes):
    n = len(closes)
    times = START + 60 * np.arange(n)
    closes = np.asarray(closes, dtype=float)
    return Candles(times, closes, closes, closes, closes, np.ones(n))


def test_a_sim_fingerprint_is_its_generator_version_markets_timeframe_and_range():
    candles = {"XBTUSD": load_candles("sim", "XBTUSD", "1m", START, START + DAY)}
    first = data_fingerprint("sim", "1m", START, START + DAY, candles)
    assert first == data_fingerprint("sim", "1m", START, START + DAY, candles)
    assert len(first) == 16
    assert first != data_fingerprint("sim", "1m", START, START + 2 * DAY, candles)
    assert first != data_fingerprint("sim", "5m", START, START + DAY, candles)
    assert first != data_fingerprint("sim", "1m", START, START + DAY, {"ETHUSD": candles["XBTUSD"]})


def test_an_archive_fingerprint_hashes_the_loaded_arrays():
    same = data_fingerprint("local", "1m", START, START + DAY, {"GOOG": _candles([1, 2, 3])})
    assert same == data_fingerprint("local", "1m", START, START + DAY, {"GOOG": _candles([1, 2, 3])})
    assert same != data_fingerprint("local", "1m", START, START + DAY, {"GOOG": _candles([1, 2, 4])})
