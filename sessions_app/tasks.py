"""Thin Celery tasks: take ids, call the execution adapter or a service."""

from celery import shared_task
from celery.signals import worker_ready

from sessions_app import services


@shared_task(name="sessions.run", bind=True, ignore_result=True, acks_late=False)
def session_run(self, session_id: str) -> str | None:
    """Run one session to its end. Acked early: a session is never redelivered mid-run (the
    claim would refuse it anyway); a lost worker is noticed by the heartbeat reaper."""
    from sessions_app.execution import session_execute, worker_name

    return session_execute(session_id=session_id, worker=worker_name(self.request.hostname))


@shared_task(name="sessions.reap", ignore_result=True)
def sessions_reap() -> list[str]:
    """Fail running sessions whose worker is gone (scheduled by beat)."""
    return services.sessions_reap()


@worker_ready.connect
def _fail_leftovers(sender=None, **kwargs):
    """A worker that starts again fails what its previous life left running."""
    if getattr(sender, "hostname", None):
        services.sessions_reap(restarted_node=sender.hostname)
