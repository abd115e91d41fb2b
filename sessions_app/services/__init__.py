"""Every state change of a session, one module per sub-domain.

- lifecycle: what a user does: create, update, delete, clone, start, stop.
- claims: who runs a session and its runs: claimed, handed back, queued again.
- progress: what a running session records: heartbeats, progress, results, its files.
- finish: a run or a session ended (its final status, event, webhooks); a sweep's end.
- reaper: what no worker runs any more, resumed elsewhere or failed.
- retry: the one retry of a write MariaDB rolled back (a deadlock, a lock wait).
- validation: a session's input checked, every bad field reported at once.
- runs: a run's identity (its config hash), reuse of identical runs; events: the session's story.
- cleanup, restore: cold storage (export, verify, delete) and back; archive: their format.
- trades: trades written in bulk and the trades file.
- queueing: tasks queued by name, so that no service imports the tasks.
- legacy: the old system's trade files imported as completed sessions.
- notifications: webhooks when a session ends.
- compat: the old system's start calls.

The HTML views, the JSON API, the commands and the tasks all call these names.
"""

from sessions_app.services.claims import (
    run_begin,
    run_claim_next,
    runs_claim_next,
    session_chunks_send,
    session_claim,
    session_pass_on,
    session_redispatch,
    session_suspend,
)
from sessions_app.services.cleanup import CleanupResult, sessions_cleanup
from sessions_app.services.compat import legacy_market_start, legacy_test_start
from sessions_app.services.events import event_record
from sessions_app.services.finish import run_fail, session_finish, session_sweep_finish
from sessions_app.services.legacy import legacy_trades_import
from sessions_app.services.lifecycle import (
    scraper_start,
    session_clone,
    session_create,
    session_create_and_start,
    session_delete,
    session_start,
    session_stop,
    session_update,
)
from sessions_app.services.progress import (
    run_resume,
    runs_heartbeat,
    runs_stamp_fingerprint,
    session_files_set,
    session_heartbeat,
    session_progress_write,
    session_results_save,
)
from sessions_app.services.reaper import run_requeue, runs_requeue, sessions_reap, sessions_reap_lazily
from sessions_app.services.restore import session_restore
from sessions_app.services.runs import HASHED_FIELDS, config_hash, runs_reuse
from sessions_app.services.trades import trades_part_write
from sessions_app.services.validation import CONFIG_FIELDS, MAX_SWEEP_RUNS, TEXT_FIELDS, TIMEFRAMES

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
    "run_begin",
    "run_claim_next",
    "run_fail",
    "run_resume",
    "runs_claim_next",
    "run_requeue",
    "runs_requeue",
    "runs_heartbeat",
    "runs_reuse",
    "runs_stamp_fingerprint",
    "session_chunks_send",
    "session_claim",
    "session_clone",
    "session_create",
    "session_create_and_start",
    "session_delete",
    "session_files_set",
    "session_finish",
    "session_heartbeat",
    "session_pass_on",
    "session_progress_write",
    "session_redispatch",
    "session_results_save",
    "session_suspend",
    "session_sweep_finish",
    "session_start",
    "session_stop",
    "session_update",
    "sessions_reap",
    "sessions_reap_lazily",
    "CleanupResult",
    "session_restore",
    "trades_part_write",
    "sessions_cleanup",
]
