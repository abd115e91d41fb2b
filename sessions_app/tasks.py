"""Thin Celery tasks: take ids, call the runner (sessions_app.runner) or a service.

Importing the runner package connects the worker's signal handlers (sessions_app.runner.worker):
Celery's autodiscovery imports this module in every worker.
"""

import logging

from celery import shared_task
from django.conf import settings

from sessions_app import services
from sessions_app.runner import (
    SUSPENDED,
    consuming_stop,
    session_chunk_execute,
    session_execute,
    sigterm_hands_back,
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
    with sigterm_hands_back():
        status = session_execute(session_id=session_id, worker=worker_name(self.request.hostname))
    if status == SUSPENDED:
        # This worker is going down: it stops taking messages first, so the one queued now
        # goes to a worker that stays.
        consuming_stop()
        services.session_pass_on(session_id=session_id)
    return status


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
