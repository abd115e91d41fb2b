"""bots.research.stats: the Deflated Sharpe Ratio, PBO by CSCV, the trades' Monte Carlo and the
heatmap, against a published example, hand computations and skfolio (a test-only oracle)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import skfolio.measures as sk

from bots.metrics import max_drawdown_pct
from bots.research.stats import (
    _paths,
    deflated_sharpe,
    expected_max_sharpe,
    heatmap,
    monte_carlo,
    pbo,
    probabilistic_sharpe,
    sharpe,
)

# --- Deflated Sharpe Ratio ------------------------------------------------------------------


def test_the_papers_numerical_example():
    # Bailey and Lopez de Prado (2014), "A numerical example": the best of N = 100 trials has an
    # annualised SR of 2.5 over T = 1250 daily returns (5 years of 250 days: the paper's
    # annualisation, not our 365), skew -3, kurtosis 10; the trials' annualised Sharpes have
    # variance 1/2. Per day: SR = 2.5 / sqrt(250) = 0.1581, V[SR_n] = 0.5 / 250 = 0.002.
    # The paper prints SR0 ~ 0.1132 and DSR ~ 0.9004 (four decimals), so the tolerance is half
    # a unit in the fourth decimal, 5e-5: what its rounding allows and no more.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    sr = 2.5 / math.sqrt(250)
    assert sr == pytest.approx(0.1581, abs=5e-5)
    dsr = probabilistic_sharpe(sr, sr0, 1250, -3.0, 10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_by_hand_four_returns_two_trials():
    # returns 2 %, -1 %, 3 %, 0 %: mean 0.01, deviations +0.01, -0.02, +0.02, -0.01.
    #   sum of squares 0.001; sample variance 0.001 / 3; SR = 0.01 / sqrt(0.001 / 3) = sqrt(0.3)
    #   = 0.547723. Population m2 = 0.001 / 4 = 2.5e-4; m3 = (1 - 8 + 8 - 1)e-6 / 4 = 0 -> skew 0;
    #   m4 = (1 + 16 + 16 + 1)e-8 / 4 = 8.5e-8 -> kurtosis 8.5e-8 / 6.25e-8 = 1.36.
    # trials' Sharpes 0.6 and 0.2: N = 2, V = (0.2^2 + 0.2^2) / 1 = 0.08.
    #   Phi^-1(1 - 1/2) = 0, Phi^-1(1 - 1/(2e)) = Phi^-1(0.816060) = 0.900453
    #   SR0 = sqrt(0.08) * (0.422784 * 0 + 0.577216 * 0.900453) = 0.282843 * 0.519756 = 0.147009.
    # PSR = Phi((0.547723 - 0.147009) * sqrt(3) / sqrt(1 - 0 + (1.36 - 1) / 4 * 0.3))
    #     = Phi(0.400714 * 1.732051 / sqrt(1.027)) = Phi(0.684872) = 0.753288.
    out = deflated_sharpe([0.02, -0.01, 0.03, 0.0], [0.6, 0.2])
    assert out["sharpe"] == pytest.approx(math.sqrt(0.3), rel=1e-12)
    assert out["sharpe_annual"] == pytest.approx(math.sqrt(0.3) * math.sqrt(365), rel=1e-12)
    assert out["trials"] == 2
    assert out["expected_max_sharpe"] == pytest.approx(0.147009, abs=5e-7)
    assert out["value"] == pytest.approx(0.753288, abs=5e-7)


def _trial_returns(seed: int, trials: int = 40, days: int = 365) -> np.ndarray:
    """Skewed, fat-tailed daily returns of `trials` trials: normal days plus rare losses."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0008, 0.01, (days, trials))
    crashes = rng.random((days, trials)) < 0.02
    returns[crashes] -= rng.exponential(0.04, crashes.sum())
    returns[:, 0] += 0.002  # a trial with some edge, likely the best
    return returns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_skfolio_on_the_same_inputs(seed):
    # skfolio.measures.deflated_sharpe_ratio (1.12.2) is fed what docs/research.md says ours is fed: the best
    # trial's daily returns and every trial's daily Sharpe. Its conventions, which ours share:
    # per-period Sharpe mean / std with ddof 1, biased (population) skew and non-excess kurtosis,
    # V[SR_n] the ddof-1 variance of the trial Sharpes, T the number of returns, nothing
    # annualised. Only the normal distribution differs (scipy there, the standard library here),
    # hence 1e-10 relative rather than equality.
    returns = _trial_returns(seed)
    sharpes = sharpe(returns)
    best = returns[:, int(np.argmax(sharpes))]
    ours = deflated_sharpe(best, sharpes.tolist())
    assert ours["trials"] == 40
    assert ours["value"] == pytest.approx(sk.deflated_sharpe_ratio(best, sharpes), rel=1e-10)
    assert ours["expected_max_sharpe"] == pytest.approx(
        sk.expected_max_sharpe_ratio(40, float(np.std(sharpes, ddof=1))), rel=1e-10
    )
    assert ours["sharpe"] == pytest.approx(float(best.mean() / best.std(ddof=1)), rel=1e-12)
    assert 0.0 < ours["value"] < 1.0


