"""A sweep's runs computed in grids (engine.run_grid, several configs per compiled call) on a
real worker give every run what run_backtest gives it alone: the same trades, metrics and
equity curve, in the table and in the trades file."""

import json
import re
from pathlib import Path

import pytest

from bots import runner as engine
from sessions_app.models import Run, Session
from sessions_app.runner.inputs import market_specs, run_config, session_candles
from sessions_app.services.trades import TRADE_COLUMNS
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def _alone(session: Session, run: Run) -> engine.Result:
    """The run computed by itself, as a plain backtest is."""
    markets = market_specs(session)
    candles = session_candles(session, markets)
    return engine.run_backtest(run_config(session, run, markets), candles, engine.NullSink())


def _rows(trades) -> list[tuple]:
    columns = trades.columns()
    return [tuple(row) for row in zip(*(columns[c] for c in TRADE_COLUMNS[1:]), strict=True)]


@pytest.mark.parametrize("market", ["XBTUSD", "BTCUSDT"])  # inverse, linear
def test_a_sweep_computed_in_grids_gives_each_run_what_it_gives_alone(
    celery_worker, operator_api, settings, market
):
    settings.SWEEP_CHUNK_RUNS = 4  # 7 runs: one chunk task beside the coordinator, grids of <= 4
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": market,
            "strategy": "SmaCross",
            "strategy_params": {"position_size": 3},
            "fee_bps": 5,
            "slippage_bps": 2,
            "range_start": RANGE_START,
            "range_end": RANGE_START + 3 * DAY,
            "sweep": {"n1": [3, 5, 8, 13, 21, 34, 55], "n2": [89]},
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")

    session = wait_for(lambda: session_ended(created["id"]), timeout=90, message="the sweep to end")

    assert session.status == "completed", session.error
    log = Path(session.logs_file).read_text()
    # The grid path, not run by run: every run in a grid of at most 4. How the 7 split (4 + 3,
    # or 4 + 2 + 1 when the chunk task claims while the coordinator still does) is the claims'.
    grids = [int(size) for size in re.findall(r"(\d+) runs computed in one grid", log)]
    assert sum(grids) == 7 and max(grids) <= 4 and len(grids) >= 2, log
    written = {
        part["config_hash"]: part["trades"]
        for part in json.loads(Path(session.trades_file).read_text())["runs"]
    }
    runs = list(session.runs.order_by("id"))
    assert len(runs) == 7
    for run in runs:
        alone = _alone(session, run)
        assert run.status == "completed"
        assert alone.metrics["trade_count"] > 0
        # Metrics and curve as the JSON columns keep them.
        assert run.metrics == json.loads(json.dumps(alone.metrics))
        assert run.equity == [[int(t), float(v)] for t, v in alone.equity]
        assert run.trade_count == len(alone.trades)
        expected = _rows(alone.trades)
        # The table keeps 10 decimal places (MariaDB rounds to them; the ORM reads them so).
        table = list(run.trades.order_by("entry_time", "id").values_list(*TRADE_COLUMNS[1:]))
        assert len(table) == len(expected)
        reason = TRADE_COLUMNS[1:].index("exit_reason")
        for got, want in zip(table, expected, strict=True):
            assert got[:3] == want[:3] and got[5] == want[5]  # market, side, entry and exit time
            assert got[reason] == want[reason]
            numbers = [i for i in (3, 4, *range(6, len(want))) if i != reason]
            assert [float(got[i]) for i in numbers] == pytest.approx(
                [want[i] for i in numbers], rel=1e-12, abs=1e-10
            )
        assert [tuple(t[c] for c in TRADE_COLUMNS[1:]) for t in written[run.config_hash]] == expected
        page = operator_api.get(f"/api/sessions/{session.pk}/runs/{run.config_hash}/trades?limit=3").json()
        assert len(page["trades"]) == 3 and page["next_cursor"]
