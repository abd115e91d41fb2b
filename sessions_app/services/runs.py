"""A run's identity (the hash of everything that makes it, the same the engine computes), and
a run copied from an identical completed one instead of being computed again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from bots.runner import canonical_hash
from sessions_app.models import Run, Session, Status, Trade
from sessions_app.services.trades import trades_insert
from sessions_app.services.worker import session_results_save

# Parts of a config that make a run what it is; sha256 of their canonical JSON is its hash.
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
)


def config_hash(session: Session, params: dict[str, Any]) -> str:
    """The engine's hash (bots.runner.canonical_hash) of everything that makes the run, so a
    run and its RunConfig carry the same identity."""
    canonical = {field: getattr(session, field) for field in HASHED_FIELDS}
    for field in ("initial_balance", "fee_bps", "slippage_bps"):
        canonical[field] = float(canonical[field])
    return canonical_hash({**canonical, "params": params})


def run_reuse(*, session: Session, run: Run, source: Run) -> list[tuple]:
    """`run` gets `source`'s results, metrics, equity and trades (copied as rows, so they page
    like any other run's), completed, `reused_from` = source. Returns the trade rows as
    `trades_insert` took them (for the trades file)."""
    values = Trade.objects.filter(run=source).order_by("entry_time", "id").values_list(*Trade.VALUE_FIELDS)
    rows = [(run.pk, *(float(v) if isinstance(v, Decimal) else v for v in row)) for row in values]
    with transaction.atomic():
        trades_insert(rows)
        Run.objects.filter(pk=run.pk).update(reused_from=source)
        session_results_save(
            session=session, run=run, metrics=source.metrics, equity=source.equity, status=Status.COMPLETED
        )
    return rows
