"""Strategy and market reference data: syncing the registry, seeding markets, validating params."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from bots.markets import EXCHANGE_MARKETS, KNOWN_MARKETS
from bots.strategies.base import ParamsError, validate_params
from bots.strategies.registry import get_strategies
from strategies_app.models import Market, Strategy


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
    """A row for each market the engine knows on each exchange that lists it (the engine's
    list, bots.markets); existing rows are left alone, so edits made in the admin stay."""
    created = 0
    with transaction.atomic(using=using):
        for exchange, symbols in EXCHANGE_MARKETS.items():
            for symbol in symbols:
                spec = KNOWN_MARKETS[symbol]
                _, was_created = Market.objects.using(using).get_or_create(
                    exchange=exchange,
                    symbol=symbol,
                    defaults={
                        "base": spec.base,
                        "quote": spec.quote,
                        "settle": spec.settle,
                        "contract_type": spec.contract_type,
                        # repr: the float's shortest spelling (0.1, not 0.1000000000000000055).
                        "tick_size": Decimal(repr(spec.tick_size)),
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
