"""A write MariaDB picked as a deadlock's victim (1213) is tried again; other errors are not,
and inside a transaction the caller's whole transaction must be retried instead."""

import pytest
from django.db import OperationalError, transaction

from sessions_app.services.worker import deadlock_retried

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
    write, calls = _failing([1213] * 5)
    with pytest.raises(OperationalError):
        deadlock_retried(write, tries=5)
    assert len(calls) == 5
