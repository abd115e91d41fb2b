"""A write MariaDB rolled back as a deadlock's victim (1213) or for a lock wait (1205) is
tried again; other errors are not; inside a transaction the caller's whole transaction must
be retried instead; and a retried write inside another is tried with it, so a write is tried
at most TRIES times, never TRIES * TRIES."""

import pytest
from django.db import OperationalError, transaction

from sessions_app.services.retry import TRIES, deadlock_retried

pytestmark = pytest.mark.django_db(transaction=True)


def _failing(codes):
    calls = []

    def write():
        calls.append(1)
        if len(calls) <= len(codes):
            raise OperationalError(codes[len(calls) - 1], "simulated")
        return "written"

    return write, calls


def test_a_deadlock_victim_is_written_on_a_later_try():
    write, calls = _failing([1213, 1213])
    assert deadlock_retried(write) == "written" and len(calls) == 3


def test_a_lock_wait_timeout_is_written_on_a_later_try():
    write, calls = _failing([1205])
    assert deadlock_retried(write) == "written" and len(calls) == 2


def test_another_error_is_raised_at_once():
    write, calls = _failing([2006])
    with pytest.raises(OperationalError):
        deadlock_retried(write)
    assert len(calls) == 1


def test_inside_a_transaction_a_deadlock_is_raised_for_the_caller_to_retry():
    write, calls = _failing([1213])
    with pytest.raises(OperationalError), transaction.atomic():
        deadlock_retried(write)
    assert len(calls) == 1


def test_it_gives_up_after_its_tries():
    write, calls = _failing([1213] * TRIES)
    with pytest.raises(OperationalError):
        deadlock_retried(write)
    assert TRIES == 5 and len(calls) == 5


def test_a_retried_write_inside_another_is_tried_at_most_tries_times_in_all():
    write, calls = _failing([1213] * 100)
    with pytest.raises(OperationalError):
        deadlock_retried(lambda: deadlock_retried(write))
    assert len(calls) == TRIES


def test_the_outer_retry_runs_the_inner_write_again():
    write, calls = _failing([1213, 1213])
    assert deadlock_retried(lambda: deadlock_retried(write)) == "written" and len(calls) == 3


def test_after_a_retried_write_the_next_one_is_retried_too():
    """The outermost level is per call: one retried write ending (even by its error) leaves
    the next write retried as usual."""
    write, _ = _failing([2006])
    with pytest.raises(OperationalError):
        deadlock_retried(write)
    write, calls = _failing([1213])
    assert deadlock_retried(write) == "written" and len(calls) == 2
