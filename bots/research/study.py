"""An optimization study's sampling, in rounds: each round asks Optuna for the next
batch of trials given every finished trial so far, and the batch is computed as one grid
(docs/engine.md) by whatever processes are free. See docs/research.md.

The study's storage is its own runs: a round rebuilds an in-memory Optuna study from the
finished trials (params and value, in trial order) and asks with a sampler seeded by the
study's seed and the number of trials finished. So any process on any machine can ask the
next round, a study stopped or crashed between rounds continues exactly as it would have gone
on (no trial lost, none twice, the same best with the same seed), and no second database
schema (Optuna's RDB tables or journal) has to be kept in step with ours.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState, create_trial

from bots.research.space import Dimension

OBJECTIVES = ("sharpe", "sortino", "calmar", "total_pnl", "return_pct", "profit_factor", "expectancy")
SAMPLERS = ("tpe", "random", "grid", "cmaes")
WORST = -1e300  # a trial's value when it scores worst (too few trades, objective undefined)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def trial_value(metrics: dict[str, Any], objective: str, min_trades: int) -> float:
    """The objective of a finished trial, maximised; WORST below `min_trades` or when undefined."""
    if int(metrics.get("trade_count") or 0) < min_trades:
        return WORST
    value = metrics.get(objective)
    if value is None or not math.isfinite(float(value)):
        return WORST
    return float(value)


def round_seed(seed: int, finished: int) -> int:
    """The sampler's seed for the round asked after `finished` trials: one per round, fixed."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, finished]).generate_state(1)[0])


def make_sampler(name: str, dims: Sequence[Dimension], seed: int) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        # constant_liar: the trials of a round not yet told count as bad, so a round spreads out.
        with warnings.catch_warnings():  # constant_liar is "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    raise ValueError(f"Unknown sampler {name!r}.")


def grid_size(dims: Sequence[Dimension]) -> int | None:
    """How many configurations a grid over `dims` has (None: a dimension is continuous)."""
    n = 1
    for d in dims:
        values = d.grid()
        if values is None:
            return None
        n *= len(values)
    return n


def grid_order(dims: Sequence[Dimension], seed: int) -> list[dict[str, Any]]:
    """Every configuration of the grid over `dims`, in an order shuffled by `seed`: a study of
    fewer trials than the grid has samples it evenly; trial i is always the order's i-th."""
    axes = [d.grid() for d in dims]
    if any(axis is None for axis in axes):
        raise ValueError("A grid needs a step on every number parameter.")
    shape = [len(axis) for axis in axes]
    order = np.random.default_rng(int(seed) & 0xFFFFFFFF).permutation(int(np.prod(shape)))
    out = []
    for flat in order:
        index = np.unravel_index(int(flat), shape)
        out.append({d.name: _plain(axis[i]) for d, axis, i in zip(dims, axes, index, strict=True)})
    return out


@dataclass
class Finished:
    """A finished trial: its params (the searched ones) and its value (None: pruned, the
    strategy refused the configuration; never the best)."""

    params: dict[str, Any]
    value: float | None


def ask(
    dims: Sequence[Dimension], sampler: str, seed: int, history: Sequence[Finished], n: int
) -> list[dict[str, Any]]:
    """The params of the next `n` trials after `history` (every finished trial, in trial order).
    The same history, seed and n give the same params, in whatever process asks."""
    if sampler == "grid":
        return grid_order(dims, seed)[len(history) : len(history) + n]
    distributions = {d.name: d.distribution() for d in dims}
    study = optuna.create_study(
        direction="maximize", sampler=make_sampler(sampler, dims, round_seed(seed, len(history)))
    )
    for done in history:
        params = {d.name: done.params[d.name] for d in dims}
        if done.value is None:
            study.add_trial(create_trial(params=params, distributions=distributions, state=TrialState.PRUNED))
        else:
            study.add_trial(create_trial(params=params, distributions=distributions, value=done.value))
    asked = []
    for _ in range(n):
        trial = study.ask(distributions)
        asked.append({d.name: _plain(trial.params[d.name]) for d in dims})
    return asked


def _plain(value: Any) -> Any:
    """Optuna's numpy scalars as JSON's numbers."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def importance(dims: Sequence[Dimension], history: Sequence[Finished], seed: int) -> dict[str, float]:
    """Each parameter's share of the objective's variance (Optuna's fANOVA importance), over
    the trials with a value above WORST; {} with fewer than 2 such trials or one parameter."""
    scored = [h for h in history if h.value is not None and h.value > WORST]
    if len(dims) == 1 and len(scored) >= 2:
        return {dims[0].name: 1.0}
    if len(scored) < 2 or len({h.value for h in scored}) < 2:
        return {}
    distributions = {d.name: d.distribution() for d in dims}
    study = optuna.create_study(direction="maximize")
    for h in scored:
        params = {d.name: h.params[d.name] for d in dims}
        study.add_trial(create_trial(params=params, distributions=distributions, value=h.value))
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    shares = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return {name: float(shares.get(name, 0.0)) for name in sorted(shares, key=shares.get, reverse=True)}


@dataclass
class LocalStudy:
    """A study run in this process, round by round: what the workers do between them, for the
    engine's tests and the bench. `evaluate` maps a round's params to their values."""

    dims: Sequence[Dimension]
    sampler: str
    seed: int
    trials: int
    round_size: int
    history: list[Finished] = field(default_factory=list)

    def run(
        self, evaluate: Callable[[list[dict[str, Any]]], list[float | None]], rounds: int | None = None
    ) -> None:
        done = 0
        while len(self.history) < self.trials and (rounds is None or done < rounds):
            n = min(self.round_size, self.trials - len(self.history))
            params = ask(self.dims, self.sampler, self.seed, self.history, n)
            values = evaluate(params)
            self.history.extend(Finished(p, v) for p, v in zip(params, values, strict=True))
            done += 1

    def best(self) -> tuple[int, Finished] | None:
        """The first trial with the highest value (None: every trial pruned)."""
        scored = [(i, h) for i, h in enumerate(self.history) if h.value is not None]
        if not scored:
            return None
        return max(scored, key=lambda item: (item[1].value, -item[0]))