def test_one_trial_is_the_plain_probabilistic_sharpe():
    # N = 1: nothing was selected, SR0 = 0 (skfolio's choice too), so DSR = PSR(0).
    best = _trial_returns(3)[:, 0]
    out = deflated_sharpe(best, [float(sharpe(best[:, None])[0])])
    assert out["trials"] == 1
    assert out["expected_max_sharpe"] == 0.0
    assert out["value"] == pytest.approx(sk.probabilistic_sharpe_ratio(best), rel=1e-10)
    assert out["value"] == pytest.approx(sk.deflated_sharpe_ratio(best, [0.3]), rel=1e-10)


def test_more_trials_deflate_more():
    best = _trial_returns(4)[:, 0]
    sharpes = np.random.default_rng(5).normal(0.0, 0.05, 1000)
    few = deflated_sharpe(best, sharpes[:10])["value"]
    many = deflated_sharpe(best, sharpes)["value"]
    assert many < few
    assert expected_max_sharpe(1000, 0.0025) > expected_max_sharpe(10, 0.0025) > 0


def test_undefined_cases():
    short = deflated_sharpe([0.01], [0.1, 0.2])
    assert (short["value"], short["sharpe"], short["sharpe_annual"]) == (None, None, None)
    assert short["trials"] == 2
    flat = deflated_sharpe([0.01] * 30, [0.1, 0.2])
    assert (flat["value"], flat["sharpe"]) == (None, None)
    # trials without a Sharpe (None, NaN) are not counted
    out = deflated_sharpe([0.02, -0.01, 0.03, 0.0], [0.6, None, float("nan"), 0.2])
    assert out["trials"] == 2
    assert out["value"] == pytest.approx(0.753288, abs=5e-7)
    none = deflated_sharpe([0.02, -0.01, 0.03, 0.0], [])
    assert (none["value"], none["expected_max_sharpe"], none["trials"]) == (None, None, 0)
    assert none["sharpe"] == pytest.approx(math.sqrt(0.3))
    assert probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0) is None
    with pytest.raises(ValueError):
        expected_max_sharpe(0, 0.1)


# --- Probability of Backtest Overfitting -----------------------------------------------------


