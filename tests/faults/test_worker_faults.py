"""A worker SIGTERMed (a deploy) or SIGKILLed (a crash) under a live session: the session
resumes on another worker from its checkpoint, and its trades equal a backtest of its whole
window on the sim exchange."""

from __future__ import annotations

import signal
import time

import pytest

from sessions_app.models import Run, Session, SessionEvent, Trade
from tests.faults.parity import TRADE_FIELDS, assert_same_trades, backtest_trades
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIVE = {
    "type": "test",
    "market": "SOLUSD",
    "strategy": "SmaCross",
    "timeframe": "1s",
    "strategy_params": {"n1": 1, "n2": 3, "position_size": 10},
}


def trade_count(session_id) -> int:
    return Trade.objects.filter(run__session_id=session_id).count()


def start_live(operator_api) -> str:
    session_id = operator_api.post("/api/sessions", LIVE, format="json").json()["session"]["id"]
    assert operator_api.post(f"/api/sessions/{session_id}/start").status_code == 200
    return session_id


def claimed_by_other(session_id, old_worker):
    """The session once another worker has taken it up (claimed it and told so)."""
    session = Session.objects.get(pk=session_id)
    if not session.worker or session.worker == old_worker:
        return None
    told = SessionEvent.objects.filter(
        session_id=session_id, event_type="resumed", event_data__worker=session.worker
    ).exists()
    return session if told else None


def stop_and_check_parity(operator_api, session_id) -> Session:
    assert operator_api.post(f"/api/sessions/{session_id}/stop").status_code == 200
    session = wait_for(lambda: session_ended(session_id), timeout=30, message="the session to stop")
    assert session.status == "stopped", session.error
    run = Run.objects.get(session=session)
    stored = list(Trade.objects.filter(run=run).order_by("id").values(*TRADE_FIELDS))
    config = {
        "strategy": session.strategy,
        "strategy_params": session.strategy_params,
        "market": session.market,
        "timeframe": session.timeframe,
        "initial_balance": session.initial_balance,
        "fee_bps": session.fee_bps,
        "slippage_bps": session.slippage_bps,
    }
    expected = backtest_trades(config, run.checkpoint)
    assert len(expected) >= 3
    assert_same_trades(stored, expected)
    assert run.trade_count == len(stored) == session.trade_count
    return session


def hand_back(process, session_id) -> float:
    """SIGTERM to the worker running the session: seconds until it exited (within 10 s)."""
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)  # the warm shutdown completes within 10 s
    exited = time.monotonic() - asked
    handed = Session.objects.get(pk=session_id)
    assert handed.status == "running" and handed.worker is None
    return exited


def test_a_sigtermed_worker_hands_the_session_back_and_another_resumes_it(
    worker_process, operator_api, settings, measured
):
    """Interrupted twice (two deploys), resumed twice: the trades of one uninterrupted run."""
    process = worker_process(queues=("test",), name="deploy-1@%h")
    session_id = start_live(operator_api)
    wait_for(lambda: trade_count(session_id) >= 2, timeout=90, message="trades on the first worker")
    for deploy in (2, 3):
        old_worker = Session.objects.get(pk=session_id).worker
        exited = hand_back(process, session_id)
        assert (
            SessionEvent.objects.filter(session_id=session_id, event_type="suspended").count() == deploy - 1
        )
        before = trade_count(session_id)

        restarted = time.monotonic()
        process = worker_process(queues=("test",), name=f"deploy-{deploy}@%h")
        resumed = wait_for(
            lambda old=old_worker: claimed_by_other(session_id, old), timeout=60, message="the resume"
        )
        resume_seconds = time.monotonic() - restarted
        assert SessionEvent.objects.filter(session_id=session_id, event_type="resumed").count() == deploy - 1
        assert resumed.status == "running" and not resumed.error
        wait_for(
            lambda count=before: trade_count(session_id) >= count + 2,
            timeout=60,
            message="trades after the resume",
        )
        measured(
            f"SIGTERM #{deploy - 1}: worker exited {exited:.1f} s after the signal; the session resumed "
            f"{resume_seconds:.1f} s after a new worker was started"
        )
    stop_and_check_parity(operator_api, session_id)


def test_a_sigkilled_workers_session_resumes_on_another_worker(
    worker_process, operator_api, settings, measured
):
    settings.STALE_AFTER_SECONDS = 6
    first = worker_process(queues=("test",), name="crash-old@%h")
    session_id = start_live(operator_api)
    wait_for(lambda: trade_count(session_id) >= 2, timeout=90, message="trades on the first worker")
    old_worker = Session.objects.get(pk=session_id).worker

    first.kill()  # SIGKILL: no checkpoint, no goodbye
    first.wait(timeout=10)
    killed = time.monotonic()
    worker_process(queues=("test",), name="crash-new@%h")

    # No scheduler runs: reads reap lazily, and the reaper hands the session to any worker.
    def resumed():
        operator_api.get(f"/api/sessions/{session_id}")
        return claimed_by_other(session_id, old_worker)

    session = wait_for(
        resumed, timeout=settings.STALE_AFTER_SECONDS + 60, interval=0.5, message="the lost session to resume"
    )
    resume_seconds = time.monotonic() - killed
    assert session.status == "running" and not session.error
    lost = SessionEvent.objects.filter(session_id=session_id, event_type="info", event_data__resuming=True)
    assert lost.count() == 1
    assert SessionEvent.objects.filter(session_id=session_id, event_type="resumed").count() == 1
    before = trade_count(session_id)
    wait_for(lambda: trade_count(session_id) >= before + 2, timeout=60, message="trades after the resume")
    measured(
        f"SIGKILL: the session resumed {resume_seconds:.1f} s after the kill "
        f"(STALE_AFTER_SECONDS={settings.STALE_AFTER_SECONDS}, lazy reaper every 5 s)"
    )
    stop_and_check_parity(operator_api, session_id)


def test_a_prefork_worker_hands_its_sessions_back_on_sigterm_too(worker_process, operator_api, measured):
    """As the Procfile runs workers (prefork pool): the pool child running the session is told
    by the shutting-down main process and hands the session back."""
    process = worker_process(queues=("test",), name="prefork-old@%h", pool="prefork")
    session_id = start_live(operator_api)
    wait_for(lambda: trade_count(session_id) >= 2, timeout=90, message="trades on the prefork worker")
    old_worker = Session.objects.get(pk=session_id).worker
    exited = hand_back(process, session_id)
    assert SessionEvent.objects.filter(session_id=session_id, event_type="suspended").count() == 1
    worker_process(queues=("test",), name="prefork-new@%h", pool="prefork")
    wait_for(lambda: claimed_by_other(session_id, old_worker), timeout=60, message="the resume")
    measured(f"SIGTERM (prefork): worker exited {exited:.1f} s after the signal")
    stop_and_check_parity(operator_api, session_id)
