"""The reaper: running sessions and runs that no worker runs any more, handed to another
worker (resumed) or failed. It needs no worker alive: the scheduler runs it, a restarted node
runs it for what it left, and reads run it too (sessions_reap_lazily)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sessions_app import outages
from sessions_app.models import Run, Session, SessionType, Status, Trade
from sessions_app.services.claims import session_redispatch
from sessions_app.services.finish import session_finish, session_sweep_finish
from sessions_app.services.retry import deadlock_retried

log = logging.getLogger(__name__)

# Every type resumes: a live session from its checkpoint, a scraper from the archive's newest
# candle (backfilling the gap; its archive writes are idempotent), a backtest with its
# completed runs kept.
RESUMABLE_TYPES = (SessionType.TEST, SessionType.SCRAPER, SessionType.BACKTEST)
# What the reaper reads of a lost session: enough to hand it back or fail it.
_LOST_FIELDS = ("pk", "worker", "type", "heartbeat_at", "resumes", "resumed_at")
# A resumed session that heartbeats this long after its resume was running again: its next
# loss counts as the first (a scraper that lives for months survives a node crash each month).
RESUME_HEALTHY_SECONDS = 600


def sessions_reap(*, restarted_node: str | None = None) -> list[str]:
    """Fail running sessions nobody runs: a heartbeat older than STALE_AFTER_SECONDS ("worker
    lost"), never picked up within PICKUP_TIMEOUT_SECONDS, or left by a worker node that has
    just started again (`restarted_node`: what it ran before cannot be running any more).
    Works with no worker alive. Returns the sessions it failed.

    With RESUME_LOST_SESSIONS (the default) a lost session is not failed but handed to any
    worker (session_redispatch): a live session resumes from its checkpoint, a backtest keeps
    its completed runs and runs the rest again. A sweep's run whose own process died while
    others still heartbeat the session fails alone ("Worker lost"). Right after a database
    outage stale heartbeats are forgiven: the runners could not write them (they are
    buffered)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    running = Session.objects.filter(status=Status.RUNNING)
    stale_reason = f"Worker lost: no heartbeat for more than {settings.STALE_AFTER_SECONDS} s."
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
    failed = [session.pk for session, reason in lost if _session_lost(session, reason)]
    failed += _unpicked_fail(now - timedelta(seconds=settings.PICKUP_TIMEOUT_SECONDS))
    if forgiven:
        return failed
    return failed + _backtest_runs_reap(stale=stale, restarted_node=restarted_node)


def _session_lost(session: Session, reason: str) -> bool:
    """A running session whose worker is gone: handed to another worker while its resumes
    last (False), else failed (True when this call ended it)."""
    if settings.RESUME_LOST_SESSIONS and session.type in RESUMABLE_TYPES:
        resumes = _resumes_after_loss(session)
        if resumes <= settings.MAX_RESUMES:
            if session.type == SessionType.BACKTEST:
                runs_requeue(session_id=session.pk)  # what it was computing runs again
            if session_redispatch(
                session_id=session.pk, worker=session.worker, reason=reason, resumes=resumes
            ):
                log.warning("Session %s: %s Queued again to resume (%d).", session.pk, reason, resumes)
            return False
        # A session whose every worker dies (killed for memory, a crash in its data) would
        # otherwise be queued again every STALE_AFTER_SECONDS for ever.
        reason = f"Resumed {resumes - 1} times, last worker lost. {reason}"
    if session.type == SessionType.BACKTEST:
        # No process of the sweep heartbeats any more: what is left of it is lost; the runs
        # that completed still count (session_sweep_finish).
        _runs_lose(Run.objects.filter(session_id=session.pk), reason)
        return session_sweep_finish(session_id=session.pk, reason=reason) is not None
    # session_finish changes only a still-running row: a session that finished meanwhile is
    # left alone.
    return session_finish(session=session, status=Status.FAILED, error=reason)


def _unpicked_fail(unpicked: datetime) -> list[str]:
    """Fail the running sessions no worker claimed since `unpicked`; returns them."""
    reason = (
        f"No worker picked the session up within {settings.PICKUP_TIMEOUT_SECONDS} s; "
        "is a worker running for this queue?"
    )
    # Handed back (suspended, re-dispatched) sessions wait from the hand-back, not the start.
    never_picked = Session.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=unpicked),
        status=Status.RUNNING,
        worker__isnull=True,
        started_at__lt=unpicked,
    )
    return [
        session.pk
        for session in never_picked.only("pk")
        if session_finish(session=session, status=Status.FAILED, error=reason)
    ]


def _resumes_after_loss(session: Session) -> int:
    """How many times in a row the session will have been resumed if this loss resumes it."""
    healthy = session.resumed_at is None or (
        session.heartbeat_at is not None
        and (session.heartbeat_at - session.resumed_at).total_seconds() >= RESUME_HEALTHY_SECONDS
    )
    return 1 if healthy else session.resumes + 1


def run_requeue(*, run: Run) -> None:
    """A run its process gave up on a warm shutdown goes back to `created`, its partial trades
    deleted, for whichever process takes it next (a sweep's other processes, or the session
    resumed); only while it is still that process's running run."""
    with transaction.atomic():
        _requeue(Run.objects.filter(pk=run.pk, status=Status.RUNNING, worker=run.worker))


def runs_requeue(*, session_id: str) -> None:
    """A lost backtest's runs that were being computed go back to `created`, their partial
    trades deleted: the resumed session computes them again; completed runs are kept."""
    with transaction.atomic():
        _requeue(Run.objects.filter(session_id=session_id, status=Status.RUNNING))


def _requeue(runs) -> None:
    """`runs` (running ones) back to `created` as if never taken, their trades deleted first
    (inside the caller's transaction)."""
    Trade.objects.filter(run__in=runs).delete()
    runs.update(status=Status.CREATED, worker=None, pid=None, started_at=None, heartbeat_at=None)


def _backtest_runs_reap(*, stale: datetime, restarted_node: str | None) -> list[str]:
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


def _runs_lose(runs: QuerySet[Run], reason: str) -> set[str]:
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
