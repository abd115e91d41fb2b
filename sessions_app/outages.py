"""What this process has seen of database outages (no database needed to remember them).

The runner notes each write the database refused; the API notes each request it answered 503.
The reaper asks before failing a session for a stale heartbeat: right after an outage a
heartbeat is late because the database was down, not because the worker died (SPEC §18).
"""

from __future__ import annotations

import threading
import time

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
