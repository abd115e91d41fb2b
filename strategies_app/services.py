"""Strategy and market reference data: syncing the registry, seeding markets, validating params."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bots.exchanges.base import Capability
from bots.exchanges.registry import exchange_class, exchange_classes
from bots.markets import KNOWN_MARKETS, MarketSpec
from bots.strategies.base import ParamsError, validate_params
from bots.strategies.registry import get_strategies
from strategies_app.market_data import exchange_markets
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
            if not reset:
                strategy.param_schema = _bounds_added(strategy.param_schema, cls.param_schema)
            strategy.save(using=using)
        synced.append(strategy_id)
    return synced


def _bounds_added(schema: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """An edited schema kept, with the class's own `maximum` on each number that has none
    (every number a strategy takes has one; rows synced before it had none)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    properties = {}
    for name, spec in schema["properties"].items():
        bound = (own.get("properties") or {}).get(name, {}).get("maximum")
        if (
            isinstance(spec, dict)
            and bound is not None
            and "maximum" not in spec
            and "exclusiveMaximum" not in spec
        ):
            spec = {**spec, "maximum": bound}
        properties[name] = spec
    return {**schema, "properties": properties}


def markets_seed(*, using: str = "default") -> int:
    """A row for each market each exchange lists (`Exchange.markets`, specs from
    bots.markets); existing rows are left alone, so edits made in the admin stay."""
    created = 0
    with transaction.atomic(using=using):
        for exchange, cls in exchange_classes().items():
            for symbol in cls.markets:
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
                        **account_fields(spec),
                    },
                )
                created += was_created
    return created


def account_fields(spec: MarketSpec) -> dict[str, Any]:
    """A market row's account rules (lot, leverage, maintenance margin, funding) from a spec."""
    return {
        "lot_size": _decimal(spec.lot_size),
        "max_leverage": _decimal(spec.max_leverage),
        "maintenance_margin_pct": _decimal(spec.maintenance_margin_pct),
        "perpetual": spec.perpetual,
        "funding_interval_hours": _decimal(spec.funding_interval_hours),
    }


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
            # Imported candles: sizes in whole units, no funding (not a perpetual).
            "lot_size": 1,
            "perpetual": False,
        },
    )
    return market


@dataclass
class MarketsRefreshed:
    """What `markets_refresh` changed, by symbol."""

    exchange: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))  # the float's shortest spelling: 1e-06, not 9.99...e-07


def markets_refresh(*, exchange: str, all_markets: bool = False) -> MarketsRefreshed:
    """Market rows of `exchange` from the exchange's own metadata (contract type, multiplier,
    settle currency, tick size, lot size, maximum leverage, maintenance margin, perpetual and
    its funding interval, active).

    Existing rows are updated; rows the exchange no longer lists become inactive; missing rows
    are created for the markets the engine lists for that exchange (`Exchange.markets`), or for
    every market the exchange lists with `all_markets`. Raises ValueError for an unknown
    exchange or one without market metadata (sim, local), and the exchange's error when it
    cannot be read: nothing changes.
    """
    try:
        cls = exchange_class(exchange)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if not cls.can(Capability.MARKET_METADATA):
        raise ValueError(f"{exchange} publishes no market metadata to refresh from.")
    listings = {listing.spec.symbol: listing for listing in exchange_markets(exchange)}
    if not listings:
        raise ValueError(f"{exchange} listed no markets: nothing changed.")
    wanted = set(listings) if all_markets else set(cls.markets)
    result = MarketsRefreshed(exchange=exchange)
    now = timezone.now()
    with transaction.atomic():
        rows = {m.symbol: m for m in Market.objects.select_for_update().filter(exchange=exchange)}
        for symbol, listing in sorted(listings.items()):
            spec = listing.spec
            values = {
                "base": spec.base,
                "quote": spec.quote,
                "settle": spec.settle,
                "contract_type": spec.contract_type,
                "tick_size": _decimal(spec.tick_size),
                "multiplier": _decimal(spec.multiplier),
                **account_fields(spec),
                "active": listing.active,
            }
            row = rows.get(symbol)
            if row is None:
                if symbol in wanted:
                    Market.objects.create(exchange=exchange, symbol=symbol, refreshed_at=now, **values)
                    result.created.append(symbol)
                continue
            changed = [k for k, v in values.items() if getattr(row, k) != v]
            for key in changed:
                setattr(row, key, values[key])
            row.refreshed_at = now
            row.save(update_fields=[*changed, "refreshed_at"])
            (result.updated if changed else result.unchanged).append(symbol)
        gone = [s for s, row in rows.items() if s not in listings and row.active]
        if gone:
            Market.objects.filter(exchange=exchange, symbol__in=gone).update(active=False, refreshed_at=now)
            result.deactivated.extend(sorted(gone))
    return result
