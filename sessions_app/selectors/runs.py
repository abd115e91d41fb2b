"""Runs: the one a view shows, a session's runs, the runs a trades export covers, summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from sessions_app.errors import NotFound
from sessions_app.models import Run, Session, Status
from sessions_app.representations import number

# Fields a session's runs can be sorted by.
RUN_SORTS = {"total_pnl", "trade_count", "win_rate", "max_drawdown", "sharpe", "id"}


def session_best_run(session: Session) -> Run | None:
    """The run whose results are the session's: its only run, or a sweep's most profitable."""
    return session.runs.order_by("-total_pnl", "id").first()


def run_get(*, session_id: str, config_hash: str) -> Run:
    """The session's run of that configuration, or a 404."""
    return get_object_or_404(Run, session_id=session_id, config_hash=config_hash)


def run_for(*, session: Session, config_hash: str | None) -> Run | None:
    """The run a page or an answer is about: the one named (a 404 when unknown), else the best."""
    if config_hash:
        return run_get(session_id=session.pk, config_hash=config_hash)
    return session_best_run(session)


def run_count(*, session: Session) -> int:
    return session.runs.count()


def run_list(
    *,
    session: Session,
    statuses: Sequence[str] = (),
    sort: str = "id",
    descending: bool = False,
    limit: int,
    start: int = 0,
) -> tuple[list[Run], str | None, int]:
    """Runs of a session, filtered by status, sorted, cursor-paged: (runs, next cursor, total).

    The cursor is the offset of the next page, opaque to clients; with `sort=total_pnl:desc`
    rows are ordered by profit then id, so pages do not overlap while results are stable.
    """
    runs = session.runs.all()
    if statuses:
        runs = runs.filter(status__in=statuses)
    total = runs.count()
    page = list(runs.order_by(f"{'-' if descending else ''}{sort}", "pk")[start : start + limit])
    next_cursor = str(start + limit) if start + limit < total else None
    return page, next_cursor, total


def session_export_runs(*, session: Session, config_hash: str | None) -> list[Run]:
    """The runs a trades export covers: the one named by `config_hash`, else every run."""
    runs = session.runs.order_by("id")
    if config_hash:
        runs = runs.filter(config_hash=config_hash)
        if not runs:
            raise NotFound(f"No run {config_hash} in this session.", {"run": ["Unknown run."]})
    return list(runs)


def runs_summary(*, runs: QuerySet[Run]) -> dict[str, Any]:
    """Seed 2's SessionSummary (snake_case) of these runs, aggregated in the database.

    `/api/runs/summary` gives it for every run of a (symbol, timeframe, range) group across
    sessions. The rules are those of a session's `summary` (`selectors.summaries`, which
    batches a page of sessions in one query): profits count completed runs only;
    `best_config_hash` is the completed run of highest profit (lowest id on a tie); the last
    run is the one most recently finished or started, `current_profit` the running run's
    profit so far, else the last run's; `active` while a session of these runs runs.
    """
    completed = Q(status=Status.COMPLETED)
    totals = runs.aggregate(
        run_count=Count("id"),
        completed_runs=Count("id", filter=completed),
        error_count=Count("id", filter=Q(status=Status.FAILED)),
        best_profit=Max("total_pnl", filter=completed),
        avg_profit=Avg("total_pnl", filter=completed),
    )
    best = runs.filter(completed).order_by("-total_pnl", "id").values("config_hash").first()
    touched = runs.filter(Q(started_at__isnull=False) | Q(stopped_at__isnull=False)).annotate(
        moment=Coalesce("stopped_at", "started_at")
    )
    last = touched.order_by("-moment", "-id").values("config_hash").first()
    latest = touched.order_by("-moment", "-id").values("total_pnl")
    current = latest.filter(status=Status.RUNNING).first() or latest.first()
    return {
        "run_count": totals["run_count"],
        "completed_runs": totals["completed_runs"],
        "error_count": totals["error_count"],
        "best_profit": number(totals["best_profit"]),
        "best_config_hash": best["config_hash"] if best else None,
        "avg_profit": number(totals["avg_profit"]),
        "last_config_hash": last["config_hash"] if last else None,
        "current_profit": number(current["total_pnl"]) if current else None,
        "active": runs.filter(session__status=Status.RUNNING).exists(),
    }
