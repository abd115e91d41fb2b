"""Run metrics (PnL, drawdown, Sharpe, Sortino, Calmar, ...) and the equity curve downsampled for charts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

DAY = 86400
MAX_CHART_POINTS = 2000
YEAR_DAYS = 365  # crypto markets trade every day


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
    """Returns between consecutive UTC days' last equity values (the first from the start).

    Only until the run stopped: once equity reaches 0 (out of money) there is nothing left to
    return on, so the day it reached 0 is the last (its return -100 %).
    """
    times = np.asarray(times, dtype=np.int64)
    equity = np.asarray(equity, dtype=np.float64)
    broke = np.flatnonzero(equity <= 0)
    if len(broke):
        times, equity = times[: broke[0] + 1], equity[: broke[0] + 1]
    if len(times) == 0:
        return np.empty(0)
    days = times // DAY
    last_of_day = np.flatnonzero(np.diff(days) != 0)
    closes = np.concatenate([[initial_balance], equity[last_of_day], [equity[-1]]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diff(closes) / closes[:-1]


def sharpe_of(returns: np.ndarray) -> float | None:
    """Mean / sample std (ddof 1) of daily returns x sqrt(365); None with fewer than two
    returns or when they do not vary (as empyrical's sharpe_ratio, whose answer is then NaN
    or infinite)."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2 or returns.max() == returns.min():
        return None
    std = returns.std(ddof=1)
    if not math.isfinite(std) or std == 0:
        return None
    return _clean(returns.mean() / std * math.sqrt(YEAR_DAYS))


def sortino_of(returns: np.ndarray) -> float | None:
    """Annualised mean daily return / annualised downside deviation (the root mean square of
    the returns below 0, over every return: empyrical's sortino_ratio with required return 0);
    None with fewer than two returns or none below 0."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return None
    downside = np.sqrt(np.mean(np.square(np.minimum(returns, 0.0)))) * math.sqrt(YEAR_DAYS)
    if not math.isfinite(downside) or downside == 0:
        return None
    return _clean(returns.mean() * YEAR_DAYS / downside)


def drawdown_of(returns: np.ndarray) -> float | None:
    """The largest fall of the compounded daily returns from a running peak (the start is the
    first peak), as a fraction in [0, 1]; None without returns."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) == 0:
        return None
    values = np.concatenate([[100.0], 100.0 * np.cumprod(1.0 + returns)])
    peaks = np.fmax.accumulate(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _clean(float(np.max((peaks - values) / peaks)))


def calmar_of(returns: np.ndarray) -> float | None:
    """Compound annual growth rate / max drawdown of the daily returns (empyrical's
    calmar_ratio, 365 days a year); None without a drawdown."""
    returns = np.asarray(returns, dtype=np.float64)
    drawdown = drawdown_of(returns)
    if drawdown is None or not drawdown > 0:
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        growth = np.prod(1.0 + returns) ** (YEAR_DAYS / len(returns)) - 1.0
    return _clean(float(growth) / drawdown)


def sharpe_ratio(times: np.ndarray, equity: np.ndarray, initial_balance: float) -> float | None:
    """The Sharpe ratio of the run's daily returns (sharpe_of)."""
    return sharpe_of(daily_returns(times, equity, initial_balance))


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
    funding_paid: float = 0.0,
    liquidations: int = 0,
    out_of_money: bool = False,
    orders_reduced: int = 0,
    orders_skipped: int = 0,
    leverage: float = 1.0,
    sizing: str = "units",
) -> dict[str, Any]:
    """Metrics of a run from its closed trades and mark-to-market equity at candle closes.

    `trades` carry `run_pnl` (PnL net of fees in the run currency). total_pnl is the change of
    equity (so an open live position counts at its mark); avg/best/worst are per closed trade.
    profit_factor, sharpe, sortino and calmar are None when undefined (no losing trade; under
    two days; no day down; no drawdown). The account's figures (funding_paid, liquidations,
    out_of_money, orders_reduced, orders_skipped, leverage, sizing) are the runner's, as given.
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
    returns = daily_returns(times, equity, initial_balance)
    return {
        "currency": currency,
        "initial_balance": float(initial_balance),
        "final_equity": final_equity,
        "total_pnl": total_pnl,
        "return_pct": total_pnl / initial_balance * 100.0 if initial_balance else 0.0,
        "trade_count": int(len(pnls)),
        "win_rate": float(len(wins) / len(pnls) * 100.0) if len(pnls) else 0.0,
        "max_drawdown": max_drawdown_pct(equity, initial_balance),
        "sharpe": sharpe_of(returns),
        "sortino": sortino_of(returns),
        "calmar": calmar_of(returns),
        "profit_factor": _clean(profit_factor),
        "avg_trade": float(pnls.mean()) if len(pnls) else 0.0,
        "best_trade": float(pnls.max()) if len(pnls) else 0.0,
        "worst_trade": float(pnls.min()) if len(pnls) else 0.0,
        "fees_paid": float(fees_paid),
        "funding_paid": float(funding_paid),
        "exposure_pct": float(exposed_candles / candles * 100.0) if candles else 0.0,
        "unrealized_pnl": float(unrealized_pnl),
        "candles": int(candles),
        "liquidations": int(liquidations),
        "out_of_money": bool(out_of_money),
        "orders_reduced": int(orders_reduced),
        "orders_skipped": int(orders_skipped),
        "leverage": float(leverage),
        "sizing": str(sizing),
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
