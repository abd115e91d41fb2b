"""Work handed to the worker by task name, so the services never import the tasks.

The tasks module imports the services (a task is a thin call of one); the services queue
tasks through the Celery app by name. These names are the one place both sides agree on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from config.celery import app
from sessions_app.models import SessionType

# One queue per session type (a long test session never waits behind backtests), and one for
# housekeeping: the reaper, retention and webhooks.
HOUSEKEEPING_QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE
QUEUES = (*SessionType.values, HOUSEKEEPING_QUEUE)

SESSION_RUN = "sessions.run"
# One more process's share of a sweep (on the backtest queue): it takes runs until none is left.
SESSION_RUN_CHUNK = "sessions.run_chunk"
SESSION_NOTIFY = "sessions.notify"
SESSIONS_REAP = "sessions.reap"
SESSIONS_RETENTION = "sessions.retention"


def task_send(
    name: str, *, args: list | None = None, kwargs: dict[str, Any] | None = None, queue: str | None = None
) -> None:
    """Queue the task `name`; raises when the broker cannot be reached. A queue not given is
    the one CELERY_TASK_ROUTES names for the task. No task of ours keeps a result."""
    options = {"queue": queue} if queue else {}
    app.send_task(name, args=args, kwargs=kwargs, ignore_result=True, **options)
