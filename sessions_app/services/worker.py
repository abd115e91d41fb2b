"""The worker's bookkeeping of a running session: claim, heartbeat, results, files, finish;
and the reaper that fails what no worker runs any more."""

from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from sessions_app import outages
from sessions_app.models import Run, Session, SessionEvent, SessionType, Status
from sessions_app.selectors import session_flags
from sessions_app.services.events import event_record
from sessions_app.services.notifications import session_ended_notify
from sessions_app.services.queueing import SESSION_RUN, task_send
from sessions_app.services.trades import trades_insert_missing

log = logging.getLogger(__name__)

MYSQL_DEADLOCK = 1213  # ER_LOCK_DEADLOCK: InnoDB rolled the transaction back; it can run again
DEADLOCK_TRIES = 4


def retry_on_deadlock(func):
    """Run a service write again when MariaDB picked it as a deadlock's victim.

    A stop (session_stop -> session_finish) and the runner's per-run writes lock a session's
    rows in different orders and met once. The victim's transaction was rolled back whole, so
    running it again is safe; inside a caller's transaction it is not (the caller's work is
    gone too), so there it is raised as before."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(DEADLOCK_TRIES):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                deadlock = bool(exc.args) and exc.args[0] == MYSQL_DEADLOCK
                if not deadlock or connection.in_atomic_block or attempt == DEADLOCK_TRIES - 1:
                    raise
                log.warning("Deadlock in %s, trying again (%d)", func.__name__, attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    return wrapper


def session_claim(*, session_id: str, worker: str, pid: int) -> Session | None:
    """The worker's first step: take a running, unclaimed session. None when another message
    (a redelivery, a duplicate) or the reaper got there first: then nothing must run."""
    now = timezone.now()
    # One conditional UPDATE: of any number of concurrent claims exactly one changes the row.
    claimed = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker__isnull=True).update(
        worker=worker, pid=pid, heartbeat_at=now
    )
    if not claimed:
        return None
    # Its runs stay `created` until the runner takes each one (run_begin).
    return Session.objects.get(pk=session_id)


def run_begin(
    *, run: Run, worker: str, pid: int, data_fingerprint: str | None = None, resumed: bool = False
) -> None:
    """A run starts on this worker: running, stamped with who runs it and on what candles. A
    resumed run keeps the time it first started."""
    fields = {"status": Status.RUNNING, "worker": worker, "pid": pid}
    if not resumed:
        fields["started_at"] = timezone.now()
    if data_fingerprint is not None:
        fields["data_fingerprint"] = data_fingerprint
    Run.objects.filter(pk=run.pk, status__in=[Status.CREATED, Status.RUNNING]).update(**fields)


def session_heartbeat(
    *, session_id: str, progress_done: int, progress_total: int | None, worker: str | None = None
) -> tuple[str, bool] | None:
    """The runner is alive: stamp it and checkpoint progress. Returns (status, stop_requested)
    so the runner learns in the same round trip whether to stop; None when `worker` no longer
    runs the session (the reaper handed it to another worker): then it must stop, writing
    nothing more."""
    running = Session.objects.filter(pk=session_id, status=Status.RUNNING)
    updated = (running.filter(worker=worker) if worker else running).update(
        heartbeat_at=timezone.now(), progress_done=progress_done, progress_total=progress_total
    )
    if worker and not updated and running.exists():
        return None
    return session_flags(session_id)


def run_resume(*, run: Run, checkpoint: dict) -> None:
    """Before a run goes on from `checkpoint`: trades closed after its last candle are taken
    out (the replay of the candles after it makes them again), so none counts twice."""
    run.trades.filter(exit_time__gt=checkpoint["last_time"]).delete()


def run_reset(*, run: Run) -> None:
    """A backtest run a lost worker left half done runs again from the start: its trades go."""
    run.trades.all().delete()


@retry_on_deadlock
def session_results_save(
    *, session: Session, run: Run, metrics: dict, equity: list | None = None, status: str | None = None
) -> None:
    """A run's metrics (live checkpoint or final) and the session's results: its only run's,
    or for a sweep the most profitable run's."""
    fields = _result_fields(metrics)
    run_update = {**fields, "metrics": metrics}
    if equity is not None:
        run_update["equity"] = equity
    if status is not None:
        run_update.update(status=status, stopped_at=timezone.now())
    Run.objects.filter(pk=run.pk).update(**run_update)
    best = (
        session.runs.order_by("-total_pnl", "id")
        .values("trade_count", "total_pnl", "win_rate", "max_drawdown", "sharpe")
        .first()
    )
    if best:
        Session.objects.filter(pk=session.pk).update(**best)


