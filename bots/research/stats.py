"""Overfitting statistics of an optimization study, pure functions on numpy arrays.

- deflated_sharpe: the Deflated Sharpe Ratio of the best trial (Bailey and Lopez de Prado, 2014).
- pbo: the Probability of Backtest Overfitting by combinatorially symmetric cross-validation
  (Bailey, Borwein, Lopez de Prado and Zhu, 2015).
- monte_carlo: percentiles of max drawdown and return over reshuffled and resampled trades.
- heatmap: the mean objective over two parameters.

Sharpe ratios here are per period (daily), mean / sample standard deviation (ddof 1), unless a
name says annual. The normal distribution is the standard library's (statistics.NormalDist), so
nothing here needs scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np

EULER_GAMMA = 0.5772156649015329
YEAR_DAYS = 365
HEATMAP_BINS = 20
_NORMAL = NormalDist()


def _finite(value: float | None) -> float | None:
    """`value` as a float, or None when it is missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _zero_spread(std: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """True where a standard deviation is rounding noise next to the size of the data."""
    return ~(std > 1e-12 * scale)


# --- Deflated Sharpe Ratio ------------------------------------------------------------------


def expected_max_sharpe(n_trials: float, variance: float) -> float:
    """Expected maximum Sharpe ratio of `n_trials` independent trials whose true Sharpe is 0 and
    whose estimated Sharpes have variance `variance` (Bailey and Lopez de Prado 2014, eq. 6):

        SR0 = sqrt(V[SR_n]) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))

    gamma the Euler-Mascheroni constant. With one trial (nothing was selected) or no dispersion
    it is 0, as skfolio's expected_max_sharpe_ratio.
    """
    if not n_trials >= 1 or not math.isfinite(n_trials):
        raise ValueError(f"n_trials must be at least 1, got {n_trials!r}")
    if not variance >= 0 or not math.isfinite(variance):
        raise ValueError(f"variance must be finite and non-negative, got {variance!r}")
    if n_trials == 1 or variance == 0:
        return 0.0
    spread = (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials) + EULER_GAMMA * _NORMAL.inv_cdf(
        1 - 1 / (n_trials * math.e)
    )
    return math.sqrt(variance) * spread


def probabilistic_sharpe(sr: float, sr0: float, n: int, skew: float, kurt: float) -> float | None:
    """Probability that the true Sharpe exceeds `sr0`, given an estimated per-period Sharpe `sr`
    over `n` returns of skewness `skew` and (Pearson, non-excess: 3 for a normal) kurtosis `kurt`
    (Bailey and Lopez de Prado 2012, "The Sharpe Ratio Efficient Frontier"; 2014, eq. 9):

        PSR(SR0) = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2))

    None with fewer than 2 returns or when the variance term under the root is not positive.
    """
    if n < 2 or not all(math.isfinite(v) for v in (sr, sr0, skew, kurt)):
        return None
    spread = 1 - skew * sr + (kurt - 1) / 4 * sr * sr
    if not spread > 0:
        return None
    return _NORMAL.cdf((sr - sr0) * math.sqrt(n - 1) / math.sqrt(spread))


def deflated_sharpe(returns: Sequence[float], trial_sharpes: Sequence[float | None]) -> dict[str, Any]:
    """The Deflated Sharpe Ratio of the best trial (Bailey and Lopez de Prado 2014, "The Deflated
    Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality"):
    DSR = PSR(SR0), the probabilistic Sharpe of the best trial's returns against the Sharpe the
    best of N skill-less trials would be expected to reach (expected_max_sharpe).

    `returns`: the best trial's daily returns; `trial_sharpes`: every trial's daily Sharpe (the
    best's included). Conventions (skfolio.measures.deflated_sharpe_ratio's): SR = mean / sample
    std (ddof 1); skew and kurtosis are the biased (population) standardised moments, kurtosis
    non-excess; V[SR_n] is the sample variance (ddof 1) of the trial Sharpes; T is the number
    of returns (NaN returns are left out). Trials without a Sharpe (None, NaN) are left out
    of N and V[SR_n]. One trial: SR0 = 0, the DSR is the plain PSR(0).

    Returns {"value", "sharpe", "sharpe_annual" (sharpe x sqrt(365)), "trials" (N),
    "expected_max_sharpe" (SR0)}; "value" and "sharpe" are None with fewer than 2 returns or
    when they do not vary, "value" and "expected_max_sharpe" None without a trial Sharpe.
    """
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    trials = np.array([np.nan if s is None else s for s in trial_sharpes], dtype=np.float64)
    if np.isinf(trials).any():
        raise ValueError("trial_sharpes must not be infinite")
    trials = trials[np.isfinite(trials)]
    n_trials = len(trials)
    sr0 = None
    if n_trials:
        sr0 = expected_max_sharpe(n_trials, float(trials.var(ddof=1)) if n_trials > 1 else 0.0)
    result: dict[str, Any] = {
        "value": None,
        "sharpe": None,
        "sharpe_annual": None,
        "trials": n_trials,
        "expected_max_sharpe": sr0,
    }
    if len(r) < 2:
        return result
    std = r.std(ddof=1)
    if _zero_spread(np.array(std), np.abs(r).max()):
        return result
    sr = float(r.mean() / std)
    deviations = r - r.mean()
    m2 = np.mean(deviations**2)
    skew = float(np.mean(deviations**3) / m2**1.5)
    kurt = float(np.mean(deviations**4) / m2**2)
    result["sharpe"] = sr
    result["sharpe_annual"] = sr * math.sqrt(YEAR_DAYS)
    if sr0 is not None:
        result["value"] = probabilistic_sharpe(sr, sr0, len(r), skew, kurt)
    return result


# --- Probability of Backtest Overfitting -----------------------------------------------------


def sharpe(returns: np.ndarray) -> np.ndarray:
    """Per-column Sharpe ratio of a rows x trials matrix: mean / sample std (ddof 1), NaN where a
    column does not vary."""
    x = np.asarray(returns, dtype=np.float64)
    std = x.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = x.mean(axis=0) / std
    return np.where(_zero_spread(std, np.abs(x).max(axis=0)), np.nan, out)


def _tie_tolerance(values: np.ndarray) -> np.ndarray:
    """How close two objective values must be to tie: 1e-9 of the value plus 1e-12 (the block
    sums' rounding is far below; a real difference far above), 0 at -inf."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values), 1e-9 * np.abs(values) + 1e-12, 0.0)


def _blocks(rows: int, blocks: int) -> list[np.ndarray]:
    """Row indices of `blocks` consecutive blocks, sizes differing by at most one (the first
    rows % blocks blocks one row longer: numpy.array_split)."""
    return np.array_split(np.arange(rows), blocks)


def _sharpe_splits(
    x: np.ndarray, parts: list[np.ndarray], chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """In-sample and out-of-sample Sharpe of every column for the splits whose in-sample blocks
    are the rows of the 0/1 matrix `chosen` (splits x blocks), from per-block sums: a split's
    sums are chosen @ block sums. Columns are first shifted by their mean (the spread does not
    change; the sums of squares then do not lose digits)."""
    centre = x.mean(axis=0)
    y = x - centre
    sums = np.stack([y[p].sum(axis=0) for p in parts])
    squares = np.stack([(y[p] ** 2).sum(axis=0) for p in parts])
    counts = np.array([len(p) for p in parts], dtype=np.float64)
    scale = np.abs(x).max(axis=0)
    out = []
    for mask in (chosen, 1.0 - chosen):
        n = (mask @ counts)[:, None]
        s = mask @ sums
        q = mask @ squares
        mean = s / n
        var = np.maximum(q - s * mean, 0.0) / (n - 1)
        std = np.sqrt(var)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (mean + centre) / std
        out.append(np.where(_zero_spread(std, scale), np.nan, value))
    return out[0], out[1]


def pbo(
    returns_matrix: np.ndarray,
    blocks: int = 16,
    objective: Callable[[np.ndarray], np.ndarray] = sharpe,
) -> dict[str, Any]:
    """Probability of Backtest Overfitting by combinatorially symmetric cross-validation (Bailey,
    Borwein, Lopez de Prado and Zhu 2015, "The Probability of Backtest Overfitting").

    `returns_matrix`: T x N, rows periods (days), columns trials. The rows are cut into `blocks`
    (S, even) consecutive blocks (numpy.array_split: sizes differ by at most one row). Each of
    the C(S, S/2) sets of S/2 blocks is in-sample once, the other blocks out-of-sample. Per
    split: n* = the column with the best in-sample `objective` (the first such column on a tie),
    its rank r among the N columns' out-of-sample objective (1 = worst; tied columns share the
    average of their ranks), w = r / (N + 1), logit lambda = ln(w / (1 - w)). Values within
    1e-9 relative (plus 1e-12) of each other tie, so rounding never breaks a tie.
    PBO = the share of splits with lambda <= 0 (the in-sample best at or below the out-of-sample
    median).

    `objective(rows x N) -> N values` (higher is better); a NaN (a column that does not vary in
    that half) ranks below every number. The default (per-period Sharpe) is computed from
    per-block sums for all splits at once; another objective is called once per split and half.

    Returns {"value", "blocks", "splits", "logits"}; "value" is None with fewer than 2 columns
    (nothing was selected).
    """
    x = np.asarray(returns_matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("returns_matrix must be 2-dimensional (periods x trials)")
    rows, n = x.shape
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be even and at least 2, got {blocks}")
    if rows < blocks:
        raise ValueError(f"{rows} rows cannot make {blocks} blocks")
    parts = _blocks(rows, blocks)
    combos = np.array(list(combinations(range(blocks), blocks // 2)))
    splits = len(combos)
    if n < 2:
        return {"value": None, "blocks": blocks, "splits": splits, "logits": []}
    chunk = max(1, 2_000_000 // n)  # about 16 MB per splits x trials array
    logits = np.empty(splits)
    for start in range(0, splits, chunk):
        part = combos[start : start + chunk]
        chosen = np.zeros((len(part), blocks))
        np.put_along_axis(chosen, part, 1.0, axis=1)
        if objective is sharpe:
            ins, oos = _sharpe_splits(x, parts, chosen)
        else:
            ins = np.empty((len(part), n))
            oos = np.empty((len(part), n))
            for i, mask in enumerate(chosen.astype(bool)):
                ins[i] = objective(x[np.concatenate([parts[b] for b in np.flatnonzero(mask)])])
                oos[i] = objective(x[np.concatenate([parts[b] for b in np.flatnonzero(~mask)])])
        ins = np.where(np.isnan(ins), -np.inf, ins)
        oos = np.where(np.isnan(oos), -np.inf, oos)
        top = ins.max(axis=1, keepdims=True)
        best = (ins >= top - _tie_tolerance(top)).argmax(axis=1)  # the first of the tied best
        value = oos[np.arange(len(part)), best][:, None]
        with np.errstate(invalid="ignore"):
            tied = (oos == value) | (np.abs(oos - value) <= _tie_tolerance(value))
        rank = (~tied & (oos < value)).sum(axis=1) + (tied.sum(axis=1) + 1) / 2
        w = rank / (n + 1)
        logits[start : start + len(part)] = np.log(w / (1 - w))
    return {
        "value": float(np.mean(logits <= 0)),
        "blocks": blocks,
        "splits": splits,
        "logits": logits.tolist(),
    }


# --- Monte Carlo of the best trial's trades --------------------------------------------------


def _paths(pnls: np.ndarray, initial_balance: float) -> tuple[np.ndarray, np.ndarray]:
    """Max drawdown % and return % of each row of trade PnLs (paths x trades): equity = initial
    + cumsum, the drawdown the largest fall from a running peak as a percentage of the peak, the
    initial balance the first peak (bots.metrics.max_drawdown_pct with initial_balance)."""
    equity = initial_balance + np.cumsum(pnls, axis=1)
    values = np.concatenate([np.full((len(pnls), 1), float(initial_balance)), equity], axis=1)
    peaks = np.maximum.accumulate(values, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        falls = np.where(peaks > 0, (peaks - values) / peaks, 0.0)
    drawdown = falls.max(axis=1) * 100.0
    returns = (values[:, -1] - initial_balance) / initial_balance * 100.0
    return drawdown, returns


def _percentiles(values: np.ndarray) -> dict[str, float]:
    p5, p50, p95 = np.percentile(values, [5, 50, 95])  # linear interpolation
    return {"p5": float(p5), "p50": float(p50), "p95": float(p95)}


def monte_carlo(
    trade_pnls: Sequence[float], initial_balance: float, runs: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Monte Carlo of a trial's trades: `runs` reshuffles of their order (permutations) and
    `runs` bootstrap resamples (as many trades, drawn with replacement); each path's equity =
    initial_balance + cumsum(PnLs). Reported: the 5th, 50th and 95th percentiles (numpy's linear
    interpolation) of each path's max drawdown (percent of the running peak, the initial balance
    included, as bots.metrics.max_drawdown_pct) and of its return_pct (final / initial - 1, in %).

    A reshuffle keeps the same trades, so its return is the trial's own (all three return
    percentiles equal it): only the drawdown tells the order's luck. numpy.random.default_rng(seed)
    draws the reshuffles first, then the resamples: the same seed gives the same answer.
    """
    if not initial_balance > 0:
        raise ValueError(f"initial_balance must be positive, got {initial_balance!r}")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    pnls = np.asarray(trade_pnls, dtype=np.float64)
    rng = np.random.default_rng(seed)
    tiled = np.broadcast_to(pnls, (runs, len(pnls)))
    shuffled = rng.permuted(tiled, axis=1)
    resampled = pnls[rng.integers(0, len(pnls), size=(runs, len(pnls)))] if len(pnls) else tiled
    result: dict[str, Any] = {}
    for name, paths in (("reshuffle", shuffled), ("bootstrap", resampled)):
        drawdown, returns = _paths(paths, initial_balance)
        result[name] = {"max_drawdown_pct": _percentiles(drawdown), "return_pct": _percentiles(returns)}
    result["runs"] = runs
    result["seed"] = seed
    return result


