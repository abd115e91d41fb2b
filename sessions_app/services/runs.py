"""A run's identity (the hash of everything that makes it, the same the engine computes), and
a run copied from an identical completed one instead of being computed again."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from bots.runner import canonical_hash
from sessions_app.models import Run, Session, Status, Trade
from sessions_app.services.progress import result_fields, session_best_save
from sessions_app.services.retry import deadlock_retried

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
