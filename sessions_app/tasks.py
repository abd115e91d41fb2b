"""Thin Celery tasks: take ids, call the execution adapter or a service."""

import logging
import os
import signal
import threading

import billiard.process
from celery import shared_task
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutting_down
from celery.worker import state as worker_state
from django.conf import settings

from bots import runner as engine
from sessions_app import services
from sessions_app.execution import (
    SUSPENDED,
    session_chunk_execute,
    session_execute,
    shutdown_requested,
    worker_name,
)
from sessions_app.services import notifications
from sessions_app.services.queueing import (
    SESSION_NOTIFY,
    SESSION_RUN,
    SESSION_RUN_CHUNK,
    SESSIONS_REAP,
    SESSIONS_RETENTION,
)


@shared_task(name=SESSION_RUN, bind=True, ignore_result=True, acks_late=False)
def session_run(self, session_id: str) -> str | None:
    """Run one session to its end. Acked early: a session is never redelivered mid-run (the
    claim would refuse it anyway); a lost worker is noticed by the heartbeat reaper."""
    if not (_in_pool_child and threading.current_thread() is threading.main_thread()):
        status = session_execute(session_id=session_id, worker=worker_name(self.request.hostname))
    else:
        # A prefork pool child: while it runs a session, SIGTERM (forwarded by the shutting-down
        # main process) asks the runner to hand back instead of exiting mid-write.
        previous = signal.signal(signal.SIGTERM, _child_sigterm)
        try:
            status = session_execute(session_id=session_id, worker=worker_name(self.request.hostname))
        finally:
            signal.signal(signal.SIGTERM, previous)
    if status == SUSPENDED:
        # This worker is going down: it stops taking messages first, so the one queued now
        # goes to a worker that stays (a solo worker would take it back, again and again).
        _stop_consuming()
        services.session_pass_on(session_id=session_id)
    return status


_consumer = None  # this worker's consumer (the main process's), from worker_ready


def _stop_consuming() -> None:
    if _consumer is None or _in_pool_child:
        return  # a pool child consumes nothing itself; its main process is shutting down
    try:
        for queue in list(_consumer.task_consumer.queues):
            _consumer.cancel_task_queue(queue.name)
    except Exception:  # the hand-back goes on; at worst this worker passes the message on again
        logging.getLogger(__name__).exception("Could not stop consuming before a hand-back")


@shared_task(name=SESSION_RUN_CHUNK, bind=True, ignore_result=True, acks_late=False)
def session_run_chunk(self, session_id: str) -> str | None:
    """Take part in a running sweep: compute its runs until none is left. Acked early like
    session_run; a redelivered chunk takes only runs still `created`, and a lost one's run is
    failed by the reaper."""
    return session_chunk_execute(session_id=session_id, worker=worker_name(self.request.hostname))


@shared_task(name=SESSIONS_REAP, ignore_result=True)
def sessions_reap() -> list[str]:
    """Fail running sessions whose worker is gone (scheduled by beat)."""
    return services.sessions_reap()


@shared_task(name=SESSION_NOTIFY, bind=True, ignore_result=True)
def session_notify(self, session_id: str, url: str, event: str) -> int | None:
    """One webhook delivery. WEBHOOK_TRIES tries, WEBHOOK_RETRY_SECONDS apart and doubling;
    read when the task runs, not at import, so a changed setting applies to the next try."""
    attempt = self.request.retries + 1
    try:
        return notifications.webhook_deliver(
            session_id=session_id, url=url, event=event, attempt=attempt, delivery_id=self.request.id
        )
    except notifications.WebhookDeliveryError as exc:
        if attempt >= settings.WEBHOOK_TRIES:
            notifications.webhook_failed(
                session_id=session_id, url=url, event=event, attempts=attempt, error=str(exc)
            )
            return None
        raise self.retry(
            exc=exc,
            countdown=settings.WEBHOOK_RETRY_SECONDS * 2**self.request.retries,
            max_retries=settings.WEBHOOK_TRIES - 1,
        ) from exc


@worker_init.connect
@worker_process_init.connect
def _warm_engine(**kwargs):
    """Load the engine's compiled code (from numba's disk cache, or compile it) before the
    first task: in the main process, so forked pool processes inherit it, and in each pool
    process in case it was spawned rather than forked (then it is a quick cache load)."""
    engine.warm()


@worker_ready.connect
def _fail_leftovers(sender=None, **kwargs):
    """A worker that starts again fails (or, with RESUME_LOST_SESSIONS, resumes) what its
    previous life left running."""
    global _consumer
    _consumer = sender
    if getattr(sender, "hostname", None):
        services.sessions_reap(restarted_node=sender.hostname)


@worker_shutting_down.connect
def _hand_back_on_shutdown(sig=None, how=None, **kwargs):
    """A warm shutdown (SIGTERM, a deploy) does not wait for live sessions to end: each
    runner of this process checkpoints and hands its session back within a second or two
    (execution.shutdown_requested), so the worker exits in seconds. Pool children of a prefork
    worker running a session learn it by a SIGTERM of their own (handled below)."""
    shutdown_requested.set()
    if how == "Warm":
        # Only the children running a task: an idle child waits on the pool's queue holding its
        # read lock, and one killed there leaves the main process waiting for that lock at exit
        # forever (billiard's _help_stuff_finish). Idle children end as the pool closes.
        busy = {request.worker_pid for request in worker_state.active_requests}
        for child in billiard.process.active_children():
            if child.pid and child.pid in busy:
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except OSError:
                    pass  # it ended meanwhile


_in_pool_child = False


@worker_process_init.connect
def _note_pool_child(**kwargs):
    """Whether this process is a prefork pool child (billiard installs its own SIGTERM handler
    after this signal, so session_run installs the hand-back handler while a session runs).
    The solo pool sends the signal too, in the main process: Celery's own handler stays."""
    global _in_pool_child
    _in_pool_child = billiard.process.current_process().name != "MainProcess"


def _child_sigterm(signum, frame):
    if shutdown_requested.is_set():  # a second one (the pool terminating): die as by default
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    shutdown_requested.set()


retention_logger = logging.getLogger("sessions_app.retention")


@shared_task(name=SESSIONS_RETENTION, ignore_result=True)
def sessions_retention() -> dict | None:
    """Finished sessions older than RETENTION_DAYS to cold storage (scheduled daily by beat)."""
    if settings.RETENTION_DAYS is None:
        return None
    result = services.sessions_cleanup(older_than_days=settings.RETENTION_DAYS)
    retention_logger.info(
        "Retention (%s days): %d sessions archived and deleted (%d trades); %d skipped; %d failed",
        settings.RETENTION_DAYS,
        result.sessions,
        result.trades,
        len(result.skipped),
        len(result.failed),
    )
    for session_id, reason in result.failed:
        retention_logger.error("Retention: session %s not archived, nothing deleted: %s", session_id, reason)
    return {
        "sessions": result.sessions,
        "trades": result.trades,
        "skipped": len(result.skipped),
        "failed": len(result.failed),
    }