def _result_fields(metrics: dict) -> dict:
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
        "sharpe": clamp(metrics.get("sharpe"), 1e7),
    }


@retry_on_deadlock
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
    went away mid-way inserts only the missing trades).

    Returns (status, stop_requested); None when the session is no longer this worker's (the
    reaper handed it to another one, or failed it): then nothing is written and the runner
    must stop."""
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
            run_update.update(_result_fields(metrics), metrics=metrics)
        if run_update:
            Run.objects.filter(pk=run.pk).update(**run_update)
        if metrics:
            Session.objects.filter(pk=session.pk).update(**_result_fields(metrics))
    return session_flags(session.pk)


def session_suspend(*, session: Session, worker: str) -> bool:
    """A worker's warm shutdown hands a session back: no worker and an event `suspended`. The
    task then queues it again (session_pass_on) once its worker has stopped consuming, and any
    worker resumes it from its checkpoint (session_claim takes it)."""
    with transaction.atomic():
        handed = Session.objects.filter(pk=session.pk, status=Status.RUNNING, worker=worker).update(
            worker=None, pid=None, heartbeat_at=timezone.now()
        )
        if not handed:
            return False
        event_record(session=session, event_type="suspended", data={"worker": worker})
    return True


def session_redispatch(*, session_id: str, worker: str, reason: str) -> bool:
    """A session whose worker is gone, handed to any worker (RESUME_LOST_SESSIONS): the task
    is queued again and the claim takes it; a live session goes on from its checkpoint, a
    backtest keeps its completed runs. False when it is no longer that worker's."""
    with transaction.atomic():
        session = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker=worker).first()
        if session is None:
            return False
        handed = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker=worker).update(
            worker=None, pid=None, heartbeat_at=timezone.now()
        )
        if not handed:
            return False
        event_record(session=session, event_type="info", data={"worker_lost": reason, "resuming": True})
        transaction.on_commit(lambda: _dispatch(session.pk, session.type))
    return True


def session_pass_on(*, session_id: str) -> None:
    """Queue an unclaimed running session's task again: one a shutting-down worker handed
    back or received."""
    session = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker__isnull=True).first()
    if session is not None:
        _dispatch(session.pk, session.type)


def _dispatch(session_id: str, queue: str) -> None:
    """Queue the session's task again; with the broker down the pickup timeout of the reaper
    fails it later, as for a start whose message was lost."""
    try:
        task_send(SESSION_RUN, args=[session_id], queue=queue)
    except Exception:
        log.exception("Could not queue session %s again", session_id)


@retry_on_deadlock
def session_files_set(
    *, session: Session, logs_file: str | None = None, trades_file: str | None = None
) -> None:
    fields = {k: v for k, v in (("logs_file", logs_file), ("trades_file", trades_file)) if v}
    Session.objects.filter(pk=session.pk).update(**fields)


@retry_on_deadlock
def session_finish(
    *,
    session: Session,
    status: str,
    error: str | None = None,
    data: dict | None = None,
    worker: str | None = None,
) -> bool:
    """Move a running session to its final status (stopped/completed/failed) with an event.
    With `worker`, only while that worker runs it (a runner the reaper replaced ends nothing)."""
    now = timezone.now()
    fields = {"status": status, "stopped_at": now, "stop_requested": False}
    if error is not None:
        fields["error"] = error
    running = Session.objects.filter(pk=session.pk, status=Status.RUNNING)
    changed = (running.filter(worker=worker) if worker else running).update(**fields)
    if not changed:
        return False
    Run.objects.filter(session_id=session.pk, status__in=[Status.CREATED, Status.RUNNING]).update(
        status=status, stopped_at=now
    )
    if status == Status.FAILED:
        event_record(session=session, event_type="error", data={"error": error, **(data or {})})
    else:
        event_type = "completed" if status == Status.COMPLETED else "stopped"
        event_record(session=session, event_type=event_type, data=data or {})
    # Webhooks go out once the end is committed, from a task: never on the runner's time.
    transaction.on_commit(lambda: session_ended_notify(session_id=session.pk, status=status))
    return True


