"""The small base class every strategy subclasses, and the parameter validation it declares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema
import numpy as np

from bots.candles import Candles


class ParamsError(ValueError):
    """Bad strategy parameters; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]}: {first[1][0]}")


@dataclass
class Rule:
    """When the positions are `when` and `mask[i]` holds at candle i, go to positions `then`.

    Positions are tuples, one signed size per leg (> 0 long, < 0 short, 0 flat).
    """

    when: tuple[float, ...]
    mask: np.ndarray
    then: tuple[float, ...]


class Bar:
    """What a strategy sees when candle `i` has closed, and where it places its orders.

    `legs` and `ind` are the arrays handed to `precompute` and its result; only the last
    `window()` rows up to `i` are guaranteed to exist (a live feed keeps no more).
    """

    __slots__ = ("i", "legs", "ind", "positions", "rules", "targets", "logs")

    def __init__(
        self,
        i: int,
        legs: Sequence[Candles],
        ind: dict[str, np.ndarray],
        positions: tuple[float, ...],
        rules: list[Rule] | None = None,
    ):
        self.i = i
        self.legs = legs
        self.ind = ind
        self.positions = positions
        self.rules = rules
        self.targets: list[float] | None = None
        self.logs: list[str] = []

    @property
    def time(self) -> int:
        return int(self.legs[0].time[self.i])

    def close(self, leg: int = 0) -> float:
        return float(self.legs[leg].close[self.i])

    def value(self, name: str) -> float:
        """The indicator `name` at this candle (NaN until its window is full)."""
        return float(self.ind[name][self.i])

    def position(self, leg: int = 0) -> float:
        return self.positions[leg]

    def set_target(self, size: float, leg: int = 0) -> None:
        """Market order(s) bringing the net position of `leg` to `size` at the next open."""
        if self.targets is None:
            self.targets = list(self.positions)
        self.targets[leg] = float(size)

    def set_targets(self, sizes: Sequence[float]) -> None:
        self.targets = [float(s) for s in sizes]

    def log(self, line: str) -> None:
        self.logs.append(line)


class Strategy:
    """A trading strategy. Subclasses declare their metadata and parameter schema.

    `param_schema` is real JSON Schema: bounds are `minimum`/`maximum`, which validators
    enforce (a `min`/`max` key would be silently ignored); the registry syncs these class attributes into the strategies table.

    Trading logic, in three hooks shared by backtests and live sessions:
    - `window()`: how many candles (ending at the current one) the indicators need.
    - `startup_candles()`: the history read before the first traded candle (the warm-up;
      `window() - 1` by default).
    - `precompute(legs)`: indicator arrays over whole candle arrays, each row computed from the
      last `window()` rows only (see bots.indicators), NaN until enough candles exist.
    - `on_candle(bar)`: called after each closed candle; sets target net positions, filled at
      the next candle's open. The default follows `rules()`.
    `rules(ind, legs)` may describe the decisions as a small state machine over positions;
    backtests then jump from one state change to the next instead of visiting every candle,
    and live sessions evaluate the same rules on the last row. Either way, the same floats.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str] = ""
    supported_types: ClassVar[list[str]] = ["test", "backtest"]
    supported_markets: ClassVar[list[str]] = ["*"]
    default_params: ClassVar[dict[str, Any]] = {}
    param_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    # How many markets the strategy trades at once ("XBTUSD+ETHUSD" has two legs).
    legs: ClassVar[int] = 1

    def __init__(self, params: dict[str, Any]):
        self.params = self.validate_params(params)

    def window(self) -> int:
        """Candles of history (including the current one) one row of `precompute` needs."""
        return 1

    def startup_candles(self) -> int:
        """Candles of history before the first traded one that the indicators need (warm-up):
        a backtest reads them from before range_start, a live session fetches them before
        its first live candle, so both decide at their first candle as a longer run would."""
        return max(0, int(self.window()) - 1)

    def precompute(self, legs: Sequence[Candles]) -> dict[str, np.ndarray]:
        """Indicator arrays aligned with the candles (one entry per candle)."""
        return {}

    def rules(self, ind: dict[str, np.ndarray], legs: Sequence[Candles]) -> list[Rule] | None:
        """Decisions as rules over positions, in priority order; None to use on_candle only."""
        return None

    def on_candle(self, bar: Bar) -> None:
        """Decide after candle `bar.i` closed; the default applies the first matching rule."""
        if bar.rules is None:
            return
        for rule in bar.rules:
            if rule.when == bar.positions and rule.mask[bar.i]:
                bar.set_targets(rule.then)
                return

    @classmethod
    def uses_rules(cls) -> bool:
        """True when decisions come from rules() alone (the fast backtest path applies)."""
        return cls.on_candle is Strategy.on_candle

    @classmethod
    def validate_params(
        cls,
        params: dict[str, Any] | None,
        schema: dict[str, Any] | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Fill defaults, validate against the schema; raise ParamsError naming each bad field.

        `schema`/`defaults` override the class's own (the strategies table may have been edited).
        """
        merged = validate_params(
            params,
            cls.param_schema if schema is None else schema,
            cls.default_params if defaults is None else defaults,
        )
        errors = cls.check_params(merged)
        if errors:
            raise ParamsError(errors)
        return merged

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, list[str]]:
        """Cross-field rules a JSON Schema cannot state (e.g. n1 < n2); field -> messages."""
        return {}


def validate_params(
    params: dict[str, Any] | None, schema: dict[str, Any], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Defaults filled in, then checked against `schema`; ParamsError lists every bad field."""
    if params is not None and not isinstance(params, dict):
        raise ParamsError({"strategy_params": ["Must be an object of parameter values."]})
    merged = {**(defaults or {}), **(params or {})}
    errors: dict[str, list[str]] = _numbers_out_of_range(merged)
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(merged), key=lambda e: list(e.path)):
        if error.path and str(error.path[0]) in errors:
            continue  # said already: a number no schema may let through
        if error.path:
            field = str(error.path[0])
        elif error.validator == "required":
            field = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            field = "strategy_params"
        else:
            field = "strategy_params"
        errors.setdefault(field, []).append(_message(error))
    if errors:
        raise ParamsError(errors)
    return merged


# The largest magnitude any strategy parameter may have, whatever its schema says: a
# size goes into the trades' values, which the database keeps to 14 digits before the point;
# 1e300 was accepted and its session's pages then failed to read its trades back.
MAX_PARAM_MAGNITUDE = 1e12


def _numbers_out_of_range(params: dict[str, Any]) -> dict[str, list[str]]:
    """Every number (nested ones too) finite and within MAX_PARAM_MAGNITUDE; field -> messages."""
    errors: dict[str, list[str]] = {}
    for field, value in params.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                if (isinstance(item, float) and not math.isfinite(item)) or abs(item) > MAX_PARAM_MAGNITUDE:
                    shown = (
                        repr(item) if len(repr(item)) <= 24 else f"a number of {len(str(abs(item)))} digits"
                    )
                    errors[str(field)] = [f"Must be between -1e12 and 1e12 (got {shown})."]
                    break
    return errors


def _message(error: jsonschema.ValidationError) -> str:
    value = error.instance
    if error.validator == "minimum":
        return f"Must be at least {error.validator_value} (got {value})."
    if error.validator == "maximum":
        return f"Must be at most {error.validator_value} (got {value})."
    if error.validator == "exclusiveMinimum":
        return f"Must be greater than {error.validator_value} (got {value})."
    if error.validator == "type":
        return f"Must be of type {error.validator_value} (got {value!r})."
    if error.validator == "required":
        return "This parameter is required."
    return error.message
