"""What a session's runs read: its markets' specs, its candles, each run's engine config."""

from __future__ import annotations

from django.conf import settings

from bots import runner as engine
from sessions_app.models import Run, Session
from strategies_app.market_data import candles_load
from strategies_app.models import Market


def market_specs(session: Session) -> list:
    """The engine's spec of each of the session's markets (a pair's legs in order)."""
    symbols = session.market.split("+")
    found = {m.symbol: m for m in Market.objects.filter(exchange=session.exchange, symbol__in=symbols)}
    missing = [s for s in symbols if s not in found]
    if missing:
        raise ValueError(f"Unknown market {', '.join(missing)} on {session.exchange}")
    return [found[s].spec() for s in symbols]


def run_config(session: Session, run: Run, markets: list) -> engine.RunConfig:
    return engine.RunConfig(
        strategy=session.strategy,
        params=run.params,
        markets=markets,
        exchange=session.exchange,
        timeframe=session.timeframe,
        range_start=session.range_start,
        range_end=session.range_end,
        initial_balance=float(session.initial_balance or 0),
        fee_bps=float(session.fee_bps),
        slippage_bps=float(session.slippage_bps),
        strategy_packages=tuple(settings.STRATEGY_PACKAGES),
    )


def session_candles(session: Session, markets: list) -> dict:
    """The candles every run of the session reads, per symbol."""
    return candles_load(
        exchange=session.exchange,
        symbols=[m.symbol for m in markets],
        timeframe=session.timeframe,
        start=session.range_start,
        end=session.range_end,
    )
