"""A backtest's `optimize` checked and normalised before anything is written (docs/research.md).

Every problem is reported under its field (`optimize.trials`, `optimize.search.n1.low`,
`optimize.validation.walk_forward.folds`), all at once, like the other config fields.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from bots.candles import TIMEFRAMES
from bots.research.folds import holdout, walk_forward
from bots.research.space import Dimension, SpaceError, search_space, space_dict
from bots.research.study import OBJECTIVES, SAMPLERS, grid_size
from bots.strategies.registry import get_strategies
from sessions_app.models import SessionType
from strategies_app.models import Strategy

Errors = dict[str, list[str]]
MAX_TRIALS = 5000
MAX_FOLDS = 20
KEYS = ("search", "sampler", "trials", "objective", "min_trades", "seed", "validation", "keep_trades")


def optimize_check(
    data: Mapping[str, Any],
    session_type: Any,
    strategy: Strategy | None,
    params: Any,
    timeframe: Any,
    bounds: Mapping[str, int],
    errors: Errors,
) -> dict[str, Any] | None:
    """The study's settings, defaults filled (a seed drawn when none is given, so a restart
    samples the same trials); None without `optimize`."""
    optimize = data.get("optimize")
    if optimize in (None, {}):
        return None
    if session_type != SessionType.BACKTEST:
        errors["optimize"] = ["Only backtests can optimize parameters."]
        return None
    if data.get("sweep") not in (None, {}):
        errors["optimize"] = ["A backtest either sweeps or optimizes, not both."]
        return None
    if not isinstance(optimize, dict):
        errors["optimize"] = ["Must be an object (search, sampler, trials, objective, validation, ...)."]
        return None
    found: Errors = {}
    for key in sorted(set(optimize) - set(KEYS)):
        found[f"optimize.{key}"] = [f"Unknown field (known: {', '.join(KEYS)})."]
    study: dict[str, Any] = {
        "sampler": _choice(optimize, "sampler", SAMPLERS, "tpe", found),
        "objective": _choice(optimize, "objective", OBJECTIVES, "sharpe", found),
        "trials": _integer(optimize, "trials", 1, MAX_TRIALS, 100, found),
        "min_trades": _integer(optimize, "min_trades", 0, 1_000_000, 0, found),
        "keep_trades": _integer(optimize, "keep_trades", 0, 1000, 10, found),
        "seed": _integer(optimize, "seed", 0, 2**32 - 1, None, found),
    }
    if study["seed"] is None and "optimize.seed" not in found:
        study["seed"] = secrets.randbelow(2**32)
    dims = _space(optimize, strategy, found)
    if dims is not None:
        study["search"] = space_dict(dims)
        if study["sampler"] == "grid":
            _grid_fits(dims, study, found)
    study["validation"] = _validation(optimize, found)
    if dims is not None and not found and timeframe in TIMEFRAMES and len(bounds) == 2:
        _windows_fit(study["validation"], strategy, params, dims, timeframe, bounds, found)
    errors.update(found)
    return None if found else study


def _choice(
    optimize: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str, errors: Errors
) -> str:
    value = optimize.get(key, default)
    if value not in allowed:
        errors[f"optimize.{key}"] = [f"Must be one of {', '.join(allowed)} (got {value!r})."]
        return default
    return value


def _integer(
    optimize: Mapping[str, Any], key: str, low: int, high: int, default: int | None, errors: Errors
) -> int | None:
    value = optimize.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[f"optimize.{key}"] = [f"Must be an integer from {low:,} to {high:,} (got {value!r})."]
        return default
    return value


def _space(optimize: Mapping[str, Any], strategy: Strategy | None, errors: Errors) -> list[Dimension] | None:
    if strategy is None:
        return None  # said under `strategy`
    try:
        return search_space(strategy.param_schema, optimize.get("search"))
    except SpaceError as exc:
        errors.update(exc.errors)
        return None


def _grid_fits(dims: list[Dimension], study: dict[str, Any], errors: Errors) -> None:
    continuous = [d.name for d in dims if d.grid() is None]
    if continuous:
        errors[f"optimize.search.{continuous[0]}.step"] = [
            "The grid sampler needs a step on every number parameter."
        ]
        return
    size = grid_size(dims)
    if size is not None and study["trials"] > size:
        errors["optimize.trials"] = [
            f"The grid has {size:,} configurations; ask for at most that many trials."
        ]


def _validation(optimize: Mapping[str, Any], errors: Errors) -> dict[str, Any] | None:
    validation = optimize.get("validation")
    if validation in (None, {}):
        return None
    field = "optimize.validation"
    if (
        not isinstance(validation, dict)
        or len(validation) != 1
        or next(iter(validation))
        not in (
            "walk_forward",
            "holdout_pct",
        )
    ):
        errors[field] = ['Must be {"walk_forward": {...}} or {"holdout_pct": n}.']
        return None
    if "holdout_pct" in validation:
        pct = validation["holdout_pct"]
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not 1 <= pct <= 90:
            errors[f"{field}.holdout_pct"] = [f"Must be a percentage from 1 to 90 (got {pct!r})."]
            return None
        return {"holdout_pct": pct}
    wf, field = validation["walk_forward"], f"{field}.walk_forward"
    if not isinstance(wf, dict):
        errors[field] = ['Must be {"folds": k, "train_pct": 75, "anchored": false}.']
        return None
    for key in sorted(set(wf) - {"folds", "train_pct", "anchored"}):
        errors[f"{field}.{key}"] = ["Unknown field (known: folds, train_pct, anchored)."]
    folds, train_pct, anchored = wf.get("folds"), wf.get("train_pct", 75), wf.get("anchored", False)
    if isinstance(folds, bool) or not isinstance(folds, int) or not 1 <= folds <= MAX_FOLDS:
        errors[f"{field}.folds"] = [f"Must be an integer from 1 to {MAX_FOLDS} (got {folds!r})."]
    if isinstance(train_pct, bool) or not isinstance(train_pct, int | float) or not 10 <= train_pct <= 95:
        errors[f"{field}.train_pct"] = [f"Must be a percentage from 10 to 95 (got {train_pct!r})."]
    if not isinstance(anchored, bool):
        errors[f"{field}.anchored"] = [f"Must be true or false (got {anchored!r})."]
    return {"walk_forward": {"folds": folds, "train_pct": train_pct, "anchored": anchored}}


def _windows_fit(
    validation: dict[str, Any] | None,
    strategy: Strategy,
    params: Any,
    dims: list[Dimension],
    timeframe: str,
    bounds: Mapping[str, int],
    errors: Errors,
) -> None:
    """Every window the study runs holds more candles than the largest warm-up its search
    can ask for (the strategy's startup_candles at the top of each range)."""
    tf = TIMEFRAMES[timeframe]
    start, end = bounds["range_start"], bounds["range_end"]
    warmup = _largest_warmup(strategy, params, dims)
    if validation is None:
        windows, field = [(end - start) // tf], "range_end"
    elif "holdout_pct" in validation:
        seen, kept = holdout(start, end, tf, pct=validation["holdout_pct"])
        windows, field = [seen.candles(tf), kept.candles(tf)], "optimize.validation.holdout_pct"
    else:
        wf = validation["walk_forward"]
        folds = walk_forward(
            start, end, tf, folds=wf["folds"], train_pct=wf["train_pct"], anchored=wf["anchored"]
        )
        windows = [w.candles(tf) for fold in folds for w in fold]
        field = "optimize.validation.walk_forward.folds"
    shortest = min(windows)
    if shortest <= warmup:
        errors[field] = [
            f"The shortest window holds {shortest:,} {timeframe} candles, no more than the "
            f"strategy's warm-up at the top of the search ({warmup:,}): use fewer folds, a longer "
            "range or a smaller search."
        ]


def _largest_warmup(strategy: Strategy, params: Any, dims: list[Dimension]) -> int:
    cls = get_strategies(settings.STRATEGY_PACKAGES).get(strategy.id)
    if cls is None:
        return 0
    top = {**strategy.default_params, **(params if isinstance(params, dict) else {})}
    for d in dims:
        top[d.name] = (
            max(d.choices, key=lambda c: c if isinstance(c, int | float) else 0)
            if d.kind == "choices"
            else d.high
        )
    instance = cls.__new__(cls)  # the warm-up of the bounds, which check_params may refuse together
    instance.params = top
    try:
        return int(instance.startup_candles())
    except Exception:  # a strategy whose warm-up needs valid params: nothing to check against
        return 0
