"""A run identical to a completed one (config hash and data fingerprint) is copied, not computed."""

import json
from pathlib import Path

import pytest

from sessions_app.models import Run, Session, Trade
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC
SWEEP = {
    "type": "backtest",
    "market": "ETHUSD",
    "strategy": "SmaCross",
    "range_start": RANGE_START,
    "range_end": RANGE_START + DAY,
    "sweep": {"n1": [5, 10], "n2": [30, 60]},
}


def _run_to_end(api, session_id):
    api.post(f"/api/sessions/{session_id}/start")

    def finished():
        session = Session.objects.get(pk=session_id)
        return session if session.status not in ("created", "running") else None

    session = wait_for(finished, timeout=60, message="the sweep to end")
    assert session.status == "completed", session.error
    return session


def _trades(run):
    return list(Trade.objects.filter(run=run).order_by("entry_time", "id").values_list(*Trade.VALUE_FIELDS))


def test_a_cloned_sweep_reuses_every_run_without_computing_any(celery_worker, operator_api):
    source_id = operator_api.post("/api/sessions", SWEEP, format="json").json()["session"]["id"]
    source = _run_to_end(operator_api, source_id)
    originals = {r.config_hash: r for r in Run.objects.filter(session=source)}
    source_logs = operator_api.get(f"/api/sessions/{source_id}/logs?tail=50").json()["lines"]
    assert sum(any(f"Run {h} completed:" in line for h in originals) for line in source_logs) == 4
    assert all(r.reused_from_id is None for r in originals.values())
    assert sum(r.trade_count for r in originals.values()) > 0

    clone_id = operator_api.post(f"/api/sessions/{source_id}/clone", {}, format="json").json()["session"][
        "id"
    ]
    clone = _run_to_end(operator_api, clone_id)

    runs = list(Run.objects.filter(session=clone))
    assert len(runs) == 4
    for run in runs:
        original = originals[run.config_hash]
        assert run.status == "completed" and run.reused_from_id == original.pk
        assert run.data_fingerprint == original.data_fingerprint
        assert (run.trade_count, run.total_pnl, run.win_rate, run.max_drawdown, run.sharpe) == (
            original.trade_count,
            original.total_pnl,
            original.win_rate,
            original.max_drawdown,
            original.sharpe,
        )
        assert run.metrics == original.metrics and run.equity == original.equity
        assert _trades(run) == _trades(original)  # copied as rows of its own
    assert (clone.total_pnl, clone.trade_count) == (source.total_pnl, source.trade_count)

    best = max(runs, key=lambda r: (r.total_pnl, -r.id))
    api_run = operator_api.get(f"/api/sessions/{clone.pk}/runs/{best.config_hash}").json()["run"]
    assert api_run["reused_from"] == originals[best.config_hash].pk
    page = operator_api.get(f"/api/sessions/{clone.pk}/runs/{best.config_hash}/trades?limit=2").json()
    assert page["total"] == best.trade_count
    logs = operator_api.get(f"/api/sessions/{clone.pk}/logs?tail=50").json()["lines"]
    assert sum("reused from run" in line for line in logs) == 4
    # A computed run logs "Run <hash> completed: ..."; not one of the clone's was computed.
    assert not [line for line in logs if any(f"Run {r.config_hash} completed:" in line for r in runs)]
    written = json.loads(Path(clone.trades_file).read_text())
    assert sum(len(r["trades"]) for r in written["runs"]) == sum(r.trade_count for r in runs)
    assert clone.progress_done == clone.progress_total == 4 * 1440


def test_with_reuse_false_every_run_is_computed_again(celery_worker, operator_api):
    source_id = operator_api.post("/api/sessions", SWEEP, format="json").json()["session"]["id"]
    _run_to_end(operator_api, source_id)

    again_id = operator_api.post("/api/sessions", {**SWEEP, "reuse": False}, format="json").json()["session"][
        "id"
    ]
    again = _run_to_end(operator_api, again_id)

    runs = list(Run.objects.filter(session=again))
    assert len(runs) == 4 and all(r.reused_from_id is None and r.status == "completed" for r in runs)
    logs = operator_api.get(f"/api/sessions/{again.pk}/logs?tail=50").json()["lines"]
    assert not any("reused from" in line for line in logs)
