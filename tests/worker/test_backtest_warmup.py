"""Backtests on a worker read the history before range_start their strategies need (a sweep:
its largest startup_candles), so a backtest from T decides as a longer one does; the runs'
data fingerprint covers those candles; an archive with fewer of them still runs (logged)."""

import numpy as np
import pytest

from bots import archive
from bots.candles import Candles
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, run_backtest
from sessions_app import services
from sessions_app.models import Run, Trade
from sessions_app.runner.inputs import in_range, market_specs, session_candles, startup_candles
from tests.worker_fixtures import session_ended, wait_for

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC
SMA = {"n1": 10, "n2": 120, "position_size": 1}


@pytest.mark.django_db
def test_a_sweeps_candles_begin_its_largest_startup_before_range_start(operator):
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "sweep": {"n1": [5], "n2": [30, 90]},
        },
    )
    assert startup_candles(session) == 90

    legs = session_candles(session, market_specs(session))["ETHUSD"]

    assert int(legs.time[0]) == RANGE_START - 90 * 60
    assert in_range(session, legs) == 1440 and len(legs) == 1440 + 90


def _backtest(api, data) -> Run:
    session_id = api.post("/api/sessions", data, format="json").json()["session"]["id"]
    assert api.post(f"/api/sessions/{session_id}/start").status_code == 200
    session = wait_for(lambda: session_ended(session_id), timeout=60, message="the backtest to end")
    assert session.status == "completed", session.error
    return Run.objects.get(session=session)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_backtest_session_from_t_decides_as_one_started_30_days_earlier(celery_worker, operator_api):
    end = RANGE_START + 2 * DAY
    longer = run_backtest(
        RunConfig.for_market(
            "SmaCross", SMA, "ETHUSD", range_start=RANGE_START - 30 * DAY, range_end=end, initial_balance=1e6
        ),
        SimExchange(),
        ListSink(),
    )
    # T: 4 candles before a reversal of the longer run, within the slow average's 120 candles.
    later = [t for t in longer.trades if t.entry_time > RANGE_START + DAY]
    start = next(
        b.entry_time - 240
        for a, b in zip(later, later[1:], strict=False)
        if a.entry_time < b.entry_time - 240
    )
    first = start + 240

    run = _backtest(
        operator_api,
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "strategy_params": SMA,
            "initial_balance": 1e6,
            "range_start": start,
            "range_end": end,
        },
    )

    stored = list(Trade.objects.filter(run=run).order_by("entry_time", "id"))
    assert stored and int(stored[0].entry_time) == first
    assert [(int(t.entry_time), t.side, float(t.entry_price)) for t in stored] == [
        (t.entry_time, t.side, pytest.approx(t.entry_price, rel=1e-12))
        for t in longer.trades
        if t.entry_time >= first
    ]
    assert run.metrics["candles"] == (end - start) // 60  # the warm-up is not counted


def _archive_goog(root, first: int, last: int, *, bump: int | None = None) -> None:
    """A local market's 1m candles [first, last) into the archive; `bump`: one candle's close moved."""
    times = np.arange(first, last, 60, dtype=np.int64)
    closes = 100.0 + 5.0 * np.sin(times / 3600.0)
    if bump is not None:
        closes[times == bump] += 1.0
    archive.write(
        str(root),
        "local",
        "GOOG",
        "1m",
        Candles(times, closes, closes + 0.5, closes - 0.5, closes, np.ones(len(times))),
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_data_fingerprint_covers_the_warm_up_and_a_short_archive_still_runs(
    celery_worker, operator_api, data_root
):
    from strategies_app.services import market_create

    market_create(exchange="local", symbol="GOOG")
    start, end = RANGE_START, RANGE_START + DAY
    session = {
        "type": "backtest",
        "exchange": "local",
        "market": "GOOG",
        "strategy": "SmaCross",
        "timeframe": "1m",
        "strategy_params": {"n1": 5, "n2": 30, "position_size": 1},
        "range_start": start,
        "range_end": end,
    }
    _archive_goog(data_root, start - 10 * 60, end)  # 10 of its 30 warm-up candles
    short = _backtest(operator_api, session)
    logs = operator_api.get(f"/api/sessions/{short.session_id}/logs?tail=100").json()["lines"]
    assert any("Warm-up GOOG: 10 of the 30 1m candles" in line for line in logs)

    _archive_goog(data_root, start - DAY, end)  # the whole warm-up (and more) now
    full = _backtest(operator_api, session)
    assert full.data_fingerprint != short.data_fingerprint and full.reused_from_id is None

    _archive_goog(data_root, start - DAY, end, bump=start - 12 * 3600)  # before the warm-up
    same = _backtest(operator_api, session)
    assert same.data_fingerprint == full.data_fingerprint and same.reused_from_id == full.pk

    _archive_goog(data_root, start - DAY, end, bump=start - 20 * 60)  # inside the warm-up
    changed = _backtest(operator_api, session)
    assert changed.data_fingerprint != full.data_fingerprint and changed.reused_from_id is None
