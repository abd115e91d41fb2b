"""The built-in `sim` exchange: candles that are a pure function of (market, timeframe, time).

Log price is a sum of value-noise octaves (random values on integer knots, smoothly
interpolated) whose amplitude grows with the square root of the period, which behaves like a
random walk at every scale up to ~100 days and stays near a realistic level beyond. Knot values
come from a counter-based hash (splitmix64), so the price at any second is computed directly,
vectorised, with no state: the same candle whatever range is asked for, past or live.

Markets share a slow "crypto market" factor and add their own faster noise, so pairs are
correlated and their log spread mean-reverts over hours (pair trading has something to find).
Candle open = P(t), close = P(t + timeframe) (consecutive candles connect); high/low extend
beyond open/close by hashed wicks scaled to the timeframe's volatility.
"""

from __future__ import annotations

import hashlib
import math

import numba
import numpy as np

from bots.candles import Candles, timeframe_seconds
from bots.exchanges.base import Capability, Exchange
from bots.funding import FundingRates, sim_rates
from bots.markets import market_spec

_U = np.uint64
_GOLDEN = _U(0x9E3779B97F4A7C15)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_KNOT_MUL = _U(0xD1B54A32D192ED03)
# Candles generated at a time (SimExchange.candles): 262,144, three days of 1s, half a year of 1m.
CHUNK_CANDLES = 1 << 18


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser over uint64 arrays (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _U(30))) * _M1
    z = (z ^ (z >> _U(27))) * _M2
    return z ^ (z >> _U(31))


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _unit(h: np.ndarray) -> np.ndarray:
    """uint64 hashes -> floats uniform in [-1, 1)."""
    return (h >> _U(11)).astype(np.float64) * (2.0 / 9007199254740992.0) - 1.0


