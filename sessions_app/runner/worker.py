"""The worker process around the runners: its name, and what Celery's worker signals tell it.

- Start: the engine's compiled code is loaded before the first task.
- Ready: what this worker's previous life left running is failed (or resumed).
- Warm shutdown (SIGTERM, a deploy): `shutdown_requested` is set and every runner of the
  process checkpoints and hands its session back within a second or two (outcome SUSPENDED),
  so the worker exits in seconds; the task queues the session again for another worker.

The handlers connect when this module is imported: the tasks import the runner package, and
Celery's autodiscovery imports the tasks in every worker.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import billiard.process
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutting_down
from celery.worker import state as worker_state

from bots import runner as engine
from sessions_app import services

log = logging.getLogger(__name__)

# Set by the worker's warm shutdown: every runner of this process hands back.
shutdown_requested = threading.Event()
# How a run ended besides its status: handed back on shutdown; taken over by another worker.
SUSPENDED = "suspended"
DISOWNED = "disowned"

_consumer = None  # this worker's consumer (the main process's), from worker_ready
_in_pool_child = False


def worker_name(node: str | None = None) -> str:
    """Who runs a session: the Celery node name (or the host) and the process id. A worker
    that restarts with the same node name fails what this name left (services.sessions_reap)."""
    return f"{node or socket.gethostname()}:{os.getpid()}"


@contextmanager
def sigterm_hands_back() -> Iterator[None]:
    """While a session runs in a prefork pool child, SIGTERM (forwarded by the shutting-down
    main process) asks the runner to hand back instead of exiting mid-write. Elsewhere (the
    main process, a thread of the threads pool) Celery's own handling stays."""
    if not (_in_pool_child and threading.current_thread() is threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _child_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def consuming_stop() -> None:
    """Before a handed-back session is queued again: this worker, going down, stops taking
    messages first, so the message goes to a worker that stays (a solo worker would take it
    back, again and again)."""
    if _consumer is None or _in_pool_child:
        return  # a pool child consumes nothing itself; its main process is shutting down
    try:
        for queue in list(_consumer.task_consumer.queues):
            _consumer.cancel_task_queue(queue.name)
    except Exception:  # the hand-back goes on; at worst this worker passes the message on again
        log.exception("Could not stop consuming before a hand-back")


@worker_init.connect
@worker_process_init.connect
def _warm_engine(**kwargs):
    """Load the engine's compiled code (from numba's disk cache, or compile it) before the
    first task: in the main process, so forked pool processes inherit it, and in each pool
    process in case it was spawned rather than forked (then it is a quick cache load)."""
    engine.warm()


@worker_ready.connect
def _fail_leftovers(sender=None, **kwargs):
    """A worker that starts again fails (or, with RESUME_LOST_SESSIONS, resumes) what its
    previous life left running."""
    global _consumer
    _consumer = sender
    if getattr(sender, "hostname", None):
        services.sessions_reap(restarted_node=sender.hostname)


@worker_shutting_down.connect
def _hand_back_on_shutdown(sig=None, how=None, **kwargs):
    """A warm shutdown does not wait for live sessions to end: each runner of this process
    hands its session back. Pool children of a prefork worker running a session learn it by
    a SIGTERM of their own (sigterm_hands_back)."""
    shutdown_requested.set()
    if how == "Warm":
        # Only the children running a task: an idle child waits on the pool's queue holding its
        # read lock, and one killed there leaves the main process waiting for that lock at exit
        # forever (billiard's _help_stuff_finish). Idle children end as the pool closes.
        busy = {request.worker_pid for request in worker_state.active_requests}
        for child in billiard.process.active_children():
            if child.pid and child.pid in busy:
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except OSError:
                    pass  # it ended meanwhile


@worker_process_init.connect
def _note_pool_child(**kwargs):
    """Whether this process is a prefork pool child (billiard installs its own SIGTERM handler
    after this signal, so sigterm_hands_back installs the hand-back handler while a session
    runs). The solo pool sends the signal too, in the main process: Celery's own handler stays."""
    global _in_pool_child
    _in_pool_child = billiard.process.current_process().name != "MainProcess"


def _child_sigterm(signum, frame):
    if shutdown_requested.is_set():  # a second one (the pool terminating): die as by default
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    shutdown_requested.set()
