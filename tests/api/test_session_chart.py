"""GET /api/sessions/<id>/chart: OHLC candles aggregated to max_points, every trade of the
window as markers, the run's equity in it; bad parameters are a 400 naming the field."""

import numpy as np
import pytest

from bots import archive
from bots.candles import Candles, resample
from sessions_app import services
from sessions_app.models import Run, Trade

YEAR = 365 * 86_400
START = 1_704_067_200  # 2024-01-01 00:00 UTC


def _backtest(make_session, *, days: int, **fields):
    return make_session(
        type="backtest", range_start=START, range_end=START + days * 86_400, timeframe="1m", **fields
    )


def _add_trades(run, times, market="XBTUSD"):
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market=market,
            side="long" if k % 2 == 0 else "short",
            entry_time=t,
            entry_price="50000",
            entry_size="100",
            exit_time=t + 1800,
            exit_price="50100",
            exit_size="100",
            realized_pnl="0.001",
            fee="0.00001",
        )
        for k, t in enumerate(times)
    )


def test_a_year_of_1m_candles_comes_as_at_most_max_points_with_every_trade(operator_api, make_session):
    session = _backtest(make_session, days=365)
    run = session.runs.get()
    # 678 trades spread over the whole year: each one is a marker, the last ones too.
    times = [START + k * (YEAR // 678) for k in range(678)]
    _add_trades(run, times)

    body = operator_api.get(f"/api/sessions/{session.id}/chart?max_points=2000").json()

    assert body["success"] is True
    assert 1000 < len(body["candles"]) <= 2000
    assert body["interval"] > 60 and body["interval"] % 60 == 0
    assert (body["from"], body["to"], body["config_hash"]) == (START, START + YEAR, run.config_hash)
    first = body["candles"][0]
    assert len(first) == 6 and first[2] >= max(first[1], first[4]) and first[3] <= min(first[1], first[4])
    times_drawn = [c[0] for c in body["candles"]]
    assert times_drawn == sorted(times_drawn) and all(t % body["interval"] == 0 for t in times_drawn)
    entries = [m for m in body["markers"] if m["kind"] == "entry"]
    exits = [m for m in body["markers"] if m["kind"] == "exit"]
    assert len(entries) == 678 and len(exits) == 678
    assert entries[-1]["time"] == times[-1] and entries[-1]["side"] == "short"
    assert set(entries[0]) == {"time", "side", "price", "kind", "trade_id", "pnl"}
    assert exits[0]["pnl"] == 0.001 and exits[0]["price"] == 50100.0


def test_a_window_gets_finer_candles_and_only_its_trades(operator_api, make_session):
    session = _backtest(make_session, days=30)
    run = session.runs.get()
    _add_trades(run, [START + k * 86_400 for k in range(30)])
    whole = operator_api.get(f"/api/sessions/{session.id}/chart").json()

    lo, hi = START + 10 * 86_400, START + 12 * 86_400
    zoomed = operator_api.get(f"/api/sessions/{session.id}/chart?from={lo}&to={hi}&max_points=500").json()

    assert zoomed["interval"] < whole["interval"]
    assert 0 < len(zoomed["candles"]) <= 500
    assert all(lo - zoomed["interval"] < c[0] < hi for c in zoomed["candles"])
    # Trades entered on days 10 and 11 (their exits half an hour later are inside too).
    assert sorted({m["trade_id"] for m in zoomed["markers"]}) == sorted(
        Trade.objects.filter(run=run, entry_time__gte=lo, entry_time__lt=hi).values_list("id", flat=True)
    )
    assert len(zoomed["markers"]) == 4


def test_the_equity_of_the_window_comes_along(operator_api, make_session):
    session = _backtest(make_session, days=10)
    run = session.runs.get()
    curve = [[START + k * 3600, 1 + k / 1000] for k in range(240)]
    services.session_results_save(session=session, run=run, metrics={"total_pnl": 0.2}, equity=curve)

    body = operator_api.get(f"/api/sessions/{session.id}/chart?from={START}&to={START + 86_400}").json()

    assert body["equity"] == curve[:24]


def test_an_archived_market_is_read_and_aggregated_by_ohlc(operator_api, make_session, settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    session = make_session(type="backtest", exchange="bitmex", range_start=START, range_end=START + 86_400)
    times = np.arange(START, START + 86_400, 60, dtype=np.int64)
    rng = np.random.default_rng(7)
    close = 50_000 + np.cumsum(rng.normal(0, 10, len(times)))
    candles = Candles(times, close - 1, close + 5, close - 6, close, np.ones(len(times)))
    archive.write(tmp_path, "bitmex", "XBTUSD", "1m", candles)

    body = operator_api.get(f"/api/sessions/{session.id}/chart?max_points=24").json()

    assert body["interval"] == 3600 and len(body["candles"]) == 24
    expected = resample(candles, 3600)
    hour = body["candles"][5]
    assert hour[0] == START + 5 * 3600
    assert hour[1:] == pytest.approx(list(expected.row(5)[1:]))
    assert hour[2] == pytest.approx(float(candles.high[300:360].max()))
    assert hour[5] == pytest.approx(60.0)


def test_a_run_is_chosen_by_its_hash(operator_api, make_session):
    session = _backtest(make_session, days=3, sweep={"threshold": [0.3, 0.5]})
    poor, best = session.runs.order_by("id")
    Run.objects.filter(pk=best.pk).update(total_pnl="3")
    _add_trades(poor, [START + 3600])

    best_body = operator_api.get(f"/api/sessions/{session.id}/chart").json()
    poor_body = operator_api.get(f"/api/sessions/{session.id}/chart?run={poor.config_hash}").json()

    assert (best_body["config_hash"], best_body["markers"]) == (best.config_hash, [])
    assert (poor_body["config_hash"], len(poor_body["markers"])) == (poor.config_hash, 2)


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=yesterday", "from"),
        ("to=-5", "to"),
        ("from=200&to=100", "to"),
        ("max_points=1", "max_points"),
        ("max_points=lots", "max_points"),
        ("interval=0", "interval"),
        ("market=ETHUSD", "market"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(operator_api, make_session, query, field):
    session = _backtest(make_session, days=1)

    response = operator_api.get(f"/api/sessions/{session.id}/chart?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and list(body["errors"]) == [field]
    assert body["error"].startswith(f"{field}: ")


def test_an_unknown_session_or_run_is_a_404(operator_api, make_session):
    session = _backtest(make_session, days=1)

    assert operator_api.get("/api/sessions/abcdef/chart").status_code == 404
    assert operator_api.get(f"/api/sessions/{session.id}/chart?run=abc123").status_code == 404


def test_a_session_not_started_has_an_empty_chart(operator_api, make_session):
    session = make_session(type="test")

    body = operator_api.get(f"/api/sessions/{session.id}/chart").json()

    assert (body["candles"], body["markers"], body["from"], body["live"]) == ([], [], None, False)