# --- Heatmap --------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _axis(values: list[Any]) -> tuple[list[Any], list[int]]:
    """An axis's ticks and each value's tick index: the sorted distinct values, or with more
    than HEATMAP_BINS distinct numbers HEATMAP_BINS equal-width bins from the lowest to the
    highest value (the last bin closed), each tick its bin's centre."""
    distinct = sorted(set(values), key=lambda v: (not _is_number(v), v if _is_number(v) else str(v)))
    if len(distinct) > HEATMAP_BINS and all(_is_number(v) for v in distinct):
        low, high = float(distinct[0]), float(distinct[-1])
        width = (high - low) / HEATMAP_BINS
        ticks = [low + (i + 0.5) * width for i in range(HEATMAP_BINS)]
        index = [min(int((float(v) - low) / width), HEATMAP_BINS - 1) for v in values]
        return ticks, index
    position = {v: i for i, v in enumerate(distinct)}
    return [v.item() if isinstance(v, np.generic) else v for v in distinct], [position[v] for v in values]


def heatmap(
    params_list: Sequence[dict[str, Any]], values: Sequence[float | None], x: str, y: str
) -> dict[str, Any]:
    """The mean objective of the trials in each (x value, y value) cell.

    `params_list[i]` are trial i's parameters, `values[i]` its objective (None for a pruned or
    failed trial: left out, as a trial without x or y is). xs and ys are the sorted distinct
    values of the kept trials; a numeric parameter with more than 20 distinct values is cut into
    20 equal-width bins and its ticks are the bins' centres. values[j][i] is the cell of ys[j]
    and xs[i] (a row per y, as a heatmap's z), None where no trial fell.
    """
    if len(params_list) != len(values):
        raise ValueError("params_list and values must be as long as each other")
    kept = [
        (p[x], p[y], float(v))
        for p, v in zip(params_list, values, strict=True)
        if v is not None and math.isfinite(v) and x in p and y in p
    ]
    if not kept:
        return {"x": x, "y": y, "xs": [], "ys": [], "values": []}
    xs, xi = _axis([k[0] for k in kept])
    ys, yi = _axis([k[1] for k in kept])
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    np.add.at(total, (yi, xi), [k[2] for k in kept])
    np.add.at(count, (yi, xi), 1)
    grid = [
        [float(total[j, i] / count[j, i]) if count[j, i] else None for i in range(len(xs))]
        for j in range(len(ys))
    ]
    return {"x": x, "y": y, "xs": xs, "ys": ys, "values": grid}
