"""MariaDB rolls a write of ours back, as a deadlock's victim or after a lock wait: the write
runs again (deadlock_retried) and succeeds, rather than failing the session it was writing for."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, transaction

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent, Status
from sessions_app.services.retry import deadlock_retried

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="InnoDB deadlocks (1213) are MariaDB's"),
]


def _sessions(operator, count=2):
    return [
        services.session_create(user=operator, data={"type": "test", "market": m, "strategy": "TestBot"})
        for m in ("XBTUSD", "ETHUSD")[:count]
    ]


def _running(session: Session) -> Session:
    Session.objects.filter(pk=session.pk).update(status=Status.RUNNING, worker="w@host:1", pid=1)
    Run.objects.filter(session_id=session.pk).update(status=Status.RUNNING)
    return Session.objects.get(pk=session.pk)


def _in_thread(work) -> tuple[threading.Thread, list[Exception]]:
    errors: list[Exception] = []

    def target():
        try:
            work()
        except Exception as exc:  # reported by the test: it must see it
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


def test_a_write_chosen_as_deadlock_victim_is_run_again(operator):
    first, second = _sessions(operator)
    both_locked = threading.Barrier(2, timeout=30)

    def heavy_writer():
        # Many rows changed: InnoDB rolls back the lighter transaction, the retried one.
        with transaction.atomic():
            for _ in range(50):
                SessionEvent.objects.create(session_id=first.pk, event_type="info", event_data={})
            Session.objects.filter(pk=first.pk).update(notes="heavy")
            both_locked.wait()
            Session.objects.filter(pk=second.pk).update(notes="heavy")

    attempts = []

    def light_write():
        attempts.append(1)
        with transaction.atomic():
            Session.objects.filter(pk=second.pk).update(name="light")
            if len(attempts) == 1:
                both_locked.wait()
            Session.objects.filter(pk=first.pk).update(name="light")

    thread, other_error = _in_thread(heavy_writer)
    deadlock_retried(light_write)
    thread.join(timeout=30)
    assert not other_error, other_error
    assert len(attempts) == 2  # the deadlock happened, and the write ran again
    assert Session.objects.get(pk=first.pk).name == Session.objects.get(pk=second.pk).name == "light"


def test_a_session_end_chosen_as_deadlock_victim_ends_the_session_whole(operator, caplog):
    """session_finish locks the session's row, then its runs'; a writer holding the runs and
    then wanting the session deadlocks with it. The end, rolled back whole, is tried again
    whole: the session and its runs stopped, one `stopped` event."""
    (session,) = _sessions(operator, count=1)
    session = _running(session)
    runs_locked = threading.Event()

    def heavy_writer():
        with transaction.atomic():
            for _ in range(50):
                SessionEvent.objects.create(session_id=session.pk, event_type="info", event_data={})
            Run.objects.filter(session_id=session.pk).update(error="heavy")
            runs_locked.set()
            time.sleep(1.0)  # session_finish has its session row and waits for the runs
            Session.objects.filter(pk=session.pk).update(notes="heavy")

    thread, other_error = _in_thread(heavy_writer)
    assert runs_locked.wait(timeout=30)
    with caplog.at_level(logging.WARNING, logger="sessions_app.services.retry"):
        assert services.session_finish(session=session, status=Status.STOPPED)
    thread.join(timeout=30)
    assert not other_error, other_error
    assert "Deadlock (1213), trying again (1)" in caplog.text  # it was the victim, and retried
    row = Session.objects.get(pk=session.pk)
    assert (row.status, row.notes) == (Status.STOPPED, "heavy")
    assert set(row.runs.values_list("status", "error")) == {(Status.STOPPED, "heavy")}
    assert row.events.filter(event_type="stopped").count() == 1


def test_a_write_that_waited_too_long_for_a_lock_is_run_again(operator):
    """A lock wait timeout (1205) rolls back the statement, which outside a transaction is the
    whole write: the results are saved once the row is free, not lost."""
    (session,) = _sessions(operator, count=1)
    run = session.runs.get()
    holding = threading.Event()

    def holder():
        with transaction.atomic():
            Run.objects.select_for_update().filter(pk=run.pk).get()
            holding.set()
            time.sleep(1.5)  # past the test connection's 1 s lock wait: its first try times out

    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    thread, other_error = _in_thread(holder)
    assert holding.wait(timeout=30)
    started = time.monotonic()
    services.session_results_save(session=session, run=run, metrics={"trade_count": 7, "total_pnl": 12.5})
    waited = time.monotonic() - started
    thread.join(timeout=30)
    assert not other_error, other_error
    assert waited >= 1.0  # the first try waited out the lock and was rolled back
    assert Run.objects.get(pk=run.pk).trade_count == 7
    assert Session.objects.get(pk=session.pk).trade_count == 7
