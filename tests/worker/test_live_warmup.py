"""A live test session fetches its strategy's startup_candles before its first live candle, so
it can trade on its first closed live candle: a live sim SmaCross trades on its first crossover,
not a slow average's length later."""

import numpy as np
import pytest

from bots.exchanges.sim import SimExchange
from bots.indicators import sma
from sessions_app.models import Run, Trade
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

N1, N2 = 1, 30  # the close against its 30-candle average: crossovers every few seconds


def _first_crossover(first_time: int, upto: int) -> int:
    """Open time of the first candle at or after `first_time` after which the fast average
    crosses the slow one, on the sim candles (with the N2 before it)."""
    candles = SimExchange().fetch_candles("SOLUSD", "1s", first_time - N2, upto + 1)
    fast, slow = sma(candles.close, N1), sma(candles.close, N2)
    crossed = ((fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])) | (
        (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    )
    times = candles.time[1:]
    found = np.flatnonzero(crossed & (times >= first_time))
    assert len(found), "no crossover before the first trade"
    return int(times[found[0]])


def _checkpoint(run: Run) -> dict | None:
    """The run's checkpoint while it has stepped fewer candles than its window."""
    checkpoint = Run.objects.get(pk=run.pk).checkpoint
    return checkpoint if checkpoint and checkpoint["candles"] < N2 else None


def _first_entry(run: Run) -> int | None:
    """The open time of the run's first entry: its first trade's, or its open position's."""
    first = Trade.objects.filter(run=run).order_by("entry_time").first()
    if first is not None:
        return int(first.entry_time)
    checkpoint = Run.objects.get(pk=run.pk).checkpoint or {}
    account = checkpoint.get("account") or {}
    if any(account.get("pos") or []):
        return int(account["entry_time"][0])
    return None


def test_a_live_smacross_trades_on_its_first_crossover(celery_worker, operator_api):
    session_id = operator_api.post(
        "/api/sessions",
        {
            "type": "test",
            "market": "SOLUSD",
            "strategy": "SmaCross",
            "timeframe": "1s",
            "strategy_params": {"n1": N1, "n2": N2, "position_size": 1},
        },
        format="json",
    ).json()["session"]["id"]
    assert operator_api.post(f"/api/sessions/{session_id}/start").status_code == 200

    run = Run.objects.get(session_id=session_id)
    try:
        checkpoint = wait_for(lambda: _checkpoint(run), timeout=30, message="a first checkpoint")
        entry = wait_for(lambda: _first_entry(run), timeout=300, message="the first entry")
    finally:
        assert operator_api.post(f"/api/sessions/{session_id}/stop").status_code == 200
        session = wait_for(lambda: session_ended(session_id), timeout=15, message="the session to stop")
    assert session.status == "stopped", session.error

    first_time = int(checkpoint["first_time"])  # its first live candle: warm-up ones are not
    assert first_time >= int(session.started_at.timestamp())  # stepped
    # From its first candles on, the strategy's window holds the N2 candles before the first.
    (tail,) = checkpoint["tails"]
    assert len(tail) == N2 + 1 and int(tail[0][0]) < first_time
    assert entry == _first_crossover(first_time, entry) + 1  # filled at the next candle's open
    logs = operator_api.get(f"/api/sessions/{session_id}/logs?tail=100").json()["lines"]
    assert any(f"Warm-up: the {N2} 1s candles before the first live candle" in line for line in logs)
