"""An optimization study's search space, windows and round-by-round sampling (bots.research)."""

from __future__ import annotations

import pytest

from bots.research.folds import holdout, walk_forward
from bots.research.space import SpaceError, search_space, space_dict
from bots.research.study import WORST, Finished, LocalStudy, ask, grid_order, importance, trial_value
from bots.strategies.smacross import SmaCross
from bots.strategies.testbot import TestBot

SEARCH = {"n1": {"low": 2, "high": 50}, "n2": {"low": 5, "high": 200, "step": 5}}


def bowl(params: list[dict]) -> list[float | None]:
    """A known objective: best at n1 = 10, n2 = 60; configurations SmaCross refuses are pruned."""
    return [None if p["n1"] >= p["n2"] else -((p["n1"] - 10) ** 2) - (p["n2"] - 60) ** 2 / 10 for p in params]


# The search space


def test_the_default_space_is_the_schemas_bounds_without_the_position_size():
    assert space_dict(search_space(SmaCross.param_schema, None)) == {
        "n1": {"low": 1, "high": 100_000},
        "n2": {"low": 2, "high": 100_000},
    }
    assert space_dict(search_space(TestBot.param_schema, None)) == {"threshold": {"low": 0.0, "high": 1.0}}


def test_a_given_space_keeps_the_schemas_order_and_types():
    dims = search_space(
        SmaCross.param_schema, {"n2": {"low": 5, "high": 200, "step": 5}, "n1": {"choices": [3, 5]}}
    )
    assert [(d.name, d.kind) for d in dims] == [("n1", "choices"), ("n2", "int")]
    assert dims[1].grid()[:3] == [5, 10, 15] and dims[1].grid()[-1] == 200


@pytest.mark.parametrize(
    ("search", "field", "message"),
    [
        ({"n1": {"low": 30, "high": 20}}, "optimize.search.n1.low", "Must not exceed high (20)."),
        ({"fast": {"low": 1, "high": 2}}, "optimize.search.fast", "The strategy has no parameter 'fast'"),
        ({"n1": {"low": 0, "high": 20}}, "optimize.search.n1.low", "Below the parameter's minimum (1)."),
        ({"n1": {"low": 1, "high": 10**6}}, "optimize.search.n1.high", "Above the parameter's maximum"),
        ({"n1": {"low": 1.5, "high": 20}}, "optimize.search.n1.low", "Must be an integer."),
        ({"n1": {"low": 1}}, "optimize.search.n1.high", "Required."),
        ({"n1": {"low": 1, "high": 9, "step": 0}}, "optimize.search.n1.step", "Must be a positive integer."),
        ({"n1": {"low": 1, "high": 9, "by": 2}}, "optimize.search.n1.by", "Unknown key"),
        ({"n1": {"choices": []}}, "optimize.search.n1.choices", "Must be a list of 1 to 1000 values."),
        ({"n1": [1, 2]}, "optimize.search.n1", "Must be {"),
        ({}, "optimize.search", "Must be an object naming at least one parameter."),
    ],
)
def test_a_bad_space_names_the_field(search, field, message):
    with pytest.raises(SpaceError) as caught:
        search_space(SmaCross.param_schema, search)
    assert field in caught.value.errors, caught.value.errors
    assert caught.value.errors[field][0].startswith(message), caught.value.errors


# The windows


def test_rolling_walk_forward_folds_tile_the_range_after_one_train_window():
    day, start = 86400, 1_700_006_400
    folds = walk_forward(start, start + 700 * day, 60, folds=4, train_pct=75, anchored=False)
    # 75 % train: a train window is 3 test windows; 4 folds: 3 + 4 = 7 parts of 100 days.
    assert [(tr.start, tr.end, te.start, te.end) for tr, te in folds] == [
        (
            start + (100 * i) * day,
            start + (300 + 100 * i) * day,
            start + (300 + 100 * i) * day,
            start + (400 + 100 * i) * day,
        )
        for i in range(4)
    ]
    assert all(
        tr.phase == "train" and te.phase == "test" and tr.fold == te.fold == i
        for i, (tr, te) in enumerate(folds)
    )


