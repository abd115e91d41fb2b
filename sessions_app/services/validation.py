"""A session's input checked and normalised, before anything is written.

`config_clean` checks every configuration field, one small check per field or group of
fields, and reports every bad field at once: a form shows all its mistakes in one answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from bots.candles import TIMEFRAMES as CANDLE_TIMEFRAMES
from bots.exchanges.base import Capability
from bots.exchanges.registry import exchange_classes
from bots.markets import default_balance as default_balance_for
from bots.strategies.base import ParamsError
from sessions_app.errors import InvalidInput
from sessions_app.models import Session, SessionType
from sessions_app.services.accounts import ACCOUNT_FIELDS, account_check, decimal_value, too_precise
from sessions_app.services.notifications import (
    WebhookHostUnresolved,
    WebhookTargetRefused,
    webhook_target_resolve,
)
from strategies_app.models import Market, Strategy
from strategies_app.services import strategy_params_validate

TIMEFRAMES = tuple(CANDLE_TIMEFRAMES)  # what the engine runs, in its order
# The session types that read an exchange's live feed.
LIVE_TYPES = (SessionType.TEST, SessionType.SCRAPER)
CONFIG_FIELDS = (
    "type",
    "market",
    "exchange",
    "strategy",
    "strategy_params",
    "timeframe",
    "initial_balance",
    "fee_bps",
    "slippage_bps",
    "range_start",
    "range_end",
    "sweep",
    "reuse",
    *ACCOUNT_FIELDS,
)
TEXT_FIELDS = ("name", "notes", "notify_url")
MAX_SWEEP_RUNS = 1000

Errors = dict[str, list[str]]


def fields_refuse_unknown(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput.from_errors({field: ["Unknown field."] for field in unknown})


def text_clean(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The free-text fields given (name, notes, notify_url), stripped; all bad ones at once."""
    cleaned, errors = {}, {}
    for field, max_length in (("name", 255), ("notes", 10_000), ("notify_url", 500)):
        if field not in data:
            continue
        value = data[field]
        if value is not None and not isinstance(value, str):
            errors[field] = ["Must be a string."]
        elif value is not None and len(value) > max_length:
            errors[field] = [f"At most {max_length} characters."]
        elif field == "notify_url" and value and (problem := _notify_url_problem(value)):
            errors[field] = [problem]
        else:
            cleaned[field] = value.strip() if value else value
    if errors:
        raise InvalidInput.from_errors(errors)
    return cleaned


def name_generate(config: Mapping[str, Any]) -> str:
    """ "BTC Test #3": the market's coin(s), the type, and the next number for them."""
    coins = "/".join(_coin(leg) for leg in str(config.get("market") or "").split("+"))
    label = {"test": "Test", "backtest": "Backtest", "scraper": "Scraper"}.get(config.get("type"), "Session")
    number = Session.objects.filter(type=config.get("type"), market=config.get("market")).count() + 1
    return f"{coins} {label} #{number}"


def sweep_combinations(sweep: dict[str, list]) -> list[dict[str, Any]]:
    """Every parameter set of a sweep: the product of its lists, names in sorted order."""
    names = sorted(sweep)
    return [
        dict(zip(names, values, strict=False)) for values in itertools.product(*(sweep[n] for n in names))
    ]


