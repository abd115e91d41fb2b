"""GET /api/sessions/<id>/trades?format=csv: every trade streamed as CSV (the export)."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sessions_app import services
from sessions_app.models import Run, Session, Trade
from sessions_app.services.trades import trades_insert
from tests.worker_fixtures import wait_for

HEADER = [
    "config_hash",
    "trade_id",
    "market",
    "side",
    "entry_time",
    "entry_at",
    "entry_price",
    "entry_size",
    "exit_time",
    "exit_at",
    "exit_price",
    "exit_size",
    "realized_pnl",
    "fee",
    "exit_reason",
    "funding",
]
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in reader]


def _add_trades(run: Run, count: int, *, start: int = T0, pnl: float = 0.5) -> None:
    trades_insert(
        [
            (
                run.pk,
                "XBTUSD",
                "long" if i % 2 else "short",
                start + 60 * i,
                60000.0 + i,
                100.0,
                start + 60 * i + 30,
                60001.5 + i,
                100.0,
                pnl * (1 if i % 3 else -1),
                0.0001,
                "liquidation" if i == 4 else "signal",
                0.0000375 * i,
            )
            for i in range(count)
        ]
    )


def test_a_sweep_exports_every_run_with_its_config_hash(make_session, operator_api):
    session = make_session(type="backtest", sweep={"threshold": [0.2, 0.4, 0.6]})
    runs = list(session.runs.order_by("id"))
    for index, run in enumerate(runs):
        _add_trades(run, 5 + index, start=T0 + index)

    rows = _csv(operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv"))

    assert len(rows) == 5 + 6 + 7
    assert [r["config_hash"] for r in rows] == [
        run.config_hash for run in runs for _ in range(5 + runs.index(run))
    ]
    first = Trade.objects.filter(run=runs[0]).order_by("entry_time", "id").first()
    assert rows[0]["trade_id"] == str(first.pk)
    assert rows[0]["side"] == first.side and rows[0]["market"] == "XBTUSD"
    assert int(rows[0]["entry_time"]) == first.entry_time
    assert rows[0]["entry_at"] == datetime.fromtimestamp(first.entry_time, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert Decimal(rows[0]["entry_price"]) == first.entry_price
    assert Decimal(rows[0]["realized_pnl"]) == first.realized_pnl
    assert Decimal(rows[0]["fee"]) == first.fee
    assert [r["exit_reason"] for r in rows[:5]] == ["signal"] * 4 + ["liquidation"]
    assert [Decimal(r["funding"]) for r in rows[:5]] == [
        Decimal(0),
        *(Decimal("0.0000375") * i for i in (1, 2, 3, 4)),
    ]

    one = _csv(operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv&run={runs[1].config_hash}"))
    assert len(one) == 6 and {r["config_hash"] for r in one} == {runs[1].config_hash}


def test_rows_come_in_entry_order_across_batches(make_session, operator_api):
    """More trades than one keyset batch, inserted out of order, with equal entry times."""
    session = make_session(type="backtest")
    run = session.runs.get()
    rows = [
        (run.pk, "XBTUSD", "long", T0 + 60 * (i // 3), 1.0, 1.0, None, None, None, 0.0, 0.0, "signal", 0.0)
        for i in range(12_000)
    ]
    trades_insert(rows[::-1])

    exported = _csv(operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv"))

    expected = list(Trade.objects.filter(run=run).order_by("entry_time", "id").values_list("id", flat=True))
    assert [int(r["trade_id"]) for r in exported] == expected
    assert exported[0]["exit_time"] == "" and exported[0]["exit_price"] == ""


def test_a_session_without_trades_is_a_header_only(make_session, viewer_api):
    session = make_session()
    assert _csv(viewer_api.get(f"/api/sessions/{session.pk}/trades/?format=csv")) == []


def test_the_download_is_named_after_the_session(make_session, operator_api):
    session = make_session(type="backtest")
    response = operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv")
    assert response["Content-Disposition"] == f'attachment; filename="trades_{session.pk}.csv"'


def test_json_stays_the_default_format(make_session, operator_api):
    session = make_session(type="backtest")
    _add_trades(session.runs.get(), 3)
    for query in ("", "?format=json"):
        body = operator_api.get(f"/api/sessions/{session.pk}/trades{query}").json()
        assert body["success"] is True and body["total"] == 3


def test_bad_input_is_a_clear_4xx(make_session, operator_api, anon_api, assert_refused):
    session = make_session(type="backtest")
    assert_refused(operator_api.get(f"/api/sessions/{session.pk}/trades?format=xml"), 400, "format")
    body = assert_refused(
        operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv&run=abcdef123456"), 404, "run"
    )
    assert "abcdef123456" in body["error"]
    assert_refused(
        operator_api.get("/api/sessions/00000000-0000-0000-0000-000000000000/trades?format=csv"), 404
    )
    assert_refused(anon_api.get(f"/api/sessions/{session.pk}/trades?format=csv"), 401)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_28000_trade_backtest_exports_every_trade(celery_worker, operator_api):
    """A real backtest on the worker (TestBot, 11 months of 1m XBTUSD on sim: 28,324 trades)."""
    session = services.session_create(
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "range_start": T0,
            "range_end": 1_764_547_200,  # 2025-12-01
        }
    )
    services.session_start(session=session)
    session = wait_for(
        lambda: Session.objects.filter(pk=session.pk, status="completed").first(),
        timeout=120,
        message="the backtest to complete",
    )
    assert session.trade_count >= 28_000

    rows = _csv(operator_api.get(f"/api/sessions/{session.pk}/trades?format=csv"))

    assert len(rows) == session.trade_count == Trade.objects.filter(run__session=session).count()
    page = operator_api.get(f"/api/sessions/{session.pk}/trades?limit=200").json()["trades"]
    for row, trade in zip(rows, page, strict=False):
        assert int(row["trade_id"]) == trade["id"] and row["side"] == trade["side"]
        assert float(row["entry_price"]) == pytest.approx(trade["entry_price"])
        assert float(row["realized_pnl"]) == pytest.approx(trade["realized_pnl"], abs=1e-12)
    assert sum(Decimal(r["realized_pnl"]) for r in rows) == sum(
        Trade.objects.filter(run__session=session).values_list("realized_pnl", flat=True)
    )
