"""A backtest's `optimize` checked before anything is written: defaults, and every bad value
named by its field (sessions_app.services.optimize)."""

from __future__ import annotations

import pytest

from sessions_app.services.optimize import optimize_check
from strategies_app.models import Strategy

pytestmark = pytest.mark.django_db

DAY = 86400
START = 1_700_006_400
YEAR = {"range_start": START, "range_end": START + 365 * DAY}
PARAMS = {"n1": 10, "n2": 20, "position_size": 0.05}
SMALL = {"n1": {"low": 2, "high": 20}, "n2": {"low": 10, "high": 100}}


def check(optimize, *, type_="backtest", sweep=None, bounds=YEAR, timeframe="1m"):
    errors: dict = {}
    strategy = Strategy.objects.get(id="SmaCross")
    data = {"optimize": optimize, **({"sweep": sweep} if sweep else {})}
    return optimize_check(data, type_, strategy, PARAMS, timeframe, bounds, errors), errors


def test_defaults_fill_in_and_a_seed_is_drawn_once():
    study, errors = check(
        {"search": {"n1": {"low": 2, "high": 50}, "n2": {"low": 10, "high": 300, "step": 5}}}
    )
    assert errors == {}
    seed = study.pop("seed")
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert study == {
        "sampler": "tpe",
        "objective": "sharpe",
        "trials": 100,
        "min_trades": 0,
        "keep_trades": 10,
        "search": {"n1": {"low": 2, "high": 50}, "n2": {"low": 10, "high": 300, "step": 5}},
        "validation": None,
    }
    given, _ = check({"seed": 7, "trials": 200})
    assert given["seed"] == 7 and given["trials"] == 200
    assert given["search"] == {"n1": {"low": 1, "high": 100_000}, "n2": {"low": 2, "high": 100_000}}
    folds, _ = check({"search": SMALL, "validation": {"walk_forward": {"folds": 4}}})
    assert folds["validation"] == {"walk_forward": {"folds": 4, "train_pct": 75, "anchored": False}}


def test_no_optimize_is_none():
    assert check(None) == (None, {}) and check({}) == (None, {})


@pytest.mark.parametrize(
    ("optimize", "field", "start"),
    [
        ({"objective": "luck"}, "optimize.objective", "Must be one of sharpe, sortino, calmar"),
        ({"trials": 0}, "optimize.trials", "Must be an integer from 1 to 5,000 (got 0)."),
        ({"trials": 10_000}, "optimize.trials", "Must be an integer from 1 to 5,000 (got 10000)."),
        ({"trials": True}, "optimize.trials", "Must be an integer"),
        ({"sampler": "genetic"}, "optimize.sampler", "Must be one of tpe, random, grid, cmaes"),
        ({"search": {"n1": {"low": 30, "high": 20}}}, "optimize.search.n1.low", "Must not exceed high (20)."),
        ({"search": {"fast": {"low": 1, "high": 2}}}, "optimize.search.fast", "The strategy has no parameter 'fast'"),
        ({"seed": -1}, "optimize.seed", "Must be an integer from 0"),
        ({"budget": 3}, "optimize.budget", "Unknown field"),
        ({"validation": {"walk_forward": {"folds": 0}}}, "optimize.validation.walk_forward.folds", "Must be an integer from 1 to 20"),
        ({"validation": {"walk_forward": {"folds": 3, "train_pct": 99}}}, "optimize.validation.walk_forward.train_pct", "Must be a percentage from 10 to 95"),
        ({"validation": {"holdout_pct": 95}}, "optimize.validation.holdout_pct", "Must be a percentage from 1 to 90"),
        ({"validation": {"both": 1}}, "optimize.validation", 'Must be {"walk_forward"'),
        ({"sampler": "grid", "search": SMALL, "trials": 10}, "optimize.trials", None),
        ({"sampler": "grid", "search": {**SMALL, "n2": {"low": 10, "high": 100, "step": 10}}, "trials": 1000}, "optimize.trials", "The grid has 190 configurations"),
    ],
)  # fmt: skip
def test_a_bad_value_names_its_field(optimize, field, start):
    study, errors = check(optimize)
    if start is None:  # an integer search is a grid already: this one is fine
        assert errors == {} and study["sampler"] == "grid"
        return
    assert study is None
    assert field in errors, errors
    assert errors[field][0].startswith(start), errors


def test_a_grid_over_a_number_without_a_step_is_refused():
    errors: dict = {}
    strategy = Strategy.objects.get(id="TestBot")
    data = {"optimize": {"sampler": "grid"}}
    assert optimize_check(data, "backtest", strategy, {}, "1m", YEAR, errors) is None
    assert errors == {
        "optimize.search.threshold.step": ["The grid sampler needs a step on every number parameter."]
    }


def test_folds_too_short_for_the_warm_up_are_refused():
    # 4 folds of 75 % over 7 days of 1h: test windows of 24 candles; n2 up to 300 needs 300.
    week = {"range_start": START, "range_end": START + 7 * DAY}
    optimize = {"search": {"n1": {"low": 2, "high": 20}, "n2": {"low": 10, "high": 300}}}
    _, errors = check({**optimize, "validation": {"walk_forward": {"folds": 4}}}, bounds=week, timeframe="1h")
    assert list(errors) == ["optimize.validation.walk_forward.folds"]
    assert errors["optimize.validation.walk_forward.folds"][0].startswith(
        "The shortest window holds 24 1h candles, no more than the strategy's warm-up at the top of the search (300)"
    )
    _, errors = check({**optimize, "validation": {"holdout_pct": 10}}, bounds=week, timeframe="1h")
    assert list(errors) == ["optimize.validation.holdout_pct"]  # 17 candles held out
    study, errors = check(
        {**optimize, "validation": {"walk_forward": {"folds": 4}}}, bounds=week, timeframe="1m"
    )
    assert errors == {} and study is not None


def test_only_a_backtest_optimizes_and_not_beside_a_sweep():
    assert check({"trials": 5}, type_="test") == (
        None,
        {"optimize": ["Only backtests can optimize parameters."]},
    )
    assert check({"trials": 5}, sweep={"n1": [5, 6]}) == (
        None,
        {"optimize": ["A backtest either sweeps or optimizes, not both."]},
    )