def _knot_values(seed: int, knots: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _unit(splitmix64(knots.astype(np.uint64) * _KNOT_MUL + _U(seed)))


@numba.njit(cache=True, nogil=True)
def _knot_value(seed, knot):
    """_knot_values for one knot: splitmix64(knot * _KNOT_MUL + seed) as a float in [-1, 1)."""
    z = np.uint64(knot) * np.uint64(0xD1B54A32D192ED03) + seed + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (2.0 / 9007199254740992.0) - 1.0


@numba.njit(cache=True, nogil=True)
def _value_noise_compiled(seeds, shifts, amplitudes, times):
    """value_noise_reference, point by point in the same order of operations (so the same
    floats), hashing each knot once: sorted times share knots."""
    n = times.shape[0]
    out = np.zeros(n)
    for o in range(seeds.shape[0]):
        seed, shift, amp = seeds[o], shifts[o], amplitudes[o]
        period = np.int64(1) << shift
        inv = 1.0 / period
        k0 = np.int64(-1)
        v0 = v1 = 0.0
        fresh = True
        for i in range(n):
            t = times[i]
            knot = t >> shift
            if fresh or knot != k0:
                if not fresh and knot == k0 + 1:
                    v0 = v1
                else:
                    v0 = _knot_value(seed, knot)
                v1 = _knot_value(seed, knot + 1)
                k0 = knot
                fresh = False
            rem = t & (period - 1)
            if rem == 0:
                out[i] += amp * v0
            else:
                frac = rem * inv
                w = frac * frac * (3.0 - 2.0 * frac)
                out[i] += amp * (v0 + (v1 - v0) * w)
    return out


def _octave_seed(seed: int, octave: int) -> int:
    return int(splitmix64(np.array([seed + octave], dtype=np.uint64))[0])


def value_noise(seed: int, times: np.ndarray, periods: list[int], amplitudes: list[float]) -> np.ndarray:
    """Sum over octaves (power-of-two periods) of interpolated hashed knot values at `times`.

    Compiled; equal, float for float, to `value_noise_reference` (tests/bots/test_engine_sim.py).
    """
    times = np.ascontiguousarray(times, dtype=np.int64)
    if len(times) == 0:
        return np.zeros(0)
    if times.min() < 0:  # the knot cache assumes non-negative times; the reference does not
        return value_noise_reference(seed, times, periods, amplitudes)
    seeds = np.array([_octave_seed(seed, k) for k in range(len(periods))], dtype=np.uint64)
    shifts = np.array([p.bit_length() - 1 for p in periods], dtype=np.int64)
    return _value_noise_compiled(seeds, shifts, np.asarray(amplitudes, dtype=np.float64), times)


def load_compiled() -> None:
    """Have numba load (or, the first time, compile) the compiled value noise now: its first
    call otherwise pays for it, half a second and some 50,000 objects of numba's typing
    machinery that a served process would then create after freezing what it loaded."""
    value_noise(0, np.arange(2, dtype=np.int64), [1, 2], [1.0, 1.0])


def value_noise_reference(
    seed: int, times: np.ndarray, periods: list[int], amplitudes: list[float]
) -> np.ndarray:
    """Sum over octaves (power-of-two periods) of interpolated hashed knot values at `times`."""
    out = np.zeros(len(times))
    if len(times) == 0:
        return out
    t_min, t_max = int(times.min()), int(times.max())
    for octave, (period, amp) in enumerate(zip(periods, amplitudes, strict=True)):
        oseed = _octave_seed(seed, octave)
        shift = period.bit_length() - 1  # periods are powers of two
        knots = times >> shift
        rem = times & (period - 1)
        k_lo = t_min >> shift
        span = (t_max >> shift) - k_lo + 2
        if span <= 2 * len(times):
            table = _knot_values(oseed, np.arange(k_lo, k_lo + span, dtype=np.int64))
            idx = knots - k_lo
            v0 = table[idx]
            if not rem.any():
                out += amp * v0
                continue
            v1 = table[idx + 1]
        else:
            v0 = _knot_values(oseed, knots)
            if not rem.any():
                out += amp * v0
                continue
            v1 = _knot_values(oseed, knots + 1)
        frac = rem * (1.0 / period)
        w = frac * frac * (3.0 - 2.0 * frac)
        out += amp * (v0 + (v1 - v0) * w)
    return out


# Octave periods (seconds): the shared market factor is slow, each market's own noise fast.
_COMMON = [2**k for k in range(6, 24)]  # 64 s .. 97 days
_OWN = [2**k for k in range(0, 17)]  # 1 s .. 18 h
_OWN_WEIGHT = 0.75
# Measured once: std of one-day changes of (common + own noise) with unit sqrt amplitudes.
_DAILY_STD_UNIT = 420.0

# (price level, daily volatility, volume in base units per second) by base currency.
_PROFILES = {
    "XBT": (90_000.0, 0.028, 0.5),
    "BTC": (90_000.0, 0.028, 0.5),
    "ETH": (3_000.0, 0.035, 8.0),
    "SOL": (150.0, 0.045, 60.0),
    "XRP": (0.6, 0.04, 40_000.0),
    "DOGE": (0.15, 0.05, 300_000.0),
}
_COMMON_SEED = _seed("sim:crypto-market")


class SimExchange(Exchange):
    """Deterministic synthetic markets; no network."""

    name = "sim"
    label = "Simulated"
    # Needs no network, so it lists the USD markets and BTCUSDT.
    markets = ("XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD", "BTCUSDT")
    capabilities = frozenset({Capability.GENERATED, Capability.LIVE_FEED})
    generator_version = 1  # the compiled value noise (2026) gives the very same candles
    poll_seconds = 0.0

    def profile(self, symbol: str) -> tuple[float, float, float]:
        """(price level, daily volatility, volume per second) of a market."""
        spec = market_spec(symbol)
        if spec.base in _PROFILES:
            return _PROFILES[spec.base]
        u = (_seed("sim:level:" + symbol) >> 11) / 2.0**53
        level = 10.0 ** (-1.0 + 4.0 * u)  # 0.1 .. 1,000
        return level, 0.035, 1_000.0 / level

    def log_prices(self, symbol: str, times: np.ndarray) -> np.ndarray:
        """ln P at integer Unix seconds `times`."""
        level, daily_vol, _ = self.profile(symbol)
        times = np.asarray(times, dtype=np.int64)
        common = value_noise(_COMMON_SEED, times, _COMMON, [math.sqrt(p) for p in _COMMON])
        own = value_noise(_seed("sim:own:" + symbol), times, _OWN, [_OWN_WEIGHT * math.sqrt(p) for p in _OWN])
        return math.log(level) + (common + own) * (daily_vol / _DAILY_STD_UNIT)

    def candles(
        self, symbol: str, timeframe: str, start: int, end: int, *, chunk: int = CHUNK_CANDLES
    ) -> Candles:
        """Candles opening in [start, end) on the timeframe's grid, generated `chunk` candles at
        a time into the arrays returned: a long range (a 1s run of 50M candles) peaks
        at its arrays plus one chunk's temporaries, not at the whole range's (about 84 bytes a
        candle). Each candle is a function of its own time only, so the chunks change nothing."""
        tf = timeframe_seconds(timeframe)
        first = -(-int(start) // tf) * tf
        if end <= first:
            return Candles.empty()
        n = (int(end) - first + tf - 1) // tf
        if n <= chunk:
            return self._candles(symbol, tf, first, n)
        columns = [np.empty(n, dtype=np.int64), *(np.empty(n, dtype=np.float64) for _ in range(5))]
        for offset in range(0, n, chunk):
            part = self._candles(symbol, tf, first + offset * tf, min(chunk, n - offset))
            for column, values in zip(columns, part.columns(), strict=True):
                column[offset : offset + len(part)] = values
        return Candles(*columns)

    def _candles(self, symbol: str, tf: int, first: int, n: int) -> Candles:
        """The `n` candles opening at first, first + tf, ..."""
        grid = first + tf * np.arange(n + 1, dtype=np.int64)
        price = np.exp(self.log_prices(symbol, grid))
        open_, close = price[:-1], price[1:]
        times = grid[:-1]
        _, daily_vol, vol_per_s = self.profile(symbol)
        sigma = daily_vol * math.sqrt(tf / 86400.0)
        with np.errstate(over="ignore"):
            h = splitmix64(times.astype(np.uint64) * _KNOT_MUL + _U(_seed(f"sim:wick:{symbol}:{tf}")))
        mask = _U((1 << 21) - 1)
        u_high = (h & mask).astype(np.float64) / float(1 << 21)
        u_low = ((h >> _U(21)) & mask).astype(np.float64) / float(1 << 21)
        u_vol = ((h >> _U(42)) & mask).astype(np.float64) / float(1 << 21)
        high = np.maximum(open_, close) * np.exp(0.6 * sigma * u_high * u_high)
        low = np.minimum(open_, close) * np.exp(-0.6 * sigma * u_low * u_low)
        move = np.abs(np.log(close / open_)) / max(sigma, 1e-12)
        volume = vol_per_s * tf * np.exp(u_vol - 0.5) * (0.5 + 0.5 * move)
        return Candles(times, open_, high, low, close, volume)

    def fetch_candles(self, symbol: str, timeframe: str, start: int | None, end: int | None) -> Candles:
        if start is None or end is None:
            raise ValueError("The sim exchange needs an explicit [start, end) range.")
        return self.candles(symbol, timeframe, start, end)

    def fetch_funding(self, symbol: str, start: int, end: int) -> FundingRates:
        """bots.funding.sim_rates at the market's funding interval; none when not perpetual."""
        spec = self.market_spec(symbol)
        if not spec.perpetual:
            return FundingRates.empty()
        return sim_rates(symbol, start, end, spec.funding_interval_hours)
