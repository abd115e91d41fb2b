"""A live test session on a real worker: progress and trades while it runs; a stop loses nothing."""

import time

import pytest

from sessions_app.models import Run, Session, SessionEvent, Trade
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_test_session_shows_progress_and_trades_and_stops_within_5_seconds(celery_worker, operator_api):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "test",
            "market": "SOLUSD",
            "strategy": "SmaCross",
            "timeframe": "1s",
            "strategy_params": {"n1": 1, "n2": 2, "position_size": 10},
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")

    def live_trades():
        body = operator_api.get(f"/api/sessions/{created['id']}").json()["session"]
        progress = body["progress"] or {}
        return body if progress.get("done", 0) >= 3 and progress.get("trade_count", 0) >= 1 else None

    live = wait_for(live_trades, timeout=45, message="live progress with a trade")
    assert live["status"] == "running" and live["worker"]
    assert Trade.objects.filter(run__session_id=created["id"]).count() >= 1
    assert SessionEvent.objects.filter(session_id=created["id"], event_type="trade").exists()

    asked = time.monotonic()
    assert operator_api.post(f"/api/sessions/{created['id']}/stop").status_code == 200
    session = wait_for(
        lambda: Session.objects.filter(pk=created["id"], status="stopped").first(),
        timeout=5,
        interval=0.1,
        message="the session to stop",
    )
    assert time.monotonic() - asked < 5
    assert session.stopped_at is not None

    run = Run.objects.get(session=session)
    trades = Trade.objects.filter(run=run)
    # Nothing lost: the open position was closed at the stop and every trade is in the table,
    # in the final metrics and in the trades file.
    assert run.status == "stopped"
    assert run.trade_count == trades.count() == session.trade_count >= 2
    assert run.metrics["trade_count"] == trades.count()
    assert len(run.equity) >= 3
    assert SessionEvent.objects.filter(session=session, event_type="stopped").count() == 1
    assert session.trades_file and session.logs_file
