"""runs_summary (the selector session summaries and GET /api/runs/summary share)."""

from decimal import Decimal

from sessions_app.models import Run
from sessions_app.selectors import runs_summary

SWEEP = {"threshold": [0.3, 0.5], "position_size": [10, 20]}


def test_the_summary_of_runs_counts_and_ranks_them(make_session):
    session = make_session(type="backtest", sweep=SWEEP)
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