def config_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every config field checked and normalised; InvalidInput names all bad fields at once.

    The checks run in the fields' order and each adds what it finds to `errors`; a later
    check reads what an earlier one settled (the type, the exchange, the markets' legs, the
    strategy, its params) and stays quiet where an earlier one has already said what is wrong.
    """
    errors: Errors = {}
    config: dict[str, Any] = {}
    session_type = config["type"] = _type_check(data, errors)
    exchange = config["exchange"] = _exchange_check(data, session_type, errors)
    config["market"], legs = _market_check(data, exchange, errors)
    config["strategy"], strategy = _strategy_check(data, session_type, errors)
    params = config["strategy_params"] = _params_check(data, strategy, errors)
    config["timeframe"] = _timeframe_check(data, errors)
    config.update(_amounts_check(data, legs, errors))
    config.update(_range_check(data, session_type, config["timeframe"], len(legs), errors))
    config["sweep"] = _sweep_check(data, session_type, strategy, params, errors)
    config["reuse"] = _reuse_check(data, errors)
    config.update(account_check(data, legs, params, data.get("sweep"), errors))
    if errors:
        raise InvalidInput.from_errors(errors)
    return config


# --- one check per field or group of fields ---------------------------------------------------


def _type_check(data: Mapping[str, Any], errors: Errors) -> Any:
    session_type = data.get("type")
    if not session_type:
        errors["type"] = ["This field is required."]
    elif session_type not in SessionType.values:
        errors["type"] = [f"Must be one of {', '.join(SessionType.values)} (got {session_type!r})."]
    return session_type


def _exchange_check(data: Mapping[str, Any], session_type: Any, errors: Errors) -> Any:
    exchange = data.get("exchange") or settings.DEFAULT_EXCHANGE
    classes = exchange_classes()
    cls = classes.get(exchange) if isinstance(exchange, str) else None
    if cls is None:
        errors["exchange"] = [f"Must be one of {', '.join(classes)} (got {exchange!r})."]
    elif session_type in LIVE_TYPES and not cls.can(Capability.LIVE_FEED):
        errors["exchange"] = [f"{cls.label} ({exchange}) has no live feed: only backtests run on it."]
    return exchange


def _market_check(data: Mapping[str, Any], exchange: Any, errors: Errors) -> tuple[Any, list[Market]]:
    """The market (one symbol, or legs joined by +) and its active Market rows, in order."""
    market = data.get("market")
    if not market:
        errors["market"] = ["This field is required."]
    elif not isinstance(market, str):
        errors["market"] = ["Must be a string such as XBTUSD or XBTUSD+ETHUSD."]
    elif "exchange" not in errors:  # a bad exchange has no markets to look up
        symbols = market.split("+")
        found = {
            m.symbol: m for m in Market.objects.filter(exchange=exchange, symbol__in=symbols, active=True)
        }
        missing = [s for s in symbols if s not in found]
        if missing:
            errors["market"] = [f"Unknown market {', '.join(missing)} on {exchange}."]
        return market, [found[s] for s in symbols if s in found]
    return market, []


def _strategy_check(
    data: Mapping[str, Any], session_type: Any, errors: Errors
) -> tuple[Any, Strategy | None]:
    """The strategy row, and whether it runs this type and trades this market."""
    strategy_id = data.get("strategy")
    if not strategy_id:
        errors["strategy"] = ["This field is required."]
        return strategy_id, None
    strategy = Strategy.objects.filter(id=strategy_id).first()
    market = data.get("market")
    if strategy is None:
        errors["strategy"] = [f"Unknown strategy {strategy_id!r}."]
    elif session_type in SessionType.values and session_type not in strategy.supported_types:
        errors["type"] = [
            f"{strategy.id} does not run {session_type} sessions "
            f"(it runs {', '.join(strategy.supported_types)})."
        ]
    elif market and "market" not in errors and not strategy.supports_market(market):
        errors["market"] = [
            f"{strategy.id} does not trade {market} (it trades {', '.join(strategy.supported_markets)})."
        ]
    return strategy_id, strategy


def _params_check(data: Mapping[str, Any], strategy: Strategy | None, errors: Errors) -> Any:
    """The strategy's params with its defaults filled in; each bad one as strategy_params.<name>."""
    params = data.get("strategy_params")
    if strategy is None:
        return params
    try:
        return strategy_params_validate(strategy=strategy, params=params)
    except ParamsError as exc:
        for field, messages in exc.errors.items():
            key = field if field == "strategy_params" else f"strategy_params.{field}"
            errors.setdefault(key, []).extend(messages)
    return params


def _timeframe_check(data: Mapping[str, Any], errors: Errors) -> Any:
    timeframe = data.get("timeframe") or "1m"
    if timeframe not in TIMEFRAMES:
        errors["timeframe"] = [f"Must be one of {', '.join(TIMEFRAMES)} (got {timeframe!r})."]
    return timeframe


def _amounts_check(data: Mapping[str, Any], legs: list[Market], errors: Errors) -> dict[str, Decimal]:
    """Balance, fee and slippage as exact Decimals; a default for each one not given."""
    settle = legs[0].settle if legs else "USD"
    # An inverse contract settles in the coin: one coin, not ten thousand of them.
    default_balance = Decimal(str(default_balance_for(settle)))
    amounts = {}
    for field, default, minimum, maximum, places in (
        ("initial_balance", default_balance, Decimal("0"), Decimal("1e12"), 8),
        ("fee_bps", Decimal("7.5"), Decimal("0"), Decimal("1000"), 4),
        ("slippage_bps", Decimal("0"), Decimal("0"), Decimal("1000"), 4),
    ):
        value = data.get(field)
        if value is None or value == "":
            amounts[field] = default
            continue
        number = decimal_value(value)
        if number is None:
            errors[field] = [f"Must be a number (got {value!r})."]
        elif field == "initial_balance" and number <= minimum:
            errors[field] = ["Must be greater than 0."]
        elif number < minimum or number > maximum:
            errors[field] = [f"Must be between {minimum} and {maximum}."]
        elif too_precise(number, places):
            # What is stored must be what was hashed and answered: no silent rounding.
            errors[field] = [f"At most {places} decimal places (got {value!r})."]
        else:
            amounts[field] = number
    return amounts