def test_pbo_by_hand_four_blocks_three_trials():
    # One row per block (S = 4), columns A, B, C (returns in %; Sharpe does not see the scale).
    #   block 0: A 3, B 1, C 2      block 1: A -2, B 0, C -2
    #   block 2: A 4, B 4, C 4      block 3: A 2, B -1, C 1
    # Each half is two returns (a, b): Sharpe = ((a + b) / 2) / (|a - b| / sqrt 2), so ranking by
    # f = (a + b) / |a - b| ranks by Sharpe. Six splits (in-sample blocks; out-of-sample the rest):
    #   IS {0,1}: f A (3,-2) 1/5, B (1,0) 1, C (2,-2) 0 -> best B; OOS {2,3}: A (4,2) 3,
    #             B (4,-1) 3/5, C (4,1) 5/3 -> B ranks 1 of 3, w = 1/4, lambda = ln(1/3)
    #   IS {0,2}: A (3,4) 7, B (1,4) 5/3, C (2,4) 3 -> A; OOS {1,3}: A (-2,2) 0, B (0,-1) -1,
    #             C (-2,1) -1/3 -> A ranks 3, w = 3/4, lambda = ln 3
    #   IS {0,3}: A (3,2) 5, B (1,-1) 0, C (2,1) 3 -> A; OOS {1,2}: A (-2,4) 1/3, B (0,4) 1,
    #             C (-2,4) 1/3 -> A ties C for ranks 1 and 2: rank 1.5, w = 3/8, lambda = ln(3/5)
    #   IS {1,2}: A 1/3, B 1, C 1/3 -> B; OOS {0,3}: A 5, B 0, C 3 -> rank 1, lambda = ln(1/3)
    #   IS {1,3}: A 0, B -1, C -1/3 -> A; OOS {0,2}: A 7, B 5/3, C 3 -> rank 3, lambda = ln 3
    #   IS {2,3}: A 3, B 3/5, C 5/3 -> A; OOS {0,1}: A 1/5, B 1, C 0 -> rank 2, w = 1/2, lambda = 0
    # lambda <= 0 in 4 of 6 splits: PBO = 2/3.
    m = np.array([[3, 1, 2], [-2, 0, -2], [4, 4, 4], [2, -1, 1]], dtype=float) * 0.01
    out = pbo(m, blocks=4)
    assert out["value"] == pytest.approx(2 / 3)
    assert (out["blocks"], out["splits"]) == (4, 6)
    expected = [math.log(1 / 3), math.log(3), math.log(3 / 5), math.log(1 / 3), math.log(3), 0.0]
    assert out["logits"] == pytest.approx(expected, abs=1e-12)
    # the same answer through the per-split path (any objective other than the default)
    assert pbo(m, blocks=4, objective=lambda rows: sharpe(rows))["logits"] == pytest.approx(
        expected, abs=1e-12
    )


def test_pbo_vectorised_sharpe_equals_the_per_split_loop():
    m = np.random.default_rng(11).normal(0.0005, 0.01, (97, 25))  # 97 rows: unequal blocks
    fast = pbo(m, blocks=8)
    slow = pbo(m, blocks=8, objective=lambda rows: sharpe(rows))
    assert fast["splits"] == slow["splits"] == 70
    assert fast["logits"] == pytest.approx(slow["logits"], abs=1e-12)


def test_pbo_of_pure_noise_is_about_one_half():
    # No column has an edge, so the in-sample best's out-of-sample rank is uniform and PBO is
    # 1/2 in expectation. One matrix's PBO varies widely (its 12,870 splits share data: the
    # standard deviation over matrices is about 0.19 here), so the mean over 50 seeded
    # matrices is held within 0.08 of 1/2, three standard errors.
    values = [pbo(np.random.default_rng(s).normal(0.0, 0.01, (160, 20)))["value"] for s in range(50)]
    assert abs(float(np.mean(values)) - 0.5) < 0.08
    assert min(values) < 0.5 < max(values)


def test_pbo_of_a_real_edge_is_zero():
    # Column 7 earns 1 % a day more than the noise in every block: it is the in-sample best and
    # the out-of-sample best of every split, rank N = 30, lambda = ln(30 / 1) for all 12,870.
    m = np.random.default_rng(2).normal(0.0, 0.01, (365, 30))
    m[:, 7] += 0.01
    out = pbo(m)
    assert out["value"] == 0.0
    assert out["splits"] == 12_870
    assert out["logits"] == pytest.approx([math.log(30)] * 12_870)


