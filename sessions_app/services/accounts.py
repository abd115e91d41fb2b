"""A session's account checked before anything is written: leverage, sizing, maintenance
margin, funding (docs/engine.md, "Margin"). Part of `validation.config_clean`; each check adds
what it finds to the same `errors`, so every bad field is named at once."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sessions_app.models import Sizing
from strategies_app.models import Market

Errors = dict[str, list[str]]
ACCOUNT_FIELDS = ("leverage", "sizing", "maintenance_margin_pct", "funding")
PLACES = 4  # the columns' decimal places: what is stored is what was hashed and answered
# Markets without a row say nothing of their leverage: the engine's own bound.
DEFAULT_MAX_LEVERAGE = Decimal(100)


def decimal_value(value: Any) -> Decimal | None:
    """A finite Decimal from a number or its text; None for anything else (a bool too)."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def too_precise(number: Decimal, places: int) -> bool:
    return -number.normalize().as_tuple().exponent > places


def account_check(
    data: Mapping[str, Any], legs: list[Market], params: Any, sweep: Any, errors: Errors
) -> dict[str, Any]:
    """The four account fields, normalised, with their defaults (leverage 1, sizing "units",
    the markets' maintenance margin and funding where they are perpetuals: null)."""
    sizing = _sizing_check(data, errors)
    if sizing == Sizing.EQUITY:
        _equity_fraction_check(params, sweep, errors)
    return {
        "leverage": _leverage_check(data, legs, errors),
        "sizing": sizing,
        "maintenance_margin_pct": _maintenance_check(data, errors),
        "funding": _funding_check(data, errors),
    }


def _leverage_check(data: Mapping[str, Any], legs: list[Market], errors: Errors) -> Decimal:
    """1 to the lowest max_leverage of the legs (one account trades them all)."""
    value = data.get("leverage")
    if value is None or value == "":
        return Decimal(1)
    number = decimal_value(value)
    bound, where = _max_leverage(legs)
    if number is None:
        errors["leverage"] = [f"Must be a number from 1 to {float(bound):g} (got {value!r})."]
    elif number < 1 or number > bound:
        errors["leverage"] = [
            f"Must be from 1 to {float(bound):g}, the maximum leverage of {where} (got {value!r})."
        ]
    elif too_precise(number, PLACES):
        errors["leverage"] = [f"At most {PLACES} decimal places (got {value!r})."]
    else:
        return number
    return Decimal(1)


def _max_leverage(legs: list[Market]) -> tuple[Decimal, str]:
    """The lowest maximum leverage of the legs, and which market it is."""
    if not legs:
        return DEFAULT_MAX_LEVERAGE, "the market"
    lowest = min(legs, key=lambda leg: leg.max_leverage)
    return Decimal(lowest.max_leverage).normalize(), f"{lowest.symbol} on {lowest.exchange}"


def _sizing_check(data: Mapping[str, Any], errors: Errors) -> str:
    sizing = data.get("sizing")
    if sizing is None or sizing == "":
        return Sizing.UNITS
    if sizing not in Sizing.values:
        errors["sizing"] = [f"Must be one of {', '.join(Sizing.values)} (got {sizing!r})."]
        return Sizing.UNITS
    return sizing


def _equity_fraction_check(params: Any, sweep: Any, errors: Errors) -> None:
    """With sizing "equity" position_size is a fraction of the margin available, in (0, 1]:
    the strategy's value, and every value a sweep gives it."""
    if (
        isinstance(params, dict)
        and "position_size" in params
        and "strategy_params.position_size" not in errors
    ):
        if not _is_fraction(params["position_size"]):
            errors["strategy_params.position_size"] = [_not_a_fraction(params["position_size"])]
    swept = sweep.get("position_size") if isinstance(sweep, dict) else None
    if isinstance(swept, list) and "sweep" not in errors:
        wrong = [value for value in swept if not _is_fraction(value)]
        if wrong:
            errors["sweep"] = [f"position_size: {_not_a_fraction(wrong[0])}"]


def _is_fraction(value: Any) -> bool:
    number = decimal_value(value)
    return number is not None and 0 < number <= 1


def _not_a_fraction(value: Any) -> str:
    return (
        'With sizing "equity" the position size is a fraction of the available margin in (0, 1]; '
        f"got {value!r}."
    )


def _maintenance_check(data: Mapping[str, Any], errors: Errors) -> Decimal | None:
    """A percent of the notional, 0 to 100; null: each market's own."""
    value = data.get("maintenance_margin_pct")
    if value is None or value == "":
        return None
    number = decimal_value(value)
    if number is None:
        errors["maintenance_margin_pct"] = [f"Must be a percent from 0 to 100, or null (got {value!r})."]
    elif not 0 <= number <= 100:
        errors["maintenance_margin_pct"] = [f"Must be from 0 to 100 (a percent; got {value!r})."]
    elif too_precise(number, PLACES):
        errors["maintenance_margin_pct"] = [f"At most {PLACES} decimal places (got {value!r})."]
    else:
        return number
    return None


def _funding_check(data: Mapping[str, Any], errors: Errors) -> bool | None:
    """true, false, or null: paid where the market is a perpetual."""
    funding = data.get("funding")
    if funding is None or isinstance(funding, bool):
        return funding
    errors["funding"] = [f"Must be true, false or null (got {funding!r})."]
    return None
