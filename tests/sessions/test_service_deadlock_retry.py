"""MariaDB picks a write of ours as a deadlock's victim: the service write runs again and
succeeds (retry_on_deadlock), rather than failing the session it was writing for."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from sessions_app import services
from sessions_app.models import Session, SessionEvent
from sessions_app.services.worker import retry_on_deadlock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "mysql", reason="InnoDB deadlocks (1213) are MariaDB's")
def test_a_write_chosen_as_deadlock_victim_is_run_again(operator):
    first, second = (
        services.session_create(user=operator, data={"type": "test", "market": m, "strategy": "TestBot"})
        for m in ("XBTUSD", "ETHUSD")
    )
    both_locked = threading.Barrier(2, timeout=30)
    other_error: list[Exception] = []

    def heavy_writer():
        # Many rows changed: InnoDB rolls back the lighter transaction, the decorated one.
        try:
            with transaction.atomic():
                for _ in range(50):
                    SessionEvent.objects.create(session_id=first.pk, event_type="info", event_data={})
                Session.objects.filter(pk=first.pk).update(notes="heavy")
                both_locked.wait()
                Session.objects.filter(pk=second.pk).update(notes="heavy")
        except Exception as exc:  # reported below: the test must see it
            other_error.append(exc)
        finally:
            connection.close()

    attempts = []

    @retry_on_deadlock
    def light_write():
        attempts.append(1)
        with transaction.atomic():
            Session.objects.filter(pk=second.pk).update(name="light")
            if len(attempts) == 1:
                both_locked.wait()
            Session.objects.filter(pk=first.pk).update(name="light")

    thread = threading.Thread(target=heavy_writer)
    thread.start()
    light_write()
    thread.join(timeout=30)
    assert not other_error, other_error
    assert len(attempts) == 2  # the deadlock happened, and the write ran again
    assert Session.objects.get(pk=first.pk).name == Session.objects.get(pk=second.pk).name == "light"
