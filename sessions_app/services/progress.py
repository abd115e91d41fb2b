"""What a running session records as it goes: heartbeats and progress, a live runner's
batched writes (trades, events, checkpoint), a run's results and the session's best, the
session's files."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Run, Session, SessionEvent, Status
from sessions_app.selectors import session_flags
from sessions_app.services.retry import deadlock_retried
from sessions_app.services.trades import trades_insert_missing


def session_heartbeat(
    *,
    session_id: str,
    progress_done: int | None,
    progress_total: int | None,
    worker: str | None = None,
) -> tuple[str, bool] | None:
    """The runner is alive: stamp it and checkpoint progress (`progress_done` None: a process
    that joined a sweep and knows no progress yet leaves it as it is). Returns (status,
    stop_requested) so the runner learns in the same round trip whether to stop; None when
    `worker` no longer runs the session (the reaper handed it to another worker): then it must
    stop, writing nothing more. A sweep's processes heartbeat without `worker`: the session is
    the coordinator's, its runs each process's own."""
    fields = {"heartbeat_at": timezone.now()}
    if progress_done is not None:
        fields.update(progress_done=progress_done, progress_total=progress_total)
    running = Session.objects.filter(pk=session_id, status=Status.RUNNING)
    updated = (running.filter(worker=worker) if worker else running).update(**fields)
    if worker and not updated and running.exists():
        return None
    return session_flags(session_id)


def runs_heartbeat(*, run_ids: list[int]) -> None:
    """The process computing these runs is alive (the reaper fails runs whose stamp is stale)."""
    if run_ids:
        deadlock_retried(
            lambda: Run.objects.filter(pk__in=run_ids, status=Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )
        )


def runs_stamp_fingerprint(*, session_id: str, data_fingerprint: str) -> None:
    """Every run of the session reads the same candles: one stamp before any is computed."""
    Run.objects.filter(session_id=session_id).update(data_fingerprint=data_fingerprint)


def run_resume(*, run: Run, checkpoint: dict) -> None:
    """Before a run goes on from `checkpoint`: trades closed after its last candle are taken
    out (the replay of the candles after it makes them again), so none counts twice."""
    run.trades.filter(exit_time__gt=checkpoint["last_time"]).delete()


def session_progress_write(
    *,
    session: Session,
    run: Run,
    worker: str,
    trades: list[tuple],
    events: list[tuple[str, dict, datetime]],
    checkpoint: dict | None,
    metrics: dict | None,
    progress_done: int,
    progress_total: int | None,
) -> tuple[str, bool] | None:
    """A live runner's writes since the last ones, in one transaction: the heartbeat and
    progress, the trades, the events (trade, metric_update: in order, with their own times),
    the checkpoint to resume from and the live metrics. All or nothing, so a checkpoint never
    counts a trade the table lacks, and none twice (a write tried again after the database
    went away mid-way, or after a deadlock rolled it back, inserts only the missing trades).

    Returns (status, stop_requested); None when the session is no longer this worker's (the
    reaper handed it to another one, or failed it): then nothing is written and the runner
    must stop."""

    def write() -> tuple[str, bool] | None:
        with transaction.atomic():
            owned = Session.objects.filter(pk=session.pk, status=Status.RUNNING, worker=worker).update(
                heartbeat_at=timezone.now(), progress_done=progress_done, progress_total=progress_total
            )
            if not owned:
                return None
            trades_insert_missing(run_id=run.pk, rows=trades)
            if events:
                SessionEvent.objects.bulk_create(
                    SessionEvent(session_id=session.pk, event_type=kind, event_data=data, created_at=at)
                    for kind, data, at in events
                )
            run_update: dict = {}
            if checkpoint is not None:
                run_update["checkpoint"] = checkpoint
            if metrics:
                run_update.update(result_fields(metrics), metrics=metrics)
            if run_update:
                Run.objects.filter(pk=run.pk).update(**run_update)
            if metrics:
                Session.objects.filter(pk=session.pk).update(**result_fields(metrics))
        return session_flags(session.pk)

    return deadlock_retried(write)


def session_results_save(
    *, session: Session, run: Run, metrics: dict, equity: list | None = None, status: str | None = None
) -> None:
    """A run's metrics (live checkpoint or final) and the session's results: its only run's,
    or for a sweep the most profitable run's."""
    fields = result_fields(metrics)
    run_update = {**fields, "metrics": metrics}
    if equity is not None:
        run_update["equity"] = equity
    if status is not None:
        run_update.update(status=status, stopped_at=timezone.now())
    # Two short statements, the run's row then the session's, each its own transaction outside
    # a caller's: processes sharing a sweep and a stop never hold one row while waiting for
    # the other (a MariaDB 1213 deadlock once seen here), and a deadlock victim is retried.
    deadlock_retried(lambda: Run.objects.filter(pk=run.pk).update(**run_update))
    deadlock_retried(lambda: session_best_save(session=session))


def session_best_save(*, session: Session) -> None:
    """The session's results: its only run's, or for a sweep the most profitable run's."""
    best = (
        Run.objects.filter(session_id=session.pk)
        .order_by("-total_pnl", "id")
        .values("trade_count", "total_pnl", "win_rate", "max_drawdown", "sharpe")
        .first()
    )
    if best:
        Session.objects.filter(pk=session.pk).update(**best)


def result_fields(metrics: dict) -> dict:
    """The metrics the run and session rows keep in columns, each clamped to what its column
    holds (a non-finite number as 0); sharpe null where the engine has none (undefined)."""

    def clamp(value, limit):
        value = float(value or 0)
        if value != value or value in (float("inf"), float("-inf")):
            return Decimal(0)
        return Decimal(str(round(max(-limit, min(limit, value)), 8)))

    return {
        "trade_count": int(metrics.get("trade_count") or 0),
        "total_pnl": clamp(metrics.get("total_pnl"), 1e11),
        "win_rate": clamp(metrics.get("win_rate"), 100),
        "max_drawdown": clamp(metrics.get("max_drawdown"), 1e5),
        "sharpe": None if metrics.get("sharpe") is None else clamp(metrics.get("sharpe"), 1e7),
    }


def session_files_set(
    *, session: Session, logs_file: str | None = None, trades_file: str | None = None
) -> None:
    """Where the session's log and trades file are (the ones given; the others are kept)."""
    fields = {k: v for k, v in (("logs_file", logs_file), ("trades_file", trades_file)) if v}
    deadlock_retried(lambda: Session.objects.filter(pk=session.pk).update(**fields))
