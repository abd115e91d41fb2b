"""Runs: the one a view shows, a session's runs, the runs a trades export covers, summaries."""

from __future__ import annotations

from collections.abc import Sequence

from django.shortcuts import get_object_or_404

from sessions_app.errors import NotFound
from sessions_app.models import Run, Session

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
