"""Moved to the sessions_app.runner package; these names stay until their importers move."""

from sessions_app.runner import (
    SUSPENDED,
    session_chunk_execute,
    session_execute,
    shutdown_requested,
    worker_name,
)
from sessions_app.runner.inputs import market_specs as _market_specs
from sessions_app.runner.inputs import run_config as _config
from sessions_app.runner.inputs import session_candles

__all__ = [
    "SUSPENDED",
    "_config",
    "_market_specs",
    "session_candles",
    "session_chunk_execute",
    "session_execute",
    "shutdown_requested",
    "worker_name",
]
