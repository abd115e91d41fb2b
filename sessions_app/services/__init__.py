"""Every state change of a session, one module per sub-domain.

- lifecycle: create, update, delete, clone, start, stop; the worker's claim, heartbeat,
  results and finish; the reaper.
- retention: cleanup to cold storage (export, verify, delete) and restore.
- legacy: the old system's trade files imported as completed sessions.
- notifications: webhooks when a session ends.
- compat: the old system's start calls.

The HTML views, the JSON API, the commands and the tasks all call these names.
"""

from sessions_app.services.compat import legacy_market_start, legacy_test_start
from sessions_app.services.legacy import legacy_trades_import
from sessions_app.services.lifecycle import (
    CONFIG_FIELDS,
    HASHED_FIELDS,
    MAX_SWEEP_RUNS,
    TEXT_FIELDS,
    TIMEFRAMES,
    config_hash,
    event_record,
    scraper_start,
    session_claim,
    session_clone,
    session_create,
    session_create_and_start,
    session_delete,
    session_files_set,
    session_finish,
    session_heartbeat,
    session_results_save,
    session_start,
    session_stop,
    session_update,
    sessions_reap,
    sessions_reap_lazily,
)
from sessions_app.services.retention import CleanupResult, session_restore, sessions_cleanup

__all__ = [
    "CONFIG_FIELDS",
    "HASHED_FIELDS",
    "MAX_SWEEP_RUNS",
    "TEXT_FIELDS",
    "TIMEFRAMES",
    "config_hash",
    "event_record",
    "legacy_market_start",
    "legacy_test_start",
    "legacy_trades_import",
    "scraper_start",
    "session_claim",
    "session_clone",
    "session_create",
    "session_create_and_start",
    "session_delete",
    "session_files_set",
    "session_finish",
    "session_heartbeat",
    "session_results_save",
    "session_start",
    "session_stop",
    "session_update",
    "sessions_reap",
    "sessions_reap_lazily",
    "CleanupResult",
    "session_restore",
    "sessions_cleanup",
]
