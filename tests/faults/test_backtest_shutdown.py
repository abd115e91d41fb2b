"""A worker's warm shutdown (a deploy) under a backtest hands the session back, as it does a live
one: the run it was computing goes back to `created`, the session waits `running` without a
worker (event `suspended`), and the next worker computes it; nothing is failed or lost.

Before, the interrupted run was ended `stopped` and the session `failed` ("No run of the
session completed."): a deploy killed every backtest in flight."""

from __future__ import annotations

import signal

import pytest

from sessions_app.models import Run, Session, SessionEvent, Trade
from strategies_app.services import strategies_sync
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC
STRATEGIES = "tests.worker.sweep_strategies"


@pytest.fixture
def backtest_worker(worker_process, settings):
    settings.STRATEGY_PACKAGES = [STRATEGIES]
    strategies_sync()

    def start(name: str):
        return worker_process(queues=("backtest",), name=name, extra_env={"STRATEGY_PACKAGES": STRATEGIES})

    return start


def _backtest(api, **extra) -> str:
    """A PausingBot backtest pausing 3 s on its first candle (the time to send the signal)."""
    created = api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "PausingBot",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "strategy_params": {"pause": 3},
            **extra,
        },
        format="json",
    ).json()["session"]
    assert api.post(f"/api/sessions/{created['id']}/start").status_code == 200
    return created["id"]


def _handed_back(process, session_id) -> Session:
    wait_for(
        lambda: Run.objects.filter(session_id=session_id, status="running").exists(),
        timeout=60,
        message="the run to start",
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)  # the warm shutdown completes within 10 s
    return Session.objects.get(pk=session_id)


def test_a_deploy_under_a_backtest_hands_it_back_and_the_next_worker_completes_it(
    backtest_worker, operator_api
):
    """A sweep of two runs, each computed alone (PausingBot decides per candle): the path of a
    plain backtest too, which is a sweep of one run."""
    first = backtest_worker("deploy-a@%h")  # first: the test's own worker then no longer takes backtests
    session_id = _backtest(operator_api, sweep={"k": [1, 2]})

    handed = _handed_back(first, session_id)

    assert (handed.status, handed.worker, handed.error) == ("running", None, None)
    assert SessionEvent.objects.filter(session_id=session_id, event_type="suspended").count() == 1
    statuses = set(Run.objects.filter(session_id=session_id).values_list("status", flat=True))
    assert statuses <= {"created", "completed"} and "created" in statuses, statuses
    assert not Trade.objects.filter(run__session_id=session_id, run__status="created").exists()

    backtest_worker("deploy-b@%h")
    ended = wait_for(lambda: session_ended(session_id), timeout=90, message="the resumed backtest to end")

    assert ended.status == "completed", ended.error
    runs = list(Run.objects.filter(session_id=session_id))
    assert {run.status for run in runs} == {"completed"} and len(runs) == 2
    assert ended.progress_done == ended.progress_total
    kinds = list(SessionEvent.objects.filter(session_id=session_id).values_list("event_type", flat=True))
    assert "resumed" in kinds and kinds[-1] == "completed", kinds