def test_pbo_ties_and_flat_columns():
    # Three identical columns: every split ties all three, rank (1 + 2 + 3) / 3 = 2, w = 1/2,
    # lambda = 0, counted as overfit (lambda <= 0).
    col = np.random.default_rng(3).normal(0.001, 0.01, 64)
    out = pbo(np.column_stack([col, col, col]), blocks=4)
    assert out["value"] == 1.0
    assert out["logits"] == [0.0] * 6
    # A flat column (no trades) has no Sharpe: it is never chosen and ranks last; beside a
    # column with an edge the edge is best everywhere: rank 2 of 2, lambda = ln 2.
    edge = np.random.default_rng(4).normal(0.01, 0.01, 64)
    out = pbo(np.column_stack([np.zeros(64), edge]), blocks=4)
    assert out["value"] == 0.0
    assert out["logits"] == pytest.approx([math.log(2)] * 6)
    assert pbo(edge[:, None], blocks=4)["value"] is None  # one trial: nothing was selected
    with pytest.raises(ValueError):
        pbo(np.zeros((64, 3)), blocks=5)


# --- Monte Carlo -----------------------------------------------------------------------------


def test_monte_carlo_by_hand():
    # Trades +10, -20, -5 on 100. The 6 orders' equity and max drawdown (of the running peak):
    #   +10 -20 -5: 100 110 90 85  -> 25/110 = 22.73 %     +10 -5 -20: 100 110 105 85 -> 22.73 %
    #   -20 +10 -5: 100 80 90 85   -> 20/100 = 20 %        -20 -5 +10: 100 80 75 85   -> 25 %
    #   -5 +10 -20: 100 95 105 85  -> 20/105 = 19.05 %     -5 -20 +10: 100 95 75 85   -> 25 %
    # 1/6 at 19.05, 1/6 at 20, 1/3 at 22.73, 1/3 at 25: p5 = 19.05, p50 = 22.73, p95 = 25
    # (each well inside its group with 20,000 runs). Every order returns -15 %.
    # Bootstrap: 27 equally likely draws; their sums -60 (1), -45 (3), -30 (6), -15 (7), 0 (6),
    # 15 (3), 30 (1): cumulative 1/27, 4/27, 10/27, 17/27, ... -> p5 = -45, p50 = -15, p95 = 15.
    out = monte_carlo([10, -20, -5], 100, runs=20_000, seed=0)
    assert out["reshuffle"]["max_drawdown_pct"] == pytest.approx(
        {"p5": 2000 / 105, "p50": 2500 / 110, "p95": 25.0}
    )
    assert out["reshuffle"]["return_pct"] == {"p5": -15.0, "p50": -15.0, "p95": -15.0}
    assert out["bootstrap"]["return_pct"] == {"p5": -45.0, "p50": -15.0, "p95": 15.0}
    # the bootstrap's drawdowns against the 27 paths enumerated with bots.metrics
    counts = Counter(
        max_drawdown_pct(100 + np.cumsum(p), 100) for p in itertools.product([10, -20, -5], repeat=3)
    )
    levels = sorted(counts)
    cumulative = np.cumsum([counts[v] for v in levels]) / 27
    exact = {f"p{q}": levels[int(np.searchsorted(cumulative, q / 100))] for q in (5, 50, 95)}
    assert exact == pytest.approx({"p5": 100 * 5 / 120, "p50": 2500 / 110, "p95": 45.0})
    assert out["bootstrap"]["max_drawdown_pct"] == pytest.approx(exact)
    assert (out["runs"], out["seed"]) == (20_000, 0)


def test_monte_carlo_one_trade_and_none():
    out = monte_carlo([-7.0], 100.0, runs=50)
    for kind in ("reshuffle", "bootstrap"):
        assert out[kind]["max_drawdown_pct"] == pytest.approx({"p5": 7.0, "p50": 7.0, "p95": 7.0})
        assert out[kind]["return_pct"] == pytest.approx({"p5": -7.0, "p50": -7.0, "p95": -7.0})
    empty = monte_carlo([], 100.0, runs=10)
    assert empty["bootstrap"]["max_drawdown_pct"] == {"p5": 0.0, "p50": 0.0, "p95": 0.0}
    assert empty["reshuffle"]["return_pct"] == {"p5": 0.0, "p50": 0.0, "p95": 0.0}
    with pytest.raises(ValueError):
        monte_carlo([1.0], 0.0)


