"""Run metrics (PnL, drawdown, Sharpe, ...) and the equity curve downsampled for charts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

DAY = 86400
MAX_CHART_POINTS = 2000


def _clean(value: float | None) -> float | None:
    """`value`, or None when it is missing or not finite (JSON has no NaN or infinity)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def max_drawdown_pct(equity: np.ndarray, initial_balance: float | None = None) -> float:
    """Largest peak-to-trough fall of equity, as a positive percentage of the peak."""
    values = np.asarray(equity, dtype=np.float64)
    if initial_balance is not None:
        values = np.concatenate([[initial_balance], values])
    if len(values) == 0:
        return 0.0
    peaks = np.maximum.accumulate(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        falls = np.where(peaks > 0, (peaks - values) / peaks, 0.0)
    return float(falls.max() * 100.0)


def daily_returns(times: np.ndarray, equity: np.ndarray, initial_balance: float) -> np.ndarray:
    """Returns between consecutive UTC days' last equity values (the first from the start)."""
    times = np.asarray(times, dtype=np.int64)
    equity = np.asarray(equity, dtype=np.float64)
    if len(times) == 0:
        return np.empty(0)
    days = times // DAY
    last_of_day = np.flatnonzero(np.diff(days) != 0)
    closes = np.concatenate([[initial_balance], equity[last_of_day], [equity[-1]]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diff(closes) / closes[:-1]


def sharpe_ratio(times: np.ndarray, equity: np.ndarray, initial_balance: float) -> float | None:
    """Mean/std of daily returns * sqrt(365); None with fewer than two days or no variation."""
    returns = daily_returns(times, equity, initial_balance)
    if len(returns) < 2:
        return None
    std = returns.std(ddof=1)
    if not math.isfinite(std) or std == 0:
        return None
    return float(returns.mean() / std * math.sqrt(365))


def compute_metrics(
    *,
    trades: Sequence[Any],
    times: np.ndarray,
    equity: np.ndarray,
    initial_balance: float,
    currency: str,
    fees_paid: float,
    exposed_candles: int,
    candles: int,
    unrealized_pnl: float = 0.0,
) -> dict[str, Any]:
    """Metrics of a run from its closed trades and mark-to-market equity at candle closes.

    `trades` carry `run_pnl` (PnL net of fees in the run currency). total_pnl is the change of
    equity (so an open live position counts at its mark); avg/best/worst are per closed trade.
    profit_factor and sharpe are None when undefined (no losing trade; under two days).
    """
    equity = np.asarray(equity, dtype=np.float64)
    final_equity = float(equity[-1]) if len(equity) else float(initial_balance)
    if hasattr(trades, "run_pnls"):  # a TradeLog: its numbers without building records
        pnls = trades.run_pnls()
    else:
        pnls = np.array([t.run_pnl for t in trades], dtype=np.float64)
    wins = pnls[pnls > 0]
    losses = pnls[pnls < 0]
    total_pnl = final_equity - initial_balance
    gross_loss = -losses.sum()
    if gross_loss > 0:
        profit_factor = float(wins.sum() / gross_loss)
    else:
        profit_factor = None
    return {
        "currency": currency,
        "initial_balance": float(initial_balance),
        "final_equity": final_equity,
        "total_pnl": total_pnl,
        "return_pct": total_pnl / initial_balance * 100.0 if initial_balance else 0.0,
        "trade_count": int(len(pnls)),
        "win_rate": float(len(wins) / len(pnls) * 100.0) if len(pnls) else 0.0,
        "max_drawdown": max_drawdown_pct(equity, initial_balance),
        "sharpe": _clean(sharpe_ratio(times, equity, initial_balance)),
        "profit_factor": _clean(profit_factor),
        "avg_trade": float(pnls.mean()) if len(pnls) else 0.0,
        "best_trade": float(pnls.max()) if len(pnls) else 0.0,
        "worst_trade": float(pnls.min()) if len(pnls) else 0.0,
        "fees_paid": float(fees_paid),
        "exposure_pct": float(exposed_candles / candles * 100.0) if candles else 0.0,
        "unrealized_pnl": float(unrealized_pnl),
        "candles": int(candles),
    }


def bucket_size(n: int, max_points: int = MAX_CHART_POINTS) -> int:
    """Candles per bucket so that two points per bucket stay within max_points."""
    return max(1, math.ceil(n / max(1, max_points // 2)))


def downsample(
    times: np.ndarray, values: np.ndarray, bucket: int, offset: int = 0
) -> list[tuple[int, float]]:
    """Min and max of each bucket of `bucket` points (in time order), so extremes survive.

    `offset` is the global index of times[0]; buckets are aligned on global indices so that
    downsampling chunk by chunk equals downsampling the whole series.
    """
    times = np.asarray(times)
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return []
    if bucket <= 1:
        return list(zip(times.tolist(), values.tolist(), strict=True))
    # Bucket starts on global indices that are multiples of `bucket`.
    first = (-offset) % bucket
    starts = np.arange(first, n, bucket)
    if len(starts) == 0 or starts[0] != 0:
        starts = np.concatenate([[0], starts])
    ends = np.concatenate([starts[1:], [n]])
    points: list[tuple[int, float]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        seg = values[s:e]
        i_min = s + int(np.argmin(seg))
        i_max = s + int(np.argmax(seg))
        for i in sorted({i_min, i_max}):
            points.append((int(times[i]), float(values[i])))
    return points
