"""The one retry of a write MariaDB rolled back: a deadlock's victim (1213) or a lock wait
that timed out (1205).

Trying again is right because nothing of the write is left: InnoDB rolls a deadlock victim's
whole transaction back, and a lock wait timeout rolls back its statement, which outside a
transaction is the whole transaction. The same write, run again a moment later, is simply the
write. So the retry runs only outside a transaction (inside one, what rolled back is the
caller's whole transaction, which only the caller can run again), and only at the outermost
level: a retried write calling another one runs the inner once per try of the outer, so a
write is tried at most TRIES times, never TRIES * TRIES.

A stop (session_stop -> session_finish) and the runner's per-run writes lock a session's rows
in different orders and met once; the victim's transaction was rolled back whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRIED_ERRORS = (1213, 1205)  # ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
TRIES = 5

# Per thread: each thread has its own connection, so its own writes and transactions.
_retrying = threading.local()


def deadlock_retried(write: Callable[[], T], *, tries: int = TRIES) -> T:
    """`write()`, again after a short pause (up to `tries` times in all) when MariaDB rolled
    it back as a deadlock's victim or for a lock wait; any other error at once. Inside a
    transaction or inside another deadlock_retried, `write()` runs once: the caller retries."""
    if connection.in_atomic_block or getattr(_retrying, "active", False):
        return write()
    _retrying.active = True
    try:
        for attempt in range(1, tries + 1):
            try:
                return write()
            except OperationalError as exc:
                code = exc.args[0] if exc.args else None
                if code not in RETRIED_ERRORS or attempt == tries:
                    raise
                log.warning("Deadlock (%s), trying again (%d)", code, attempt)
                time.sleep(0.02 * attempt)
    finally:
        _retrying.active = False
    raise AssertionError("unreachable")
