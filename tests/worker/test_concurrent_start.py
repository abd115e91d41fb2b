"""Twenty simultaneous starts of one session, and duplicated messages: it runs exactly once."""

import threading

import pytest
from django.db import connection

from sessions_app.models import Session, SessionEvent
from sessions_app.tasks import session_run
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_starts_run_the_session_exactly_once(celery_worker, operator_api):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "range_start": 1_767_225_600,
            "range_end": 1_767_225_600 + 2 * 86_400,
        },
        format="json",
    ).json()["session"]
    barrier = threading.Barrier(20)
    statuses = []

    def start():
        try:
            barrier.wait()
            statuses.append(operator_api.post(f"/api/sessions/{created['id']}/start").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A redelivered or duplicated message must not run it again either.
    for _ in range(3):
        session_run.apply_async(args=[created["id"]], queue="backtest")

    session = wait_for(
        lambda: Session.objects.filter(pk=created["id"], status="completed").first(),
        timeout=60,
        message="the backtest to complete",
    )
    assert sorted(statuses) == [200] + [409] * 19
    assert SessionEvent.objects.filter(session=session, event_type="started").count() == 1
    assert SessionEvent.objects.filter(session=session, event_type="completed").count() == 1
    log = open(session.logs_file).read()
    assert log.count("Started backtest") == 1
    assert session.runs.get().trades.count() == session.trade_count