def test_reshuffles_keep_the_return_and_the_seed_reproduces():
    pnls = np.random.default_rng(8).normal(2.0, 30.0, 120)
    out = monte_carlo(pnls, 1000.0, runs=1000, seed=42)
    own = pnls.sum() / 1000.0 * 100.0
    assert out["reshuffle"]["return_pct"] == pytest.approx({"p5": own, "p50": own, "p95": own}, rel=1e-12)
    spread = out["reshuffle"]["max_drawdown_pct"]
    assert spread["p5"] < spread["p50"] < spread["p95"]
    boot = out["bootstrap"]["return_pct"]
    assert boot["p5"] < own < boot["p95"]
    assert monte_carlo(pnls, 1000.0, runs=1000, seed=42) == out
    other = monte_carlo(pnls, 1000.0, runs=1000, seed=43)
    assert other["bootstrap"] != out["bootstrap"]
    assert other["reshuffle"]["max_drawdown_pct"] != out["reshuffle"]["max_drawdown_pct"]


def test_path_drawdowns_equal_bots_metrics():
    paths = np.random.default_rng(9).normal(-1.0, 40.0, (200, 30))  # some paths go below 0
    drawdown, returns = _paths(paths, 500.0)
    for row, dd, ret in zip(paths, drawdown, returns, strict=True):
        assert dd == pytest.approx(max_drawdown_pct(500.0 + np.cumsum(row), 500.0), rel=1e-12)
        assert ret == pytest.approx(row.sum() / 500.0 * 100.0, rel=1e-9, abs=1e-12)


# --- Heatmap ---------------------------------------------------------------------------------


def test_heatmap_by_hand():
    params = [
        {"n1": 1, "kind": "x"},
        {"n1": 2, "kind": "x"},
        {"n1": 1, "kind": "y"},
        {"n1": 1, "kind": "x"},
        {"n1": 3, "kind": "y"},  # pruned: no value, not on the map
        {"n1": 9},  # no `kind`: not on the map
    ]
    values = [1.0, 2.0, 3.0, 5.0, None, 7.0]
    out = heatmap(params, values, "n1", "kind")
    # kind x: n1 = 1 -> (1 + 5) / 2 = 3, n1 = 2 -> 2; kind y: n1 = 1 -> 3, n1 = 2 -> no trial
    assert out == {
        "x": "n1",
        "y": "kind",
        "xs": [1, 2],
        "ys": ["x", "y"],
        "values": [[3.0, 2.0], [3.0, None]],
    }


def test_heatmap_bins_a_parameter_with_more_than_20_values():
    # n2 = 0, 1, ..., 20 (21 values) -> 20 bins of width 1 from 0 to 20, the last closed:
    # [0,1) ... [18,19), [19,20]; centres 0.5 ... 19.5. The objective is n2 itself, so each bin's
    # mean is its value, the last (19 and 20) 19.5. y has a single value, 7.
    params = [{"n2": v, "f": 7} for v in range(21)]
    out = heatmap(params, [float(v) for v in range(21)], "n2", "f")
    assert out["xs"] == pytest.approx([i + 0.5 for i in range(20)])
    assert out["ys"] == [7]
    assert out["values"] == [[float(i) for i in range(19)] + [19.5]]
    # 3.7 falls in [3, 4) (not in the bin whose centre is nearest): bin 3's mean (3 + 100) / 2
    out = heatmap(params + [{"n2": 3.7, "f": 7}], [float(v) for v in range(21)] + [100.0], "n2", "f")
    assert out["values"][0][3] == 51.5
    assert out["values"][0][4] == 4.0
    # exactly 20 distinct values are not binned
    assert heatmap(params[:20], list(range(20)), "n2", "f")["xs"] == list(range(20))
    assert heatmap([], [], "a", "b") == {"x": "a", "y": "b", "xs": [], "ys": [], "values": []}
