"""GET /api/sessions/<id>: one session in the envelope, times as Unix seconds."""

import time

from sessions_app.models import Session


def test_it_shows_one_session_with_all_its_columns(operator_api, make_session):
    session = make_session(name="Detail", notes="n")

    response = operator_api.get(f"/api/sessions/{session.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "session"}
    assert body["success"] is True
    data = body["session"]
    assert data["id"] == session.id
    assert (data["name"], data["notes"], data["status"]) == ("Detail", "n", "created")
    assert data["created_at"] == int(session.created_at.timestamp())
    expected = {
        "id",
        "name",
        "type",
        "market",
        "exchange",
        "strategy",
        "strategy_params",
        "timeframe",
        "initial_balance",
        "fee_bps",
        "slippage_bps",
        "range_start",
        "range_end",
        "status",
        "pid",
        "worker",
        "heartbeat_at",
        "error",
        "created_at",
        "started_at",
        "stopped_at",
        "trade_count",
        "total_pnl",
        "win_rate",
        "max_drawdown",
        "sharpe",
        "progress",
        "trades_file",
        "logs_file",
        "cloned_from",
        "notes",
    }
    assert expected <= set(data)
    assert data["progress"]["done"] == 0


def test_it_gives_times_of_a_running_session_as_unix_seconds(operator_api, make_session):
    before = int(time.time())
    session = make_session(start=True)
    # A worker would have claimed it and reported its heartbeat and results.
    Session.objects.filter(pk=session.pk).update(
        worker="host-1", pid=4242, heartbeat_at=session.started_at, total_pnl="12.5", trade_count=3
    )

    data = operator_api.get(f"/api/sessions/{session.id}").json()["session"]

    assert data["status"] == "running"
    assert isinstance(data["started_at"], int) and abs(data["started_at"] - before) <= 5
    assert data["heartbeat_at"] == data["started_at"]
    assert (data["worker"], data["pid"]) == ("host-1", 4242)
    assert (data["total_pnl"], data["trade_count"]) == (12.5, 3)
    assert data["stopped_at"] is None


def test_it_answers_404_in_the_envelope_for_an_unknown_session(operator_api, assert_refused):
    assert_refused(operator_api.get("/api/sessions/00000000-0000-0000-0000-000000000000"), 404)


def test_it_answers_404_for_an_id_that_cannot_be_a_session(operator_api, assert_refused):
    assert_refused(operator_api.get("/api/sessions/not-a-session"), 404)
