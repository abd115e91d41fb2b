"""An optimization study's search space: per parameter `{"low", "high", "step"}` or
`{"choices": [...]}`, checked against the strategy's parameter schema; by default every
integer or number parameter the schema bounds on both sides, except the position size (it
scales a result, it does not shape a signal). See docs/research.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

NOT_SEARCHED = ("position_size",)  # sizes scale a result; a search would only find the largest
MAX_CHOICES = 1000


class SpaceError(ValueError):
    """A bad search space; `errors` maps each field (optimize.search.<param>[.<key>]) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        field, messages = next(iter(errors.items()))
        super().__init__(f"{field}: {messages[0]}")


@dataclass(frozen=True)
class Dimension:
    """One searched parameter: an integer or number range (with an optional step) or choices."""

    name: str
    kind: str  # "int" | "float" | "choices"
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    def distribution(self) -> BaseDistribution:
        if self.kind == "choices":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), step=int(self.step or 1))
        return FloatDistribution(float(self.low), float(self.high), step=self.step)

    def grid(self) -> list[Any] | None:
        """Every value the dimension takes (a grid sampler's axis), or None: continuous."""
        if self.kind == "choices":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.step is None:
            return None
        n = int(math.floor((self.high - self.low) / self.step + 1e-9))
        return [round(self.low + i * self.step, 12) for i in range(n + 1)]

    def as_dict(self) -> dict[str, Any]:
        if self.kind == "choices":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        return out


def _bounds(prop: dict[str, Any]) -> tuple[float | None, float | None]:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    return low, high


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def search_space(schema: dict[str, Any], search: dict[str, Any] | None) -> list[Dimension]:
    """The dimensions of `search` (or the schema's default), in the schema's order; raises
    SpaceError naming each bad field."""
    props: dict[str, Any] = schema.get("properties", {})
    if search is None:
        dims = [_default(name, prop) for name, prop in props.items() if name not in NOT_SEARCHED]
        dims = [d for d in dims if d is not None]
        if not dims:
            raise SpaceError(
                {"optimize.search": ["The strategy has no bounded parameter to search; name some."]}
            )
        return dims
    if not isinstance(search, dict) or not search:
        raise SpaceError({"optimize.search": ["Must be an object naming at least one parameter."]})
    errors: dict[str, list[str]] = {}
    dims: list[Dimension] = []
    for name, spec in search.items():
        if name not in props:
            known = ", ".join(sorted(props)) or "none"
            errors[f"optimize.search.{name}"] = [f"The strategy has no parameter {name!r} (it has: {known})."]
            continue
        try:
            dims.append(_dimension(name, props[name], spec))
        except SpaceError as exc:
            errors.update(exc.errors)
    if errors:
        raise SpaceError(errors)
    order = list(props)
    return sorted(dims, key=lambda d: order.index(d.name))


def _default(name: str, prop: dict[str, Any]) -> Dimension | None:
    if "enum" in prop:
        return Dimension(name, "choices", choices=tuple(prop["enum"]))
    if prop.get("type") == "boolean":
        return Dimension(name, "choices", choices=(False, True))
    low, high = _bounds(prop)
    if prop.get("type") not in ("integer", "number") or not (_number(low) and _number(high)):
        return None
    if prop["type"] == "integer":
        lo = int(math.ceil(low)) + (1 if "exclusiveMinimum" in prop and "minimum" not in prop else 0)
        hi = int(math.floor(high)) - (1 if "exclusiveMaximum" in prop and "maximum" not in prop else 0)
        return Dimension(name, "int", lo, hi) if lo <= hi else None
    return Dimension(name, "float", float(low), float(high))


def _dimension(name: str, prop: dict[str, Any], spec: Any) -> Dimension:
    field = f"optimize.search.{name}"
    if not isinstance(spec, dict):
        raise SpaceError({field: ['Must be {"low", "high", "step"} or {"choices": [...]}.']})
    if "choices" in spec:
        choices = spec["choices"]
        extra = set(spec) - {"choices"}
        if extra:
            raise SpaceError({f"{field}.{sorted(extra)[0]}": ["Not allowed beside choices."]})
        if not isinstance(choices, list) or not choices or len(choices) > MAX_CHOICES:
            raise SpaceError({f"{field}.choices": [f"Must be a list of 1 to {MAX_CHOICES} values."]})
        if any(isinstance(c, dict | list) for c in choices) or len({repr(c) for c in choices}) != len(
            choices
        ):
            raise SpaceError({f"{field}.choices": ["Must be distinct numbers, strings or booleans."]})
        return Dimension(name, "choices", choices=tuple(choices))
    extra = set(spec) - {"low", "high", "step"}
    if extra:
        raise SpaceError(
            {f"{field}.{sorted(extra)[0]}": ['Unknown key: use "low", "high", "step" or "choices".']}
        )
    kind = prop.get("type")
    if kind not in ("integer", "number"):
        raise SpaceError({field: [f"A {kind or 'untyped'} parameter is searched with choices, not a range."]})
    errors: dict[str, list[str]] = {}
    for key in ("low", "high"):
        if key not in spec:
            errors[f"{field}.{key}"] = ["Required."]
        elif not _number(spec[key]) or (kind == "integer" and float(spec[key]) != int(spec[key])):
            errors[f"{field}.{key}"] = [f"Must be {'an integer' if kind == 'integer' else 'a number'}."]
    if errors:
        raise SpaceError(errors)
    low, high, step = spec["low"], spec["high"], spec.get("step")
    if low > high:
        raise SpaceError({f"{field}.low": [f"Must not exceed high ({high})."]})
    s_low, s_high = _bounds(prop)
    if _number(s_low) and (
        low < s_low or (low == s_low and "exclusiveMinimum" in prop and "minimum" not in prop)
    ):
        raise SpaceError({f"{field}.low": [f"Below the parameter's minimum ({s_low})."]})
    if _number(s_high) and (
        high > s_high or (high == s_high and "exclusiveMaximum" in prop and "maximum" not in prop)
    ):
        raise SpaceError({f"{field}.high": [f"Above the parameter's maximum ({s_high})."]})
    if step is not None:
        if not _number(step) or step <= 0 or (kind == "integer" and float(step) != int(step)):
            raise SpaceError(
                {f"{field}.step": [f"Must be a positive {'integer' if kind == 'integer' else 'number'}."]}
            )
    if kind == "integer":
        return Dimension(name, "int", int(low), int(high), int(step) if step is not None else None)
    return Dimension(name, "float", float(low), float(high), float(step) if step is not None else None)


def space_dict(dims: list[Dimension]) -> dict[str, Any]:
    """The search space as stored on the study (the request's form, defaults filled)."""
    return {d.name: d.as_dict() for d in dims}