def test_anchored_folds_train_from_the_start_and_edges_fall_on_candle_opens():
    start, tf = 1_700_006_400, 3600
    end = start + 1001 * tf  # not a multiple of 7 parts
    folds = walk_forward(start, end, tf, folds=4, train_pct=75, anchored=True)
    assert all(tr.start == start for tr, _ in folds)
    assert folds[-1][1].end == end
    for (tr, te), nxt in zip(folds, folds[1:] + [None], strict=True):
        assert tr.end == te.start and (te.start - start) % tf == 0
        if nxt is not None:
            assert te.end == nxt[1].start


def test_the_holdout_is_the_last_share_of_the_range():
    start, tf = 1_700_006_400, 60
    seen, kept = holdout(start, start + 1000 * tf, tf, pct=25)
    assert (seen.start, seen.end, kept.start, kept.end) == (
        start,
        start + 750 * tf,
        start + 750 * tf,
        start + 1000 * tf,
    )
    assert kept.phase == "holdout" and kept.candles(tf) == 250


# Sampling in rounds


@pytest.mark.parametrize("sampler", ["tpe", "random", "cmaes", "grid"])
def test_a_study_stopped_between_rounds_continues_as_if_it_never_stopped(sampler):
    dims = search_space(SmaCross.param_schema, SEARCH)
    whole = LocalStudy(dims, sampler, 7, 100, 20)
    whole.run(bowl)
    stopped = LocalStudy(dims, sampler, 7, 100, 20)
    stopped.run(bowl, rounds=2)
    assert len(stopped.history) == 40
    # Another process, another day: only the finished trials are handed over.
    again = LocalStudy(
        dims, sampler, 7, 100, 20, history=[Finished(dict(h.params), h.value) for h in stopped.history]
    )
    again.run(bowl)
    assert len(again.history) == 100
    assert [h.params for h in again.history] == [h.params for h in whole.history]
    assert again.best() == whole.best()
    # Another seed samples otherwise.
    other = LocalStudy(dims, sampler, 8, 100, 20)
    other.run(bowl)
    assert [h.params for h in other.history] != [h.params for h in whole.history]


def test_tpe_finds_the_bowls_bottom_and_pruned_trials_are_never_the_best():
    dims = search_space(SmaCross.param_schema, SEARCH)
    study = LocalStudy(dims, "tpe", 7, 200, 20)
    study.run(bowl)
    number, best = study.best()
    assert best.params == {"n1": 10, "n2": 60} and best.value == 0.0
    assert study.history[number] is best
    pruned = [h for h in study.history if h.value is None]
    assert pruned and all(h.params["n1"] >= h.params["n2"] for h in pruned)
    assert LocalStudy(dims, "tpe", 7, 2, 2, history=[Finished({"n1": 9, "n2": 5}, None)]).best() is None


def test_a_grid_covers_every_configuration_once_in_a_seeded_order():
    dims = search_space(
        SmaCross.param_schema, {"n1": {"choices": [3, 5, 8]}, "n2": {"low": 10, "high": 30, "step": 10}}
    )
    order = grid_order(dims, 1)
    assert sorted((p["n1"], p["n2"]) for p in order) == [(a, b) for a in (3, 5, 8) for b in (10, 20, 30)]
    assert grid_order(dims, 1) == order != grid_order(dims, 2)
    assert ask(dims, "grid", 1, [Finished(p, 0.0) for p in order[:4]], 3) == order[4:7]
    with pytest.raises(ValueError, match="step"):
        grid_order(search_space(TestBot.param_schema, None), 1)


def test_a_trials_value_scores_worst_below_min_trades_or_undefined():
    assert trial_value({"trade_count": 12, "sharpe": 1.25}, "sharpe", 10) == 1.25
    assert trial_value({"trade_count": 9, "sharpe": 1.25}, "sharpe", 10) == WORST
    assert trial_value({"trade_count": 12, "sharpe": None}, "sharpe", 10) == WORST
    assert trial_value({"trade_count": 12, "profit_factor": float("inf")}, "profit_factor", 1) == WORST


def test_importance_puts_the_parameter_that_moves_the_objective_first():
    dims = search_space(SmaCross.param_schema, SEARCH)
    study = LocalStudy(dims, "random", 3, 120, 40)
    # The objective depends on n2 only.
    study.run(lambda ps: [float(p["n2"]) for p in ps])
    shares = importance(dims, study.history, 0)
    assert list(shares) == ["n2", "n1"] and shares["n2"] > 0.9
    assert sum(shares.values()) == pytest.approx(1.0)
