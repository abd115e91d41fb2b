"""Thin Celery tasks: take ids, call the execution adapter or a service."""

from celery import shared_task
from celery.signals import worker_ready

from sessions_app import services


@shared_task(name="sessions.run", ignore_result=True, acks_late=False)
def session_run(session_id: str) -> str | None:
    """Run one session to its end. Acked early: a session is never redelivered mid-run (the
    claim would refuse it anyway); a lost worker is noticed by the heartbeat reaper."""
    from celery import current_task

    from sessions_app.execution import session_execute

    hostname = getattr(current_task.request, "hostname", None)
    return session_execute(session_id=session_id, worker=_worker_id(hostname))


@shared_task(name="sessions.reap", ignore_result=True)
def sessions_reap() -> list[str]:
    """Fail running sessions whose worker is gone (scheduled by beat)."""
    return services.sessions_reap()


def _worker_id(hostname: str | None) -> str:
    import os

    return f"{hostname or 'worker'}:{os.getpid()}"


@worker_ready.connect
def _fail_leftovers(sender=None, **kwargs):
    """A worker that starts again fails what its previous life left running."""
    hostname = getattr(sender, "hostname", None)
    if hostname:
        from sessions_app.models import Session, Status

        prefix = f"{hostname}:"
        for worker in (
            Session.objects.filter(status=Status.RUNNING, worker__startswith=prefix)
            .values_list("worker", flat=True).distinct()
        ):
            services.sessions_reap(worker=worker)
