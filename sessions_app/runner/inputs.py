"""What a session's runs read: its markets' specs, its candles (with the warm-up before
range_start its strategies need), each run's engine config."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings

from bots import runner as engine
from bots.candles import Candles, timeframe_seconds
from bots.strategies.registry import get_strategy
from sessions_app.models import Run, Session
from sessions_app.services.runs import engine_config
from strategies_app.market_data import candles_load, funding_load
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
    """The run's engine config (account included: leverage, sizing, maintenance margin,
    funding), the one its config hash was computed over (services.runs.engine_config)."""
    return engine_config(session, run.params, markets)


def startup_candles(session: Session) -> int:
    """The most candles of history before range_start a run of the session needs
    (Strategy.startup_candles for its parameters; a sweep's largest). A strategy or parameters
    the engine refuses count 0: that run fails with the engine's error."""
    try:
        strategy = get_strategy(session.strategy, tuple(settings.STRATEGY_PACKAGES))
    except Exception:
        return 0
    seen: set[str] = set()
    most = 0
    for params in session.runs.values_list("params", flat=True):
        key = json.dumps(params, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            most = max(most, int(strategy(dict(params or {})).startup_candles()))
        except Exception:
            continue
    return most


def candles_start(session: Session, warmup: int) -> int | None:
    """Where the candles the session's runs read begin: `warmup` candles before range_start
    (None: no start)."""
    if session.range_start is None:
        return None
    return max(0, int(session.range_start) - warmup * timeframe_seconds(session.timeframe))


def session_candles(session: Session, markets: list, *, warmup: int | None = None) -> dict:
    """The candles every run of the session reads, per symbol: [range_start, range_end) and
    the `warmup` candles before it (default startup_candles(session)), of which the engine
    keeps each run's own startup_candles (not traded, not in the metrics)."""
    if warmup is None:
        warmup = startup_candles(session)
    return candles_load(
        exchange=session.exchange,
        symbols=[m.symbol for m in markets],
        timeframe=session.timeframe,
        start=candles_start(session, warmup),
        end=session.range_end,
    )


def session_funding(session: Session, markets: list, *, warmup: int) -> dict:
    """The perpetual markets' funding rates over the candles the runs read (sim: computed;
    others: what `download_candles --funding` archived), per symbol."""
    start = candles_start(session, warmup)
    return funding_load(
        session.exchange,
        [m.symbol for m in markets],
        0 if start is None else start,
        session.range_end if session.range_end is not None else 2**40,
        specs={m.symbol: m for m in markets},
    )


def funding_fingerprint(fingerprint: str, funding: dict) -> str:
    """The data fingerprint with the funding rates the runs pay folded in (a run computed
    before the rates were downloaded is not reused after); unchanged without rates."""
    digest = hashlib.sha256()
    for symbol in sorted(funding):
        rates = funding[symbol]
        if len(rates):
            digest.update(symbol.encode() + rates.times.tobytes() + rates.rates.tobytes())
    if digest.digest() == hashlib.sha256().digest():
        return fingerprint
    return hashlib.sha256(f"{fingerprint}:{digest.hexdigest()}".encode()).hexdigest()[: len(fingerprint)]


def in_range(session: Session, legs: Candles) -> int:
    """How many of `legs` open in [range_start, range_end): the candles a run trades."""
    times = legs.time
    if session.range_start is not None:
        times = times[times >= session.range_start]
    if session.range_end is not None:
        times = times[times < session.range_end]
    return len(times)


def warmup_shortfall(session: Session, candles: dict, warmup: int) -> list[str]:
    """A line per symbol with fewer than `warmup` candles before range_start (the archive or
    the exchange has no older ones): its runs still run, their warm-up is shorter."""
    if not warmup or session.range_start is None:
        return []
    lines = []
    for symbol, legs in candles.items():
        before = int((legs.time < session.range_start).sum())
        if before < warmup:
            lines.append(
                f"Warm-up {symbol}: {before} of the {warmup} {session.timeframe} candles before "
                "the range start exist; the strategy's first decisions come that much later."
            )
    return lines
