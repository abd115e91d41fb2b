"""A backtest session on a real worker: created -> running -> completed, with its results."""

import json
from pathlib import Path

import pytest

from sessions_app.models import Run, SessionEvent, Trade
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def test_it_runs_a_backtest_to_completed_with_trades_metrics_equity_and_events(celery_worker, operator_api):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "strategy_params": {"threshold": 0.3},
            "range_start": RANGE_START,
            "range_end": RANGE_START + 3 * DAY,
        },
        format="json",
    ).json()["session"]
    started = operator_api.post(f"/api/sessions/{created['id']}/start").json()["session"]
    # The worker may already have finished it by the time the answer is built.
    assert started["status"] in ("running", "completed") and started["started_at"]

    session = wait_for(lambda: session_ended(created["id"]), timeout=60, message="the backtest to end")

    assert session.status == "completed", session.error
    assert session.worker and session.pid and session.heartbeat_at
    assert session.progress_done == session.progress_total == 3 * 1440
    run = Run.objects.get(session=session)
    assert run.status == "completed"
    trades = Trade.objects.filter(run=run)
    assert session.trade_count == run.trade_count == trades.count() > 0
    assert float(session.total_pnl) == pytest.approx(sum(float(t.realized_pnl) for t in trades), abs=1e-6)
    assert run.metrics["currency"] == "XBT"
    assert 0 < len(run.equity) <= 2100

    metrics = operator_api.get(f"/api/sessions/{session.pk}/metrics").json()["metrics"]
    assert metrics["trade_count"] == trades.count()
    assert {"profit_factor", "sharpe", "max_drawdown", "fees_paid", "final_equity"} <= set(metrics)
    equity = operator_api.get(f"/api/sessions/{session.pk}/equity").json()
    assert equity["currency"] == "XBT" and equity["equity"][0][0] >= RANGE_START
    page = operator_api.get(f"/api/sessions/{session.pk}/trades?limit=5").json()
    assert page["total"] == trades.count() and len(page["trades"]) == 5

    events = list(SessionEvent.objects.filter(session=session).values_list("event_type", flat=True))
    assert events[:2] == ["created", "started"] and events[-1] == "completed"

    written = json.loads(Path(session.trades_file).read_text())
    assert written["session_id"] == session.pk
    assert len(written["runs"][0]["trades"]) == trades.count()
    logs = operator_api.get(f"/api/sessions/{session.pk}/logs?tail=50").json()["lines"]
    assert any("completed" in line for line in logs)


def test_a_sweep_runs_every_combination_and_takes_the_best_runs_results(celery_worker, operator_api):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "sweep": {"n1": [5, 10], "n2": [30, 60]},
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")

    session = wait_for(lambda: session_ended(created["id"]), timeout=60, message="the sweep to end")

    assert session.status == "completed", session.error
    runs = list(Run.objects.filter(session=session))
    assert len(runs) == 4 and {r.status for r in runs} == {"completed"}
    best = max(runs, key=lambda r: r.total_pnl)
    assert session.total_pnl == best.total_pnl and session.trade_count == best.trade_count
    by_profit = operator_api.get(f"/api/sessions/{session.pk}/runs?sort=total_pnl:desc").json()["runs"]
    assert by_profit[0]["config_hash"] == best.config_hash


def test_a_backtest_on_a_market_without_data_fails_with_a_clear_error(celery_worker, operator_api):
    from strategies_app.services import market_create

    market_create(exchange="local", symbol="GOOG")
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "exchange": "local",
            "market": "GOOG",
            "strategy": "SmaCross",
            "timeframe": "1d",
            "range_start": RANGE_START,
            "range_end": RANGE_START + 30 * DAY,
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")

    session = wait_for(lambda: session_ended(created["id"]), timeout=30, message="the backtest to fail")

    assert session.status == "failed"
    assert "No 1d candles for GOOG on local" in session.error
