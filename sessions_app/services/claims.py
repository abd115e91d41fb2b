"""Who runs a session and its runs: a worker claims a session, each process of a sweep claims
its runs; a worker hands a session back (shutdown) or the reaper hands a lost one to any
worker, and its task is queued again."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Run, Session, SessionType, Status
from sessions_app.services.events import event_record
from sessions_app.services.queueing import SESSION_RUN, SESSION_RUN_CHUNK, task_send
from sessions_app.services.retry import deadlock_retried

log = logging.getLogger(__name__)


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
