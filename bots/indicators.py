"""Rolling indicators whose value at row i depends only on rows [i-n+1, i], bit for bit.

Each window is reduced in the same order (oldest to newest) however long the input array is,
so a backtest over a year and a live feed that only keeps the last few candles compute the
very same floats and therefore take the very same decisions. Rows without a full window are
NaN (no warm-up from before the range). Costs are O(len * n) vectorised passes, cheap for the
window lengths strategies use.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

# Within `shared()`, per thread (a worker may run sessions in threads):
# memo: (function, input memory, window) -> (result, input kept alive); limit: its size.
_state = threading.local()


@contextmanager
def shared(limit: int | None = None) -> Iterator[None]:
    """Within this block each distinct indicator (function, input array, window) is computed
    once: a sweep's configs that share a window share its array. Results are read-only.
    `limit`: at most that many arrays kept (the oldest are forgotten, to be computed again
    if asked for), for a block as long as a whole sweep. A block inside another shares it."""
    outer = getattr(_state, "memo", None)
    if outer is None:
        _state.memo, _state.limit = {}, limit
    try:
        yield
    finally:
        if outer is None:
            _state.memo = _state.limit = None


def _memoised(fn):
    @functools.wraps(fn)
    def wrapper(x: np.ndarray, n: int):
        memo = getattr(_state, "memo", None)
        if memo is None or not isinstance(x, np.ndarray):
            return fn(x, n)
        key = (fn.__name__, x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str, int(n))
        hit = memo.get(key)
        if hit is None:
            value = fn(x, n)
            for array in value if isinstance(value, tuple) else (value,):
                array.flags.writeable = False  # shared between configs: never changed in place
            if _state.limit is not None and len(memo) >= _state.limit:
                del memo[next(iter(memo))]  # the oldest
            hit = memo[key] = (value, x)  # x kept alive so its address is not reused
        return hit[0]

    return wrapper


def _valid_rows(x: np.ndarray, n: int) -> int:
    if n < 1:
        raise ValueError("Window length must be at least 1.")
    return len(x) - n + 1


def _place(x: np.ndarray, n: int, values: np.ndarray | None) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if values is not None:
        out[n - 1 :] = values
    return out


@_memoised
def rolling_sum(x: np.ndarray, n: int) -> np.ndarray:
    m = _valid_rows(x, n)
    if m <= 0:
        return _place(x, n, None)
    acc = np.array(x[0:m], dtype=np.float64)
    for k in range(1, n):
        acc += x[k : k + m]
    return _place(x, n, acc)


@_memoised
def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average of the last n values."""
    return rolling_sum(x, n) / n


@_memoised
def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    m = _valid_rows(x, n)
    if m <= 0:
        return _place(x, n, None)
    acc = np.array(x[0:m], dtype=np.float64)
    for k in range(1, n):
        np.maximum(acc, x[k : k + m], out=acc)
    return _place(x, n, acc)


@_memoised
def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    m = _valid_rows(x, n)
    if m <= 0:
        return _place(x, n, None)
    acc = np.array(x[0:m], dtype=np.float64)
    for k in range(1, n):
        np.minimum(acc, x[k : k + m], out=acc)
    return _place(x, n, acc)


@_memoised
def rolling_mean_std(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation (two-pass, so no cancellation) of the last n."""
    m = _valid_rows(x, n)
    if m <= 0:
        return _place(x, n, None), _place(x, n, None)
    total = np.array(x[0:m], dtype=np.float64)
    for k in range(1, n):
        total += x[k : k + m]
    mean = total / n
    d = x[0:m] - mean
    acc = d * d
    for k in range(1, n):
        d = x[k : k + m] - mean
        acc += d * d
    return _place(x, n, mean), _place(x, n, np.sqrt(acc / n))


def shift(x: np.ndarray, k: int = 1) -> np.ndarray:
    """x delayed by k rows (NaN in front)."""
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out
