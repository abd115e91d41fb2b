"""Running one session on a worker: the adapter between the engine (bots/) and Django.

The Celery task calls `session_execute`. It claims the session and hands it to its kind's
runner, found in RUNNERS. A runner gives the engine a sink that records trades, equity, logs
and progress and answers "should I stop?"; a Monitor thread beside it heartbeats and reads the
stop flag every second, so a busy or waiting runner is never mistaken for a lost one and a
stop is seen within a second. The cache is best effort; database outages are waited out.

- sink: the base sink every kind shares (log file, cache, progress, flags, heartbeat timing).
- live, scraper: live sessions (buffered writes, checkpoints, outages); sweep, sweep_sink:
  backtests (coordinator and chunks, grids, one run at a time).
- monitor: the heartbeat thread; inputs: market specs, candles and run configs.
- worker: the worker process's name and signals (warm shutdown: `shutdown_requested`).

A new kind of session is one runner module (a class taking the claimed session and the
worker's name, whose `execute()` returns the final status) and one line in RUNNERS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from sessions_app import services
from sessions_app.models import Session, SessionType, Status
from sessions_app.runner.live import PaperRunner
from sessions_app.runner.scraper import ScraperRunner
from sessions_app.runner.sweep import SweepRunner
from sessions_app.runner.worker import (
    SUSPENDED,
    consuming_stop,
    shutdown_requested,
    sigterm_hands_back,
    worker_name,
)

__all__ = [
    "RUNNERS",
    "SUSPENDED",
    "consuming_stop",
    "session_chunk_execute",
    "session_execute",
    "shutdown_requested",
    "sigterm_hands_back",
    "worker_name",
]


class Runner(Protocol):
    def execute(self) -> str | None: ...


RUNNERS: dict[str, Callable[..., Runner]] = {
    SessionType.TEST: PaperRunner,
    SessionType.SCRAPER: ScraperRunner,
    SessionType.BACKTEST: SweepRunner,
}


def session_execute(*, session_id: str, worker: str | None = None) -> str | None:
    """Claim and run a session to its end; returns the final status, or None if not claimed
    or taken over by another worker meanwhile (or, for a backtest, ended by another of its
    processes), or SUSPENDED: handed back (or not taken) on this worker's shutdown, for the
    task to queue it again for another worker."""
    worker = worker or worker_name()
    if shutdown_requested.is_set():
        # A worker going down may still take a message: not run here, the task passes it on.
        return SUSPENDED
    session = services.session_claim(session_id=session_id, worker=worker, pid=os.getpid())
    if session is None:
        return None
    return RUNNERS[session.type](session, worker=worker).execute()


def session_chunk_execute(*, session_id: str, worker: str | None = None) -> str | None:
    """One more process's share of a running sweep; the final status when this process ended
    the session, else None."""
    session = Session.objects.filter(pk=session_id, status=Status.RUNNING).first()
    if session is None:  # ended (or stopped) before this chunk was picked up: nothing to do
        return None
    return SweepRunner(session, worker=worker or worker_name()).share()
