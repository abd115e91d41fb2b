"""A sweep shared by a pool of worker processes: its chunks go to the backtest queue and every
free process takes runs. Runs land on different pids, a SIGKILLed process fails only its run,
a stop stops every process's run, a clone reuses every run, and the summary is the runs'."""

import os
import signal

import pytest

from sessions_app import services
from sessions_app.models import Run, SessionEvent
from strategies_app.services import strategies_sync
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC
STRATEGIES = "tests.worker.sweep_strategies"


@pytest.fixture
def pool(worker_process, settings):
    """A prefork worker with 2 processes on the backtest queue; a sweep asks one more chunk
    per 2 runs left to compute."""
    settings.STRATEGY_PACKAGES = [STRATEGIES]
    settings.STALE_AFTER_SECONDS = 8
    strategies_sync()
    return worker_process(
        queues=("backtest",),
        pool_size=2,
        extra_env={"STRATEGY_PACKAGES": STRATEGIES, "SWEEP_CHUNK_RUNS": "2"},
    )


def _sweep(api, *, runs: int, pause: float, meet: str = "") -> str:
    """A sweep of PausingBot runs, each pausing `pause` s on its first candle (after two
    processes met in the folder `meet`, when given); started."""
    created = api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "PausingBot",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "strategy_params": {"pause": pause, "meet": meet},
            "sweep": {"k": list(range(runs))},
        },
        format="json",
    ).json()["session"]
    response = api.post(f"/api/sessions/{created['id']}/start")
    assert response.status_code == 200, response.content
    return created["id"]


def _running_pids(session_id) -> set[int]:
    return set(Run.objects.filter(session_id=session_id, status="running").values_list("pid", flat=True))


def _ended_with_reaper(session_id):
    """The session once ended; the reaper runs meanwhile (no beat in tests)."""
    services.sessions_reap()
    return session_ended(session_id)


def test_a_sweeps_runs_are_computed_by_more_than_one_process(pool, operator_api, tmp_path):
    session_id = _sweep(operator_api, runs=8, pause=0.2, meet=str(tmp_path / "meet"))

    session = wait_for(lambda: session_ended(session_id), timeout=120, message="the sweep to end")

    assert session.status == "completed", session.error
    runs = operator_api.get(f"/api/sessions/{session_id}/runs?limit=50").json()["runs"]
    assert len(runs) == 8 and {r["status"] for r in runs} == {"completed"}
    pids = {r["pid"] for r in runs}
    assert len(pids) >= 2 and os.getpid() not in pids, pids
    assert all(r["worker"].endswith(f":{r['pid']}") for r in runs)
    assert session.progress_done == session.progress_total == 8 * 1440
    summary = operator_api.get(f"/api/sessions/{session_id}").json()["session"]["summary"]
    assert summary["run_count"] == summary["completed_runs"] == 8 and summary["error_count"] == 0


def test_a_sigkilled_process_fails_only_its_run_and_the_session_reports_it(pool, operator_api):
    session_id = _sweep(operator_api, runs=8, pause=1.0)
    victim = wait_for(
        lambda: next(iter(_running_pids(session_id)), None), timeout=60, message="a run to be computed"
    )

    os.kill(victim, signal.SIGKILL)  # the pool's child computing that run: no goodbye

    session = wait_for(lambda: _ended_with_reaper(session_id), timeout=120, message="the sweep to end")
    assert session.status == "completed", session.error  # the other runs completed
    runs = list(Run.objects.filter(session_id=session_id))
    failed = [r for r in runs if r.status == "failed"]
    assert len(failed) == 1 and failed[0].pid == victim
    assert failed[0].error.startswith("Worker lost")
    assert {r.status for r in runs if r not in failed} == {"completed"} and len(runs) == 8
    assert any(r.pid != victim for r in runs)  # the rest went on elsewhere
    reports = [e.event_data for e in SessionEvent.objects.filter(session_id=session_id, event_type="error")]
    assert [r["id"] for r in reports[0]["failed_runs"]] == [failed[0].pk]
    summary = operator_api.get(f"/api/sessions/{session_id}").json()["session"]["summary"]
    assert (summary["completed_runs"], summary["error_count"]) == (7, 1)


def test_a_stop_stops_the_runs_of_every_process(pool, operator_api, tmp_path):
    session_id = _sweep(operator_api, runs=12, pause=1.0, meet=str(tmp_path / "meet"))
    wait_for(lambda: len(_running_pids(session_id)) >= 2, timeout=60, message="two processes computing")

    response = operator_api.post(f"/api/sessions/{session_id}/stop")
    assert response.status_code == 200, response.content

    session = wait_for(lambda: session_ended(session_id), timeout=60, message="the sweep to stop")
    assert session.status == "stopped"
    runs = list(Run.objects.filter(session_id=session_id))
    assert {r.status for r in runs} <= {"completed", "stopped"}
    computed = [r for r in runs if r.started_at is not None]
    assert len({r.pid for r in computed}) >= 2 and len(computed) < 12
    assert all(r.status == "stopped" for r in runs if r.started_at is None)


def test_a_cloned_sweep_reuses_every_run_and_its_summary_is_the_runs(pool, operator_api):
    body = {
        "type": "backtest",
        "market": "ETHUSD",
        "strategy": "SmaCross",
        "range_start": RANGE_START,
        "range_end": RANGE_START + 2 * DAY,
        "sweep": {"n1": [3, 5, 8], "n2": [30, 60]},
    }
    source_id = operator_api.post("/api/sessions", body, format="json").json()["session"]["id"]
    operator_api.post(f"/api/sessions/{source_id}/start")
    source = wait_for(lambda: session_ended(source_id), timeout=120, message="the sweep to end")
    assert source.status == "completed", source.error
    clone_id = operator_api.post(f"/api/sessions/{source_id}/clone", {}, format="json").json()["session"][
        "id"
    ]
    operator_api.post(f"/api/sessions/{clone_id}/start")
    clone = wait_for(lambda: session_ended(clone_id), timeout=120, message="the clone to end")
    assert clone.status == "completed", clone.error

    originals = {r.config_hash: r for r in Run.objects.filter(session_id=source_id)}
    runs = operator_api.get(f"/api/sessions/{clone_id}/runs?limit=50").json()["runs"]
    assert len(runs) == 6 and sum(o.trade_count for o in originals.values()) > 0
    for run in runs:
        original = originals[run["config_hash"]]
        assert run["status"] == "completed" and run["reused_from"] == original.pk
        assert run["trade_count"] == original.trade_count == Run.objects.get(pk=run["id"]).trades.count()
    profits = [r["total_pnl"] for r in runs]
    best = max(runs, key=lambda r: (r["total_pnl"], -r["id"]))
    summary = operator_api.get(f"/api/sessions/{clone_id}").json()["session"]["summary"]
    assert summary["run_count"] == summary["completed_runs"] == 6
    assert summary["best_profit"] == pytest.approx(max(profits))
    assert summary["best_config_hash"] == best["config_hash"]
    assert summary["avg_profit"] == pytest.approx(sum(profits) / 6, abs=1e-6)
