"""Runs: the one a view shows, a session's runs, the runs a trades export covers, summaries."""

from __future__ import annotations

from collections.abc import Sequence

from django.shortcuts import get_object_or_404

from sessions_app.errors import NotFound
from sessions_app.models import Run, Session
from sessions_app.selectors.paging import Keyset, Page, PageKey, list_page

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


def session_run_keyset(*, sort: str, descending: bool) -> Keyset:
    """The order of a session's runs by a RUN_SORTS field: (field, id), or the id alone."""
    return Keyset(model=Run, field=None if sort == "id" else sort, descending=descending)


def run_list(
    *,
    session: Session,
    statuses: Sequence[str] = (),
    sort: str = "id",
    descending: bool = False,
    limit: int,
    offset: int = 0,
    after: PageKey | None = None,
) -> Page:
    """Runs of a session, filtered by status, sorted, by offset or after a cursor's key (the
    keyset of every list, selectors.paging). A session has at most MAX_SWEEP_RUNS runs, fewer
    than list_totals keeps, so the total is counted on every read."""
    runs = session.runs.all()
    if statuses:
        runs = runs.filter(status__in=statuses)
    return list_page(
        runs,
        keyset=session_run_keyset(sort=sort, descending=descending),
        limit=limit,
        offset=offset,
        after=after,
        scope=f"runs:{session.pk}",
    )


def session_export_runs(*, session: Session, config_hash: str | None) -> list[Run]:
    """The runs a trades export covers: the one named by `config_hash`, else every run."""
    runs = session.runs.order_by("id")
    if config_hash:
        runs = runs.filter(config_hash=config_hash)
        if not runs:
            raise NotFound(f"No run {config_hash} in this session.", {"run": ["Unknown run."]})
    return list(runs)
