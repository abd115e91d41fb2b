"""A strategy that raises: the session fails with its error; the worker lives on."""

from pathlib import Path

import pytest

from sessions_app.models import Session, SessionEvent
from strategies_app.services import strategies_sync
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _ended(api, settings, strategy: str, **extra) -> Session:
    """A day's backtest of a failing_strategies strategy on SOLUSD, started and ended."""
    settings.STRATEGY_PACKAGES = ["tests.worker.failing_strategies"]
    strategies_sync()
    body = {"type": "backtest", "market": "SOLUSD", "strategy": strategy, "range_start": 1_767_225_600}
    created = api.post("/api/sessions", {**body, "range_end": 1_767_225_600 + 86_400, **extra}, format="json")
    session_id = created.json()["session"]["id"]
    api.post(f"/api/sessions/{session_id}/start")
    return wait_for(
        lambda: Session.objects.filter(pk=session_id).exclude(status="running").first(),
        timeout=60,
        message="the session to end",
    )


def test_a_strategy_that_raises_ends_failed_with_its_error_and_an_error_event(
    celery_worker, operator_api, settings
):
    session = _ended(operator_api, settings, "ExplodingBot")

    assert session.status == "failed"
    assert "boom at candle 29" in session.error
    event = SessionEvent.objects.get(session=session, event_type="error")
    assert "boom at candle 29" in event.event_data["error"]
    assert "Traceback" in event.event_data["traceback"]
    assert session.stopped_at is not None


def test_a_run_whose_strategy_raises_inside_a_grid_fails_alone(celery_worker, operator_api, settings):
    """The grid of a sweep's runs raises: its runs go run by run, so only the broken one fails."""
    session = _ended(operator_api, settings, "BrokenCrossBot", sweep={"broken": [False, True], "n1": [5, 8]})

    assert session.status == "completed", session.error
    for run in session.runs.all():
        assert run.status == ("failed" if run.params["broken"] else "completed")
        assert ("broken indicators" in run.error) if run.params["broken"] else run.trade_count > 0
    log = Path(session.logs_file).read_text()
    assert "The grid of 4 runs raised (RuntimeError: broken indicators); computing them one by one" in log


def test_a_strategy_sizing_itself_past_its_margin_has_its_orders_cut(celery_worker, operator_api, settings):
    """Before the margin account, 1e300 contracts were written (SQLite keeps any REAL) and the
    session's pages answered 500 reading them back. Now each order is cut to what the margin
    available buys (10,000 USD at 1x), the run completes and every page reads it."""
    session = _ended(operator_api, settings, "OversizedBot")

    assert session.status == "completed", session.error
    run = session.runs.get()
    trades = list(run.trades.all())
    values = [float(t.entry_size) * float(t.entry_price) for t in trades]
    # The first at the balance, the others at the equity of their time (a day's PnL away).
    assert trades and 9_000 < values[0] <= 10_000 and all(v <= 12_000 for v in values)
    assert run.metrics["orders_reduced"] > 0
    reduced = SessionEvent.objects.filter(
        session=session, event_type="info", event_data__message__startswith="order reduced"
    )
    assert reduced.exists()
    assert operator_api.get(f"/api/sessions/{session.id}/trades").status_code == 200
    csv = operator_api.get(f"/api/sessions/{session.id}/trades?format=csv")
    assert csv.status_code == 200 and len(b"".join(csv.streaming_content).splitlines()) == len(trades) + 1
