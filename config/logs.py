"""Logging helpers the settings name."""

from __future__ import annotations

import logging
import threading
import time


class OncePerMinute(logging.Filter):
    """Lets one record through per logger and message a minute: an outage that fails every
    call (Redis down) is told, not repeated thousands of times."""

    def __init__(self, seconds: float = 60.0):
        super().__init__()
        self.seconds = seconds
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -self.seconds) < self.seconds:
                return False
            self._last[key] = now
        return True
