"""Compare: a few runs, from any sessions, with their sessions, currencies and equity curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sessions_app.errors import NotFound
from sessions_app.models import FINISHED, Run, Session, Status
from sessions_app.selectors.reference import session_currencies
from sessions_app.selectors.results import session_equity
from sessions_app.selectors.runs import session_best_run


@dataclass
class ComparedRun:
    """One column of a comparison: the run, its session, its currency and its equity curve."""

    run: Run
    session: Session
    currency: str
    equity: list[list[float]]

    @property
    def metrics(self) -> dict[str, Any]:
        """The engine's metrics with the row's headline figures (set even before any metrics)."""
        run = self.run
        return {
            **(run.metrics or {}),
            "trade_count": run.trade_count,
            "total_pnl": float(run.total_pnl),
            "win_rate": float(run.win_rate),
            "max_drawdown": float(run.max_drawdown),
            "sharpe": None if run.sharpe is None else float(run.sharpe),
        }


def _equity(session: Session, run: Run) -> list[list[float]]:
    """The run's stored curve; while it runs, the live one. The cache holds one live curve per
    session, the run in progress's, so a sweep's runs keep to their stored curves."""
    if session.status == Status.RUNNING and run.status not in FINISHED and not session.sweep:
        return session_equity(session, run)
    return run.equity or []


def compare_runs(*, run_ids: Sequence[int]) -> list[ComparedRun]:
    """The runs asked for, in that order; a 404 naming the ids that are no run."""
    found = Run.objects.select_related("session").in_bulk(list(run_ids))
    missing = [str(run_id) for run_id in run_ids if run_id not in found]
    if missing:
        raise NotFound(f"No run {', '.join(missing)}.", {"runs": [f"Unknown run ids: {', '.join(missing)}."]})
    runs = [found[run_id] for run_id in run_ids]
    currencies = session_currencies(sessions=[run.session for run in runs])
    return [
        ComparedRun(
            run=run,
            session=run.session,
            currency=currencies[run.session_id],
            equity=_equity(run.session, run),
        )
        for run in runs
    ]


def compare_best_run_ids(*, session_ids: Sequence[str]) -> list[int]:
    """Each session's best run (session_best_run: a sweep's most profitable), in the order
    asked; a 404 naming the sessions that are unknown or have no run."""
    sessions = Session.objects.in_bulk(list(session_ids))
    best = {session_id: session_best_run(s) for session_id, s in sessions.items()}
    missing = [session_id for session_id in session_ids if best.get(session_id) is None]
    if missing:
        raise NotFound(
            f"No session {', '.join(missing)} with a run.",
            {"sessions": [f"Unknown sessions: {', '.join(missing)}."]},
        )
    return [best[session_id].pk for session_id in session_ids]
