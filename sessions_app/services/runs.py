"""A run's identity (the hash of everything that makes it, the same the engine computes), and
a run copied from an identical completed one instead of being computed again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from bots.markets import MarketSpec, market_spec
from bots.runner import RunConfig
from sessions_app.models import Run, Session, Status, Trade
from sessions_app.services.progress import result_fields, session_best_save
from sessions_app.services.retry import deadlock_retried
from strategies_app.models import Market

# The session's fields that make a run what it is, with its params and its markets' account
# rules (lot, maintenance margin, perpetual); sha256 of RunConfig.canonical() is its hash.
HASHED_FIELDS = (
    "strategy",
    "market",
    "exchange",
    "timeframe",
    "range_start",
    "range_end",
    "initial_balance",
    "fee_bps",
    "slippage_bps",
    "leverage",
    "sizing",
    "maintenance_margin_pct",
    "funding",
)


def session_market_specs(session: Session) -> list[MarketSpec]:
    """The engine's spec of each leg, from the session exchange's market rows (the engine's own
    list for a symbol without one: an imported legacy session's)."""
    legs = session.market.split("+")
    rows = {m.symbol: m for m in Market.objects.filter(exchange=session.exchange, symbol__in=legs)}
    return [rows[leg].spec() if leg in rows else market_spec(leg) for leg in legs]


def engine_config(session: Session, params: dict[str, Any], markets: Sequence[MarketSpec]) -> RunConfig:
    """The engine's config of one run of the session: what the worker runs and what its hash
    is over (one definition for both)."""
    return RunConfig(
        strategy=session.strategy,
        params=params,
        markets=list(markets),
        exchange=session.exchange,
        timeframe=session.timeframe,
        range_start=session.range_start,
        range_end=session.range_end,
        initial_balance=float(session.initial_balance or 0),
        fee_bps=float(session.fee_bps),
        slippage_bps=float(session.slippage_bps),
        leverage=float(session.leverage),
        sizing=session.sizing,
        maintenance_margin_pct=_float_or_none(session.maintenance_margin_pct),
        funding=session.funding,
        strategy_packages=tuple(settings.STRATEGY_PACKAGES),
    )


def config_hash(session: Session, params: dict[str, Any], markets: Sequence[MarketSpec] | None = None) -> str:
    """The engine's hash (RunConfig.config_hash) of everything that makes the run, so a run and
    its RunConfig carry the same identity. `markets`: the session's specs, when the caller has
    them (session_market_specs otherwise)."""
    if markets is None:
        markets = session_market_specs(session)
    return engine_config(session, params, markets).config_hash()


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


def runs_reuse(*, session: Session, pairs: list[tuple[Run, Run]], worker: str, pid: int) -> None:
    """Each `run` of `pairs` gets its `source`'s results, metrics, equity and trades, completed,
    `reused_from` = source. The trades are copied inside the database (one INSERT ... SELECT
    per run, nothing read into Python), as rows of the run's own so they page like any other.
    One transaction for the lot; the session's results once, at the end."""
    if not pairs:
        return
    table = connection.ops.quote_name(Trade._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in Trade.VALUE_FIELDS)
    run_id, entry_time = (connection.ops.quote_name(c) for c in ("run_id", "entry_time"))
    copy = (
        f"INSERT INTO {table} ({run_id}, {columns}) SELECT %s, {columns} FROM {table} "
        f"WHERE {run_id} = %s ORDER BY {entry_time}, {connection.ops.quote_name('id')}"
    )
    now = timezone.now()
    # All or nothing, and again if MariaDB picked it as a deadlock's victim (rolled back whole).
    deadlock_retried(lambda: _runs_copy(session, pairs, copy, worker, pid, now))


def _runs_copy(session: Session, pairs: list[tuple[Run, Run]], copy: str, worker: str, pid: int, now) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for run, source in pairs:
            cursor.execute(copy, [run.pk, source.pk])
            # The equity curve (thousands of points) copied inside the database too.
            Run.objects.filter(pk=run.pk).update(
                **result_fields(source.metrics),
                metrics=source.metrics,
                equity=Subquery(Run.objects.filter(pk=source.pk).values("equity")[:1]),
                status=Status.COMPLETED,
                reused_from=source,
                worker=worker,
                pid=pid,
                started_at=now,
                stopped_at=now,
                heartbeat_at=now,
            )
        session_best_save(session=session)