def sessions_reap(*, restarted_node: str | None = None) -> list[str]:
    """Fail running sessions nobody runs: a heartbeat older than STALE_AFTER_SECONDS ("worker
    lost"), never picked up within PICKUP_TIMEOUT_SECONDS, or left by a worker node that has
    just started again (`restarted_node`: what it ran before cannot be running any more).
    Works with no worker alive.

    With RESUME_LOST_SESSIONS (the default) a lost session is not failed but handed to any
    worker (session_redispatch): it resumes from its checkpoint. Right after a database outage
    stale heartbeats are forgiven: the runners could not write them (they are buffered)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    unpicked = now - timedelta(seconds=settings.PICKUP_TIMEOUT_SECONDS)
    running = Session.objects.filter(status=Status.RUNNING)
    stale_reason = f"Worker lost: no heartbeat for more than {settings.STALE_AFTER_SECONDS} s."
    unpicked_reason = (
        f"No worker picked the session up within {settings.PICKUP_TIMEOUT_SECONDS} s; "
        "is a worker running for this queue?"
    )
    lost = [
        (session, stale_reason)
        for session in running.filter(worker__isnull=False, heartbeat_at__lt=stale).only(
            "pk", "worker", "type"
        )
    ]
    if lost and _database_recently_down():
        log.info("Stale heartbeats of %d sessions forgiven: the database was down just now", len(lost))
        lost = []
    if restarted_node:
        lost += [
            (session, f"Worker lost: {session.worker} restarted.")
            for session in running.filter(worker__startswith=f"{restarted_node}:").only(
                "pk", "worker", "type"
            )
        ]
    # Handed back (suspended, re-dispatched) sessions wait from the hand-back, not the start.
    never_picked = running.filter(worker__isnull=True, started_at__lt=unpicked).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=unpicked)
    )
    failed = []
    for session, reason in lost:
        if settings.RESUME_LOST_SESSIONS and session.type in RESUMABLE_TYPES:
            if session_redispatch(session_id=session.pk, worker=session.worker, reason=reason):
                log.warning("Session %s: %s Queued again to resume.", session.pk, reason)
            continue
        # session_finish changes only a still-running row: a session that finished
        # meanwhile is left alone.
        if session_finish(session=session, status=Status.FAILED, error=reason):
            failed.append(session.pk)
    for session in never_picked.only("pk"):
        if session_finish(session=session, status=Status.FAILED, error=unpicked_reason):
            failed.append(session.pk)
    return failed


# Every type resumes: a live session from its checkpoint, a scraper from now (its archive
# writes are idempotent), a backtest with its completed runs kept.
RESUMABLE_TYPES = (SessionType.TEST, SessionType.SCRAPER, SessionType.BACKTEST)


def _database_recently_down() -> bool:
    """This process saw the database down lately, or the database server itself has just
    (re)started: in both cases a late heartbeat says nothing about the worker."""
    window = settings.STALE_AFTER_SECONDS
    if outages.database_down_within(window):
        return True
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'Uptime'")
            row = cursor.fetchone()
        return bool(row) and int(row[1]) < window
    return False


_lazy_lock = threading.Lock()
_lazy_last = 0.0


def sessions_reap_lazily() -> None:
    """Reap on reads too, at most every few seconds, so a dead session shows as lost even
    when neither a worker nor the scheduler is alive. The cache spaces the reaps across
    processes; with the cache down (its error ignored: None) this process's clock does."""
    global _lazy_last
    added = cache.add("sessions:reap-lazily", 1, timeout=5)
    if added is None:
        with _lazy_lock:
            if time.monotonic() - _lazy_last < 5:
                return
            _lazy_last = time.monotonic()
    elif not added:
        return
    sessions_reap()
