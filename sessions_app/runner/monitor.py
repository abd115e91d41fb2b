"""The thread beside the engine that keeps a session's heartbeat going."""

from __future__ import annotations

import logging
import threading

from sessions_app import outages
from sessions_app.runner.sink import SessionSink

log = logging.getLogger(__name__)


class Monitor(threading.Thread):
    """Calls the sink's `tick` every second (stop flag, heartbeat, progress, metrics) beside
    the engine, so a long computation still heartbeats and a stop is seen within a second."""

    def __init__(self, sink: SessionSink):
        super().__init__(name=f"monitor-{sink.session.pk}", daemon=True)
        self.sink = sink
        self._done = threading.Event()

    def run(self) -> None:
        try:
            while not self._done.wait(1.0):
                try:
                    self.sink.tick()
                except Exception:  # nothing here may kill the heartbeat for good
                    log.exception("monitor of session %s", self.sink.session.pk)
        finally:
            outages.connection_reset()  # this thread's connection, closed with it

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)
