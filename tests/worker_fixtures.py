"""A real Celery worker for tests: in-process (threads) or as a separate process.

The broker is the configured one (filesystem:// or Redis), isolated from any other worker on
this machine by a private folder or key prefix, so a `make run` beside the tests neither
steals nor feeds their messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from config.celery import app
from sessions_app.models import Session, Status
from sessions_app.services.queueing import QUEUES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def broker_isolation(tmp_path_factory):
    """Private broker folder / key prefix; returns the env a worker process needs for it."""
    env = {}
    if app.conf.broker_url.startswith("filesystem://"):
        folder = tmp_path_factory.mktemp("broker")
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir()
        app.conf.broker_transport_options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "control_folder": str(folder / "control"),
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
        }
        env["CELERY_BROKER_DIR"] = str(folder)
    else:
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        app.conf.broker_transport_options = {"global_keyprefix": prefix}
        env["CELERY_BROKER_PREFIX"] = prefix
    return env


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    return settings.DATA_ROOT


@pytest.fixture(scope="session")
def _shared_worker(broker_isolation, django_db_setup, django_db_blocker):
    """One in-process worker on every queue for the whole test run, with threads enough for
    concurrent sessions. Started on first use. (Restarting an in-process worker per test,
    after a browser test or a stopped live session, left the next one not consuming.)"""
    with start_worker(
        app,
        pool="threads",
        concurrency=6,
        perform_ping_check=False,
        queues=QUEUES,
        shutdown_timeout=20,
    ) as worker:
        yield worker


@pytest.fixture
def celery_worker(_shared_worker, transactional_db, data_root):
    """The shared worker; the test must end every session it starts (a check says so)."""
    yield _shared_worker
    left = list(Session.objects.filter(status=Status.RUNNING).values_list("name", flat=True))
    assert not left, f"the test left sessions running on the shared worker: {left}"


@contextmanager
def queues_paused(worker, queues):
    """The shared worker stops consuming `queues` (messages wait in the real broker), then
    goes back to them; what waited is claimed then, or refused by the claim."""
    for queue in queues:
        worker.consumer.cancel_task_queue(queue)
    try:
        yield
    finally:
        for queue in queues:
            worker.consumer.add_task_queue(queue)


@pytest.fixture
def no_worker(_shared_worker):
    """Sessions started in this test are queued for real, but no worker takes them."""
    with queues_paused(_shared_worker, QUEUES):
        yield


def current_database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "root"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"mysql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.fixture
def worker_process(transactional_db, broker_isolation, data_root, _shared_worker):
    """Start a separate `celery worker` process on the test database; yields a starter that
    returns the Popen (the test may SIGKILL it). Meanwhile the shared in-process worker stops
    consuming the process's queues, so the process is the one that claims the session."""
    processes = []
    paused = ExitStack()

    def start(*, queues=("test",), extra_env=None, name=None, pool="solo", pool_size=1):
        """`pool_size` > 1: a prefork pool of that many child processes (a sweep's chunks
        spread over them; each child's pid is the one a run records); else one process of
        `pool` (solo, or prefork with one child)."""
        paused.enter_context(queues_paused(_shared_worker, queues))
        env = {
            **os.environ,
            **broker_isolation,
            "DATABASE_URL": current_database_url(),
            "DATA_ROOT": str(settings.DATA_ROOT),
            "STALE_AFTER_SECONDS": str(settings.STALE_AFTER_SECONDS),
            **(extra_env or {}),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                *(
                    ["-P", "prefork", "--concurrency", str(pool_size)]
                    if pool_size > 1
                    else ["-P", pool, "-c", "1"]
                ),
                "-Q",
                ",".join(queues),
                "-n",
                name or f"killme-{uuid.uuid4().hex[:6]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    with paused:
        yield start
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {message}")


def session_ended(session_id):
    """The session once it has ended (completed, stopped or failed), else None: for wait_for."""
    session = Session.objects.get(pk=session_id)
    return session if session.status not in (Status.CREATED, Status.RUNNING) else None