def _range_check(
    data: Mapping[str, Any], session_type: Any, timeframe: Any, legs: int, errors: Errors
) -> dict[str, int | None]:
    """A backtest's range in Unix seconds, in the past, not empty, and of at most
    MAX_RUN_CANDLES candles of its timeframe over its markets (a run loads its range
    whole); no range for the others."""
    given = (("range_start", data.get("range_start")), ("range_end", data.get("range_end")))
    if session_type != SessionType.BACKTEST:
        for field, value in given:
            if value not in (None, ""):
                errors[field] = ["Only backtests take a date range."]
        return {"range_start": None, "range_end": None}
    bounds = {}
    for field, value in given:
        if value is None or value == "":
            errors[field] = ["Required for a backtest (Unix seconds)."]
        elif _unix_seconds(value) is None:
            errors[field] = [f"Must be a time in Unix seconds (got {value!r})."]
        else:
            bounds[field] = _unix_seconds(value)
    if "range_start" in bounds and "range_end" in bounds:
        if bounds["range_end"] <= bounds["range_start"]:
            errors["range_end"] = ["Must be after range_start."]
        elif bounds["range_end"] > int(timezone.now().timestamp()):
            errors["range_end"] = ["Must not be in the future."]
        elif timeframe in CANDLE_TIMEFRAMES:
            seconds = CANDLE_TIMEFRAMES[timeframe]
            candles = -(-(bounds["range_end"] - bounds["range_start"]) // seconds) * max(legs, 1)
            if candles > settings.MAX_RUN_CANDLES:
                longest = settings.MAX_RUN_CANDLES // max(legs, 1) * seconds
                errors["range_end"] = [
                    f"The range holds {candles:,} {timeframe} candles; a run takes at most "
                    f"{settings.MAX_RUN_CANDLES:,} (MAX_RUN_CANDLES): end it within {longest:,} s "
                    f"of range_start ({_span_text(longest)}) or choose a longer timeframe."
                ]
    return bounds


def _span_text(seconds: int) -> str:
    days = seconds / 86_400
    return f"{days:,.0f} days" if days >= 2 else f"{seconds / 3600:,.1f} hours"


def _sweep_check(
    data: Mapping[str, Any], session_type: Any, strategy: Strategy | None, params: Any, errors: Errors
) -> dict[str, list] | None:
    """A backtest's sweep: known parameter names, not too many runs, every combination valid."""
    sweep = data.get("sweep")
    if sweep in (None, {}):
        return None
    if session_type != SessionType.BACKTEST:
        errors["sweep"] = ["Only backtests can sweep parameters."]
    elif not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
        errors["sweep"] = ["Must map parameter names to non-empty lists of values."]
    elif strategy is not None:
        problem = _sweep_problem(sweep, strategy, params)
        if problem:
            errors["sweep"] = [problem]
        elif isinstance(params, dict):
            return sweep
    return None


def _reuse_check(data: Mapping[str, Any], errors: Errors) -> bool:
    """Copy identical completed runs instead of computing them again: true unless said false."""
    reuse = data.get("reuse")
    if reuse is None:
        return True
    if not isinstance(reuse, bool):
        errors["reuse"] = [f"Must be true or false (got {reuse!r})."]
        return True
    return reuse


def _sweep_problem(sweep: dict[str, list], strategy: Strategy, params: Any) -> str | None:
    known = set(strategy.param_schema.get("properties", {}))
    unknown = [name for name in sweep if name not in known]
    if unknown:
        return f"Unknown parameter {', '.join(unknown)} for {strategy.id}."
    runs = 1
    for values in sweep.values():
        runs *= len(values)
    if runs > MAX_SWEEP_RUNS:
        return f"At most {MAX_SWEEP_RUNS} runs per sweep (this is {runs})."
    if not isinstance(params, dict):
        return None  # the params themselves are wrong, and said so under strategy_params
    for combination in sweep_combinations(sweep):
        try:
            strategy_params_validate(strategy=strategy, params={**params, **combination})
        except ParamsError as exc:
            field, messages = next(iter(exc.errors.items()))
            return f"{field}: {messages[0]} in {combination}"
    return None


# --- values -----------------------------------------------------------------------------------


def _notify_url_problem(value: str) -> str | None:
    """Why `value` cannot be a webhook target, or None.

    A host that does not resolve is accepted: the delivery resolves and checks it again (that
    check is the one that protects), and refusing would make saving depend on DNS being up and
    on a receiver's name being published before the session is created.
    """
    if not _is_http_url(value.strip()):
        return f"Must be an http:// or https:// URL (got {value!r})."
    try:
        webhook_target_resolve(value.strip())
    except WebhookTargetRefused as exc:
        return str(exc)
    except WebhookHostUnresolved:
        pass  # checked again when delivered
    return None


def _is_http_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def _unix_seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**40 else None
    if isinstance(value, float) and value.is_integer():
        return _unix_seconds(int(value))
    if isinstance(value, str) and value.strip().isdecimal():
        return _unix_seconds(int(value.strip()))
    return None


def _coin(symbol: str) -> str:
    for quote in ("USDT", "USD"):
        if symbol.endswith(quote) and symbol != quote:
            symbol = symbol[: -len(quote)]
            break
    return {"XBT": "BTC"}.get(symbol, symbol)
