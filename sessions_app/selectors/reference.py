"""Strategies and markets: the reference data the modal, the lists and the API offer."""

from __future__ import annotations

from collections.abc import Sequence

from django.shortcuts import get_object_or_404

from sessions_app.models import Session
from strategies_app.models import Market, Strategy

# A session on a market this list does not know is counted in US dollars.
DEFAULT_CURRENCY = "USD"


def strategy_list(*, session_type: str | None = None) -> list[Strategy]:
    """Every strategy, by id; with `session_type`, only those that run that type of session."""
    strategies = list(Strategy.objects.order_by("id"))
    if session_type:
        strategies = [s for s in strategies if session_type in (s.supported_types or [])]
    return strategies


def strategy_get(*, strategy_id: str) -> Strategy:
    return get_object_or_404(Strategy, pk=strategy_id)


def market_list(*, exchange: str | None = None) -> list[Market]:
    """Active markets by exchange and symbol; with `exchange`, only that exchange's."""
    markets = Market.objects.filter(active=True).order_by("exchange", "symbol")
    if exchange:
        markets = markets.filter(exchange=exchange)
    return list(markets)


def strategy_markets(*, strategy: Strategy | None, exchange: str) -> list[str]:
    """Markets a strategy trades on the exchange: "*" is every active market there; pairs
    ("XBTUSD+ETHUSD") are offered when all their legs exist."""
    active = [m.symbol for m in market_list(exchange=exchange)]
    if strategy is None or "*" in strategy.supported_markets:
        return active
    known = set(active)
    return [m for m in strategy.supported_markets if all(leg in known for leg in m.split("+"))]


def market_choices() -> list[str]:
    """Every market a session can be on: active symbols, and the pairs strategies trade."""
    symbols = set(Market.objects.filter(active=True).values_list("symbol", flat=True))
    return sorted(symbols | {m for s in Strategy.objects.all() for m in s.supported_markets if "+" in m})


def market_quotes(*, exchange: str) -> dict[str, str]:
    """symbol -> quote currency of the exchange's markets (active or not)."""
    return dict(Market.objects.filter(exchange=exchange).values_list("symbol", "quote"))


def session_currencies(*, sessions: Sequence[Session]) -> dict[str, str]:
    """Each session's currency, by id: the settle currency of its first leg's market."""
    if not sessions:
        return {}
    legs = {(s.exchange, s.market_legs[0]) for s in sessions}
    markets = Market.objects.filter(
        exchange__in={exchange for exchange, _ in legs}, symbol__in={symbol for _, symbol in legs}
    ).values_list("exchange", "symbol", "settle")
    settle = {(exchange, symbol): currency for exchange, symbol, currency in markets}
    return {s.pk: settle.get((s.exchange, s.market_legs[0]), DEFAULT_CURRENCY) for s in sessions}


def session_currency(session: Session) -> str:
    """The currency PnL and equity are counted in: the first leg's settle currency."""
    return session_currencies(sessions=[session])[session.pk]
