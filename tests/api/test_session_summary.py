"""`summary` on every session object: counted from the runs, one query for a whole page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.models import Run

pytestmark = pytest.mark.django_db


def _set(run, **fields):
    Run.objects.filter(pk=run.pk).update(**fields)


def test_it_summarises_completed_failed_and_running_runs(make_session, operator_api):
    session = make_session(type="backtest", sweep={"n1": [3, 5, 8, 13]}, strategy="SmaCross", start=True)
    first, second, third, fourth = session.runs.order_by("id")
    now = timezone.now()
    _set(first, status="completed", total_pnl=Decimal("2.5"), started_at=now, stopped_at=now)
    _set(second, status="completed", total_pnl=Decimal("-0.5"), started_at=now, stopped_at=now)
    _set(third, status="failed", total_pnl=Decimal("9"), started_at=now, stopped_at=now)
    _set(fourth, status="running", total_pnl=Decimal("0.75"), started_at=now)

    summary = operator_api.get(f"/api/sessions/{session.pk}").json()["session"]["summary"]

    assert summary == {
        "run_count": 4,
        "completed_runs": 2,
        "error_count": 1,
        "best_profit": 2.5,
        "best_config_hash": first.config_hash,
        "avg_profit": 1.0,
        "last_config_hash": fourth.config_hash,
        "current_profit": 0.75,
        "active": True,
    }


def test_a_session_with_nothing_run_yet_has_null_profits(make_session, operator_api):
    session = make_session(type="backtest")
    summary = operator_api.get(f"/api/sessions/{session.pk}").json()["session"]["summary"]
    assert summary["run_count"] == 1 and summary["completed_runs"] == 0
    assert summary["best_profit"] is None and summary["avg_profit"] is None
    assert summary["best_config_hash"] is None and summary["last_config_hash"] is None
    assert summary["active"] is False


def test_a_page_of_50_sessions_costs_one_summary_query_not_50(make_session, operator_api):
    for _ in range(50):
        make_session(type="backtest", sweep={"n1": [3, 5]}, strategy="SmaCross")
    with CaptureQueriesContext(connection) as few:
        operator_api.get("/api/sessions?limit=5")
    with CaptureQueriesContext(connection) as many:
        answer = operator_api.get("/api/sessions?limit=50").json()
    assert len(answer["sessions"]) == 50
    assert all(s["summary"]["run_count"] == 2 for s in answer["sessions"])

    def runs_queries(captured):  # the lazy reaper may add session queries to either request
        return [q["sql"] for q in captured.captured_queries if "runs" in q["sql"].replace('"', "`").lower()]

    assert len(runs_queries(many)) == len(runs_queries(few)) == 1
