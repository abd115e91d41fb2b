"""Engine tests: pure Python, no Django (`pytest tests/bots -p no:django`)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from bots.candles import Candles  # noqa: E402

T0 = 1_700_006_400  # 2023-11-15 00:00:00 UTC, a day boundary


def make_candles(opens, closes, highs=None, lows=None, *, start: int = T0, tf: int = 60) -> Candles:
    """Candles on a `tf` grid from `start`; highs/lows default to max/min of open and close."""
    opens = np.asarray(opens, dtype=float)
    closes = np.asarray(closes, dtype=float)
    highs = np.maximum(opens, closes) if highs is None else np.asarray(highs, dtype=float)
    lows = np.minimum(opens, closes) if lows is None else np.asarray(lows, dtype=float)
    times = start + tf * np.arange(len(opens), dtype=np.int64)
    return Candles(times, opens, highs, lows, closes, np.ones(len(opens)))


def from_closes(closes, *, start: int = T0, tf: int = 60) -> Candles:
    """Candles whose open is the previous close (the first opens at its close)."""
    closes = np.asarray(closes, dtype=float)
    opens = np.concatenate([[closes[0]], closes[:-1]])
    return make_candles(opens, closes, start=start, tf=tf)


@pytest.fixture
def t0() -> int:
    return T0
