"""Database outages: what this process has seen of them, and waiting one out.

The runner notes each write the database refused; the API notes each request it answered 503.
The reaper asks before failing a session for a stale heartbeat: right after an outage a
heartbeat is late because the database was down, not because the worker died (see
docs/operations.md). Remembering needs no database; `until_database` retries a write meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")

log = logging.getLogger(__name__)

# The database went away (restarting, unreachable): wait and write again, never fail for it.
DATABASE_DOWN = (OperationalError, InterfaceError)

_lock = threading.Lock()
_last_down: float | None = None


def database_down_noted() -> None:
    global _last_down
    with _lock:
        _last_down = time.monotonic()


def database_down_within(seconds: float) -> bool:
    """Whether this process saw the database down in the last `seconds`."""
    with _lock:
        return _last_down is not None and time.monotonic() - _last_down < seconds


def database_down_forget() -> None:
    """Forget what was seen (a test starting clean; a process that knows the outage is over)."""
    global _last_down
    with _lock:
        _last_down = None


def connection_reset() -> None:
    """Drop this thread's broken connection: the next query opens a new one."""
    try:
        connection.close()
    except Exception:  # closing a dead connection may fail too; it is gone either way
        pass


def until_database(write: Callable[[], T], *, what: str) -> T:
    """`write()`, tried again every second while the database is down (DB_OUTAGE_SECONDS at
    most, then its error is raised)."""
    deadline = time.monotonic() + settings.DB_OUTAGE_SECONDS
    while True:
        try:
            return write()
        except DATABASE_DOWN as exc:
            database_down_noted()
            connection_reset()
            if time.monotonic() >= deadline:
                raise
            log.warning("Database down while writing %s (%s); trying again", what, exc)
            time.sleep(1.0)
