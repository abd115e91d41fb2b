"""Strategy and market reference data: syncing the registry, seeding markets, validating params."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from bots.strategies.base import ParamsError, validate_params
from bots.strategies.registry import get_strategies
from strategies_app.models import Market, Strategy

# (symbol, base, quote, settle, contract type, tick size). BitMEX lists the USD ones; sim has
# them all, and Binance its USDT pairs.
_USD_MARKETS = [
    ("XBTUSD", "XBT", "USD", "XBT", "inverse", "0.5"),
    ("ETHUSD", "ETH", "USD", "USD", "linear", "0.05"),
    ("SOLUSD", "SOL", "USD", "USD", "linear", "0.01"),
    ("XRPUSD", "XRP", "USD", "USD", "linear", "0.0001"),
    ("DOGEUSD", "DOGE", "USD", "USD", "linear", "0.00001"),
]
_BTCUSDT = ("BTCUSDT", "BTC", "USDT", "USDT", "linear", "0.1")
SEED_MARKETS: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "sim": [*_USD_MARKETS, _BTCUSDT],
    "bitmex": _USD_MARKETS,
    "binance": [_BTCUSDT, ("ETHUSDT", "ETH", "USDT", "USDT", "linear", "0.01")],
}


def strategies_sync(*, reset: bool = False, using: str = "default") -> list[str]:
    """Create a row for every registered strategy; refresh metadata of existing rows.

    Defaults and schema edited in the admin are kept unless `reset` is given.
    """
    synced = []
    for strategy_id, cls in get_strategies(settings.STRATEGY_PACKAGES).items():
        metadata = {
            "name": cls.name,
            "description": cls.description,
            "supported_types": list(cls.supported_types),
            "supported_markets": list(cls.supported_markets),
        }
        params = {"default_params": dict(cls.default_params), "param_schema": cls.param_schema}
        strategy = Strategy.objects.using(using).filter(id=strategy_id).first()
        if strategy is None:
            Strategy.objects.using(using).create(id=strategy_id, **metadata, **params)
        else:
            for key, value in {**metadata, **(params if reset else {})}.items():
                setattr(strategy, key, value)
            strategy.save(using=using)
        synced.append(strategy_id)
    return synced


def markets_seed(*, using: str = "default") -> int:
    """The markets of SPEC §3 for sim, bitmex and binance; existing rows are left alone."""
    created = 0
    with transaction.atomic(using=using):
        for exchange, rows in SEED_MARKETS.items():
            for symbol, base, quote, settle, contract_type, tick in rows:
                _, was_created = Market.objects.using(using).get_or_create(
                    exchange=exchange,
                    symbol=symbol,
                    defaults={
                        "base": base,
                        "quote": quote,
                        "settle": settle,
                        "contract_type": contract_type,
                        "tick_size": tick,
                    },
                )
                created += was_created
    return created


def strategy_params_validate(*, strategy: Strategy, params: Any) -> dict[str, Any]:
    """Defaults filled in, checked against the row's JSON Schema and the class's own rules.

    Raises ParamsError whose `errors` name each bad field.
    """
    merged = validate_params(params, strategy.param_schema, strategy.default_params)
    cls = get_strategies(settings.STRATEGY_PACKAGES).get(strategy.id)
    if cls is not None:
        errors = cls.check_params(merged)
        if errors:
            raise ParamsError(errors)
    return merged


def market_create(
    *,
    exchange: str,
    symbol: str,
    contract_type: str = "linear",
    settle: str | None = None,
    base: str | None = None,
    quote: str | None = None,
    tick_size: str = "0.01",
) -> Market:
    """A market for imported data; the symbol's base/quote are guessed when not given."""
    quote = quote or next(
        (q for q in ("USDT", "USDC", "USD", "EUR", "BTC") if symbol.endswith(q) and symbol != q),
        "USD",
    )
    base = base or (symbol[: -len(quote)] if symbol.endswith(quote) else symbol)
    if contract_type == "inverse":
        settle = settle or base
    market, _ = Market.objects.get_or_create(
        exchange=exchange,
        symbol=symbol,
        defaults={
            "base": base,
            "quote": quote,
            "settle": settle or quote,
            "contract_type": contract_type,
            "tick_size": tick_size,
        },
    )
    return market
