"""The worker's bookkeeping of a running session: claim, heartbeat, results, files, finish;
and the reaper that fails what no worker runs any more."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from sessions_app import outages
from sessions_app.list_totals import sessions_changed
from sessions_app.models import Run, Session, SessionEvent, SessionType, Status, Trade
from sessions_app.selectors import session_flags
from sessions_app.services.events import event_record
from sessions_app.services.notifications import session_ended_notify
from sessions_app.services.queueing import SESSION_RUN, SESSION_RUN_CHUNK, task_send
from sessions_app.services.trades import trades_file_assemble, trades_insert_missing

log = logging.getLogger(__name__)
T = TypeVar("T")
# MariaDB's deadlock and lock-wait errors: InnoDB rolled the statement back, trying again is safe.
RETRIED_ERRORS = (1213, 1205)


def deadlock_retried(write: Callable[[], T], *, tries: int = 5) -> T:
    """`write()`, again after a short pause when MariaDB chose it as a deadlock victim. Only
    outside a transaction: inside one, the whole transaction is the caller's to retry.

    A stop (session_stop -> session_finish) and the runner's per-run writes lock a session's
    rows in different orders and met once; the victim's transaction was rolled back whole."""
    for attempt in range(tries):
        try:
            return write()
        except OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code not in RETRIED_ERRORS or connection.in_atomic_block or attempt == tries - 1:
                raise
            log.warning("Deadlock (%s), trying again (%d)", code, attempt + 1)
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def retry_on_deadlock(func):
    """A service write run again (deadlock_retried) when MariaDB picked it as a deadlock's victim."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return deadlock_retried(lambda: func(*args, **kwargs))

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


def run_claim_next(*, session_id: str, worker: str, pid: int) -> Run | None:
    """Take the session's next `created` run for this process: running, stamped with who runs
    it. None when none is left or the session no longer runs. Every process sharing a sweep
    calls this; a run goes to exactly one of them, even when a chunk message is redelivered."""
    while True:
        candidate = (
            Run.objects.filter(session_id=session_id, status=Status.CREATED)
            .defer("metrics", "equity")
            .order_by("id")
            .first()
        )
        if candidate is None:
            return None
        now = timezone.now()
        # The conditional UPDATE decides between processes that picked the same candidate:
        # one row changes for one of them; the others look for the next candidate. A session
        # stopped or ended meanwhile gives nothing more to run.
        claimed = deadlock_retried(
            lambda candidate=candidate, now=now: Run.objects.filter(
                pk=candidate.pk,
                status=Status.CREATED,
                session__status=Status.RUNNING,
                session__stop_requested=False,
            ).update(status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker, pid=pid)
        )
        if claimed:
            candidate.status, candidate.started_at, candidate.worker, candidate.pid = (
                Status.RUNNING,
                now,
                worker,
                pid,
            )
            return candidate
        if not Session.objects.filter(pk=session_id, status=Status.RUNNING, stop_requested=False).exists():
            return None


def runs_claim_next(*, session_id: str, worker: str, pid: int, count: int) -> list[Run]:
    """Up to `count` of the session's next `created` runs for this process (run_claim_next,
    one after another): a process computing many configs in one compiled call takes them
    together. Empty when none is left or the session no longer runs."""
    runs: list[Run] = []
    while len(runs) < count:
        run = run_claim_next(session_id=session_id, worker=worker, pid=pid)
        if run is None:
            break
        runs.append(run)
    return runs


def session_chunks_send(*, session_id: str, count: int) -> int:
    """Queue `count` chunk tasks of a running sweep on the backtest queue; returns how many
    went out. A broker that fails meanwhile costs only parallelism: the sender computes the
    runs no chunk takes."""
    for sent in range(count):
        try:
            task_send(SESSION_RUN_CHUNK, args=[session_id], queue=SessionType.BACKTEST)
        except Exception:
            log.warning("Could not queue chunk %d of session %s", sent + 1, session_id, exc_info=True)
            return sent
    return count


def runs_heartbeat(*, run_ids: list[int]) -> None:
    """The process computing these runs is alive (the reaper fails runs whose stamp is stale)."""
    if run_ids:
        deadlock_retried(
            lambda: Run.objects.filter(pk__in=run_ids, status=Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )
        )


def run_fail(*, run: Run, error: str) -> None:
    """One run of a sweep failed (its strategy raised); the others go on."""
    deadlock_retried(
        lambda: Run.objects.filter(pk=run.pk, status__in=[Status.CREATED, Status.RUNNING]).update(
            status=Status.FAILED, error=error[:4000], stopped_at=timezone.now()
        )
    )


def runs_stamp_fingerprint(*, session_id: str, data_fingerprint: str) -> None:
    """Every run of the session reads the same candles: one stamp before any is computed."""
    Run.objects.filter(session_id=session_id).update(data_fingerprint=data_fingerprint)


def session_sweep_finish(
    *,
    session_id: str,
    progress: tuple[int, int | None] | None = None,
    traceback: str | None = None,
    reason: str | None = None,
) -> str | None:
    """End a backtest whose runs are spread over processes, once nothing is left to run;
    returns the final status, or None when some run is still going (its process ends it).

    Every process calls this after its last run: the last one to look sees no run left. A stop
    waits only for the running runs (the `created` ones end `stopped` with the session). The
    session is `completed` when at least one run completed (the summary's `error_count` says
    how many did not), `failed` when none did, `stopped` when its owner stopped it.
    """
    return deadlock_retried(
        lambda: _sweep_finish(session_id=session_id, progress=progress, traceback=traceback, reason=reason)
    )


def _sweep_finish(
    *, session_id: str, progress: tuple[int, int | None] | None, traceback: str | None, reason: str | None
) -> str | None:
    # The session's row locked (SQLite: the IMMEDIATE transaction's write lock): two processes
    # ending their last runs at once both see none left, and only one may write the trades file
    # and end the session. Nothing else waits on it by then: every run has ended.
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(pk=session_id, status=Status.RUNNING).first()
        if session is None:
            return None
        counts = dict(
            Run.objects.filter(session_id=session_id).values_list("status").annotate(n=Count("id")).order_by()
        )
        running, waiting = counts.get(Status.RUNNING, 0), counts.get(Status.CREATED, 0)
        if running or (waiting and not session.stop_requested):
            return None
        failed = list(
            Run.objects.filter(session_id=session_id, status=Status.FAILED)
            .order_by("id")
            .values("id", "config_hash", "error")
        )
        if session.stop_requested:
            status, error = Status.STOPPED, None
        elif counts.get(Status.COMPLETED, 0):
            status, error = Status.COMPLETED, None
        else:
            status = Status.FAILED
            error = reason or (failed[0]["error"] if failed else None) or "No run of the session completed."
        if progress is None and status != Status.STOPPED and session.progress_total:
            # Ended by a process that computed nothing (a late chunk, the reaper): every run
            # has ended, so every candle of the total the others reported was walked.
            progress = (session.progress_total, session.progress_total)
        if progress is not None:
            Session.objects.filter(pk=session_id).update(
                progress_done=progress[0], progress_total=progress[1]
            )
        trades_file_assemble(session=session, copy_of=_copied_session(session))
        best = (
            Run.objects.filter(session_id=session_id).order_by("-total_pnl", "id").values("metrics").first()
        )
        data: dict[str, Any] = {
            "trade_count": Run.objects.filter(session_id=session_id).aggregate(n=Sum("trade_count"))["n"]
            or 0,
            "progress_done": progress[0] if progress else session.progress_done,
            "metrics": {
                k: v
                for k, v in ((best or {}).get("metrics") or {}).items()
                if not isinstance(v, (list, dict))
            },
        }
        if failed:
            data["failed_runs"] = [
                {"id": r["id"], "config_hash": r["config_hash"], "error": r["error"]} for r in failed[:100]
            ]
            data["error_count"] = len(failed)
        if status == Status.FAILED and traceback:
            data["traceback"] = traceback[-4000:]
        if failed and status != Status.FAILED:  # the session completed, but not every run did
            event_record(
                session=session,
                event_type="error",
                data={"error": f"{len(failed)} of {sum(counts.values())} runs failed.", **data},
            )
        ended = session_finish(session=session, status=status, error=error, data=data)
        return status if ended else None


def _copied_session(session: Session) -> Session | None:
    """The one session every run of `session` was copied from, run for run in the same order
    (a cloned sweep, all reused); else None."""
    runs = list(
        Run.objects.filter(session_id=session.pk)
        .order_by("id")
        .values_list("config_hash", "reused_from__session_id")
    )
    sources = {source for _hash, source in runs}
    if len(sources) != 1 or None in sources:
        return None
    source = Session.objects.filter(pk=sources.pop()).first()
    if source is None:
        return None
    source_hashes = list(
        Run.objects.filter(session_id=source.pk).order_by("id").values_list("config_hash", flat=True)
    )
    return source if source_hashes == [h for h, _s in runs] else None


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


def run_resume(*, run: Run, checkpoint: dict) -> None:
    """Before a run goes on from `checkpoint`: trades closed after its last candle are taken
    out (the replay of the candles after it makes them again), so none counts twice."""
    run.trades.filter(exit_time__gt=checkpoint["last_time"]).delete()


@retry_on_deadlock
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
            run_update.update(result_fields(metrics), metrics=metrics)
        if run_update:
            Run.objects.filter(pk=run.pk).update(**run_update)
        if metrics:
            Session.objects.filter(pk=session.pk).update(**result_fields(metrics))
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


def session_redispatch(*, session_id: str, worker: str, reason: str, resumes: int = 1) -> bool:
    """A session whose worker is gone, handed to any worker (RESUME_LOST_SESSIONS): the task
    is queued again and the claim takes it; a live session goes on from its checkpoint, a
    backtest keeps its completed runs. `resumes`: its losses in a row, this one included
    (sessions_reap counts them). False when it is no longer that worker's."""
    with transaction.atomic():
        session = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker=worker).first()
        if session is None:
            return False
        now = timezone.now()
        handed = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker=worker).update(
            worker=None, pid=None, heartbeat_at=now, resumes=resumes, resumed_at=now
        )
        if not handed:
            return False
        event_record(
            session=session,
            event_type="info",
            data={"worker_lost": reason, "resuming": True, "resume": resumes},
        )
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
    sessions_changed()
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
    worker (session_redispatch): a live session resumes from its checkpoint, a backtest keeps
    its completed runs and runs the rest again. A sweep's run whose own process died while
    others still heartbeat the session fails alone ("Worker lost", SPEC §14). Right after a
    database outage stale heartbeats are forgiven: the runners could not write them (they are
    buffered)."""
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
        for session in running.filter(worker__isnull=False, heartbeat_at__lt=stale).only(*_LOST_FIELDS)
    ]
    forgiven = _database_recently_down()
    if lost and forgiven:
        log.info("Stale heartbeats of %d sessions forgiven: the database was down just now", len(lost))
        lost = []
    if restarted_node:
        # A backtest's runs may be spread over nodes: only the restarted node's runs are lost
        # (_backtest_runs_reap), the others go on.
        lost += [
            (session, f"Worker lost: {session.worker} restarted.")
            for session in running.filter(worker__startswith=f"{restarted_node}:")
            .exclude(type=SessionType.BACKTEST)
            .only(*_LOST_FIELDS)
        ]
    # Handed back (suspended, re-dispatched) sessions wait from the hand-back, not the start.
    never_picked = running.filter(worker__isnull=True, started_at__lt=unpicked).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=unpicked)
    )
    failed = []
    for session, reason in lost:
        if settings.RESUME_LOST_SESSIONS and session.type in RESUMABLE_TYPES:
            resumes = _resumes_after_loss(session)
            if resumes <= settings.MAX_RESUMES:
                if session.type == SessionType.BACKTEST:
                    runs_requeue(session_id=session.pk)  # what it was computing runs again
                if session_redispatch(
                    session_id=session.pk, worker=session.worker, reason=reason, resumes=resumes
                ):
                    log.warning("Session %s: %s Queued again to resume (%d).", session.pk, reason, resumes)
                continue
            # A session whose every worker dies (killed for memory, a crash in its data) would
            # otherwise be queued again every STALE_AFTER_SECONDS for ever.
            reason = f"Resumed {resumes - 1} times, last worker lost. {reason}"
        if session.type == SessionType.BACKTEST:
            # No process of the sweep heartbeats any more: what is left of it is lost; the
            # runs that completed still count (session_sweep_finish).
            _runs_lose(Run.objects.filter(session_id=session.pk), reason)
            if session_sweep_finish(session_id=session.pk, reason=reason) is not None:
                failed.append(session.pk)
        # session_finish changes only a still-running row: a session that finished
        # meanwhile is left alone.
        elif session_finish(session=session, status=Status.FAILED, error=reason):
            failed.append(session.pk)
    for session in never_picked.only("pk"):
        if session_finish(session=session, status=Status.FAILED, error=unpicked_reason):
            failed.append(session.pk)
    if forgiven:
        return failed
    return failed + _backtest_runs_reap(stale=stale, restarted_node=restarted_node)


# What the reaper reads of a lost session: enough to hand it back or fail it.
_LOST_FIELDS = ("pk", "worker", "type", "heartbeat_at", "resumes", "resumed_at")
# A resumed session that heartbeats this long after its resume was running again: its next
# loss counts as the first (a scraper that lives for months survives a node crash each month).
RESUME_HEALTHY_SECONDS = 600


def _resumes_after_loss(session: Session) -> int:
    """How many times in a row the session will have been resumed if this loss resumes it."""
    healthy = session.resumed_at is None or (
        session.heartbeat_at is not None
        and (session.heartbeat_at - session.resumed_at).total_seconds() >= RESUME_HEALTHY_SECONDS
    )
    return 1 if healthy else session.resumes + 1


def runs_requeue(*, session_id: str) -> None:
    """A lost backtest's runs that were being computed go back to `created`, their partial
    trades deleted: the resumed session computes them again; completed runs are kept."""
    with transaction.atomic():
        runs = Run.objects.filter(session_id=session_id, status=Status.RUNNING)
        Trade.objects.filter(run__in=runs).delete()
        runs.update(status=Status.CREATED, worker=None, pid=None, started_at=None, heartbeat_at=None)


def _backtest_runs_reap(*, stale, restarted_node: str | None) -> list[str]:
    """Fail the runs of running backtests whose process stopped heartbeating them (a SIGKILLed
    or lost chunk) or whose node has just started again; a session with nothing left to run
    then ends. Returns the sessions ended."""
    # The running backtests first: usually few or none, and then the runs are not read at all
    # (the reaper also runs on reads, sessions_reap_lazily).
    sweeps = list(
        Session.objects.filter(status=Status.RUNNING, type=SessionType.BACKTEST).values_list("pk", flat=True)
    )
    if not sweeps:
        return []
    runs = Run.objects.filter(session_id__in=sweeps, status=Status.RUNNING)
    lost = [
        (
            runs.filter(heartbeat_at__lt=stale),
            f"Worker lost: the chunk computing this run stopped heartbeating for more than "
            f"{settings.STALE_AFTER_SECONDS} s.",
        )
    ]
    if restarted_node:
        lost.append(
            (
                runs.filter(worker__startswith=f"{restarted_node}:"),
                f"Worker lost: {restarted_node} restarted.",
            )
        )
    touched: set[str] = set()
    for rows, reason in lost:
        touched |= _runs_lose(rows, reason)
    return [pk for pk in sorted(touched) if session_sweep_finish(session_id=pk) is not None]


def _runs_lose(runs, reason: str) -> set[str]:
    """Fail these runs (those still created or running) as lost; returns their sessions."""
    rows = list(runs.filter(status__in=[Status.CREATED, Status.RUNNING]).values_list("pk", "session_id"))
    for pk, _session_id in rows:
        # One row per statement, conditional: a run that ended meanwhile keeps its end.
        deadlock_retried(
            lambda pk=pk: Run.objects.filter(pk=pk, status__in=[Status.CREATED, Status.RUNNING]).update(
                status=Status.FAILED, error=reason, stopped_at=timezone.now()
            )
        )
    return {session_id for _pk, session_id in rows}


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
