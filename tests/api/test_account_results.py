"""What a run of an account answers: each trade's exit_reason and funding in the trades
answer and the trades file; sharpe null where undefined, and lists sorted by sharpe still
walk every row once, the undefined ones last when descending."""

import json
from decimal import Decimal

import pytest

from sessions_app.models import Run, Session
from sessions_app.services.trades import trades_file_write, trades_insert

T0 = 1_735_689_600


def _trades(run: Run) -> list[tuple]:
    return [
        (run.pk, "XBTUSD", "long", T0, 60000.0, 100.0, T0 + 60, 59000.0, 100.0, -0.00003, 0.000001, "liquidation", 0.0000025),
        (run.pk, "XBTUSD", "short", T0 + 120, 59000.0, 100.0, T0 + 180, 58900.0, 100.0, 0.0000028, 0.000001, "end", -0.000001),
    ]  # fmt: skip


def test_the_trades_answer_and_file_carry_exit_reason_and_funding(make_session, operator_api):
    session = make_session(type="backtest")
    rows = _trades(session.runs.get())
    trades_insert(rows)
    trades_file_write(session=session, rows=rows)

    answered = operator_api.get(f"/api/sessions/{session.pk}/trades").json()["trades"]

    assert [(t["exit_reason"], t["funding"]) for t in answered] == [
        ("liquidation", 0.0000025),
        ("end", -0.000001),
    ]
    written = json.loads(open(Session.objects.get(pk=session.pk).trades_file).read())["runs"][0]["trades"]
    assert [(t["exit_reason"], t["funding"]) for t in written] == [
        ("liquidation", 0.0000025),
        ("end", -0.000001),
    ]


@pytest.fixture
def sweep_with_undefined_sharpes(make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]})
    sharpes = [Decimal("1.5"), None, Decimal("-0.25"), None, Decimal("3"), None, Decimal("0")]
    for run, sharpe in zip(session.runs.order_by("id"), sharpes, strict=True):
        Run.objects.filter(pk=run.pk).update(sharpe=sharpe, status="completed")
    return session


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_runs_sorted_by_sharpe_walk_every_run_once_nulls_last_descending(
    viewer_api, sweep_with_undefined_sharpes, direction
):
    session = sweep_with_undefined_sharpes
    seen, cursor = [], None
    while True:
        query = {"sort": f"sharpe:{direction}", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = viewer_api.get(f"/api/sessions/{session.pk}/runs", query).json()
        seen += [(run["id"], run["sharpe"]) for run in body["runs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len({run_id for run_id, _ in seen}) == len(seen) == 7
    values = [sharpe for _, sharpe in seen]
    defined = [v for v in values if v is not None]
    if direction == "desc":
        assert values[:4] == sorted(defined, reverse=True) == [3.0, 1.5, 0.0, -0.25]
        assert values[4:] == [None] * 3
    else:
        assert values[:3] == [None] * 3 and values[3:] == sorted(defined)


def test_a_session_whose_best_run_has_no_sharpe_answers_null(make_session, viewer_api):
    session = make_session(type="backtest")
    Session.objects.filter(pk=session.pk).update(sharpe=None)
    assert viewer_api.get(f"/api/sessions/{session.pk}").json()["session"]["sharpe"] is None
    assert viewer_api.get(f"/api/sessions/{session.pk}/metrics").json()["metrics"]["sharpe"] is None
