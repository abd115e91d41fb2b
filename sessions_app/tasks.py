"""Thin Celery tasks: take ids, call the execution adapter or a service."""

import logging

from celery import shared_task
from celery.signals import worker_init, worker_process_init, worker_ready
from django.conf import settings

from bots import runner as engine
from sessions_app import services
from sessions_app.execution import session_chunk_execute, session_execute, worker_name
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
    return session_execute(session_id=session_id, worker=worker_name(self.request.hostname))


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
    """A worker that starts again fails what its previous life left running."""
    if getattr(sender, "hostname", None):
        services.sessions_reap(restarted_node=sender.hostname)


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
