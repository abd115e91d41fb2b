"""runs_summary (the selector session summaries and GET /api/runs/summary share), and the endpoint."""

from decimal import Decimal

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Run
from sessions_app.selectors import runs_summary
from tests.conftest import backtest_range

SWEEP = {"threshold": [0.3, 0.5], "position_size": [10, 20]}


def test_the_summary_of_runs_counts_and_ranks_them(make_session):
    session = make_session(type="backtest", sweep=SWEEP, start=True)
    runs = list(session.runs.order_by("id"))
    results = [("completed", "5"), ("completed", "40.5"), ("failed", "-3"), ("running", "1.25")]
    for run, (status, pnl) in zip(runs, results, strict=True):
        Run.objects.filter(pk=run.pk).update(
            status=status, total_pnl=Decimal(pnl), started_at=session.created_at
        )

    summary = runs_summary(runs=session.runs.all())

    assert summary == {
        "run_count": 4,
        "completed_runs": 2,
        "error_count": 1,
        "best_profit": 40.5,
        "best_config_hash": runs[1].config_hash,
        "avg_profit": 22.75,
        "last_config_hash": runs[3].config_hash,
        "current_profit": 1.25,
        "active": True,
    }


def test_the_summary_of_no_runs_is_empty(db):
    assert runs_summary(runs=Run.objects.none()) == {
        "run_count": 0,
        "completed_runs": 0,
        "error_count": 0,
        "best_profit": None,
        "best_config_hash": None,
        "avg_profit": None,
        "last_config_hash": None,
        "current_profit": None,
        "active": False,
    }


# --- GET /api/runs/summary ----------------------------------------------------------------------

GROUP_SWEEP = {"threshold": [0.3, 0.5, 0.7], "position_size": [10, 20]}
PROFITS = ["5", "-2.5", "12.12345678", "5", "0", "7.5"]
STATUSES = ["completed", "completed", "failed", "completed", "running", None]


def give_results(session) -> None:
    for run, pnl, status in zip(session.runs.order_by("id"), PROFITS, STATUSES, strict=True):
        services.session_results_save(session=session, run=run, metrics={"total_pnl": pnl}, status=status)
        if status == "running":
            Run.objects.filter(pk=run.pk).update(status="running", stopped_at=None, started_at=timezone.now())


def expected_summary(runs: list[Run]) -> dict:
    """The summary of a group's runs, worked out here from the rows."""
    completed = [r for r in runs if r.status == "completed"]
    best = min(completed, key=lambda r: (-r.total_pnl, r.id), default=None)
    touched = sorted((r.stopped_at or r.started_at, r.id, r) for r in runs if r.started_at or r.stopped_at)
    last = touched[-1][2] if touched else None
    running = [r for _, _, r in touched if r.status == "running"]
    current = running[-1] if running else last
    return {
        "run_count": len(runs),
        "completed_runs": len(completed),
        "error_count": sum(r.status == "failed" for r in runs),
        "best_profit": float(best.total_pnl) if best else None,
        "best_config_hash": best.config_hash if best else None,
        "avg_profit": float(sum(r.total_pnl for r in completed) / len(completed)) if completed else None,
        "last_config_hash": last.config_hash if last else None,
        "current_profit": float(current.total_pnl) if current else None,
        "active": any(r.session.status == "running" for r in runs),
    }


@pytest.fixture
def group(make_session):
    """Two sweeps of one (market, timeframe, range) group, and sessions just outside it."""
    week, other = backtest_range(days=7), backtest_range(days=5)
    members = [
        make_session(type="backtest", sweep=GROUP_SWEEP, start=start, **week) for start in (True, False)
    ]
    outside = [
        make_session(type="backtest", sweep=GROUP_SWEEP, **other),
        make_session(type="backtest", market="ETHUSD", sweep=GROUP_SWEEP, **week),
        make_session(type="backtest", timeframe="1h", sweep=GROUP_SWEEP, **week),
    ]
    for session in [*members, *outside]:
        give_results(session)
    return {"market": "XBTUSD", "timeframe": "1m", **week}, members


def test_it_sums_up_the_runs_of_a_group_across_sessions(viewer_api, group):
    key, members = group

    response = viewer_api.get("/api/runs/summary", key)

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["success"] is True
    runs = list(Run.objects.filter(session__in=members))
    assert body["summary"] == expected_summary(runs)
    assert body["summary"]["run_count"] == 12 and body["summary"]["active"] is True


def test_a_group_nobody_ran_has_an_empty_summary(viewer_api, group):
    key, _ = group

    body = viewer_api.get("/api/runs/summary", {**key, "timeframe": "4h"}).json()

    assert body["summary"] == expected_summary([])


@pytest.mark.parametrize("missing", ["market", "timeframe", "range_start", "range_end"])
def test_each_part_of_the_group_is_required(viewer_api, group, assert_refused, missing):
    key, _ = group
    query = {field: value for field, value in key.items() if field != missing}

    assert_refused(viewer_api.get("/api/runs/summary", query), 400, missing)


@pytest.mark.parametrize(
    ("field", "value"),
    [("timeframe", "7m"), ("range_start", "last week"), ("range_end", "²"), ("range_end", "9" * 30)],
)
def test_a_bad_part_is_a_400_naming_it(viewer_api, group, assert_refused, field, value):
    key, _ = group

    assert_refused(viewer_api.get("/api/runs/summary", {**key, field: value}), 400, field)


def test_anonymous_callers_are_refused(anon_api, assert_refused):
    assert_refused(anon_api.get("/api/runs/summary", {"market": "XBTUSD"}), 401)
