"""Seed 2's SessionSummary of each session, from its runs, for a whole page in one query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from sessions_app.models import Run, Session, Status
from sessions_app.representations import number

COMPLETED = Q(status=Status.COMPLETED)


def session_summaries(sessions: Sequence[Session]) -> dict[str, dict[str, Any]]:
    """Each session's `summary` (run_count, completed_runs, error_count, best_profit,
    best_config_hash, avg_profit, last_config_hash, current_profit, active), read from its
    runs as they are now: one aggregate query for the whole list, so it stays current while
    a sweep runs and a page of 50 sessions costs one query, not 50."""
    if not sessions:
        return {}
    runs_of = Run.objects.filter(session_id=OuterRef("session_id"))
    # Profits and "best" count completed runs only; lowest id on a tie.
    best = runs_of.filter(COMPLETED).order_by("-total_pnl", "id").values("config_hash")[:1]
    # The run most recently finished or started; the running one first for the live profit.
    touched = runs_of.filter(Q(started_at__isnull=False) | Q(stopped_at__isnull=False))
    latest = ("-moment", "-id")
    last = touched.annotate(moment=Coalesce("stopped_at", "started_at")).order_by(*latest)
    current = touched.annotate(
        moment=Coalesce("stopped_at", "started_at"),
        live=Case(When(status=Status.RUNNING, then=Value(1)), default=Value(0), output_field=IntegerField()),
    ).order_by("-live", *latest)
    rows = (
        Run.objects.filter(session_id__in=[s.pk for s in sessions])
        .values("session_id")
        .order_by()
        .annotate(
            run_count=Count("id"),
            completed_runs=Count("id", filter=COMPLETED),
            error_count=Count("id", filter=Q(status=Status.FAILED)),
            best_profit=Max("total_pnl", filter=COMPLETED),
            avg_profit=Avg("total_pnl", filter=COMPLETED),
            best_config_hash=Subquery(best),
            last_config_hash=Subquery(last.values("config_hash")[:1]),
            current_profit=Subquery(current.values("total_pnl")[:1]),
        )
    )
    by_session = {row["session_id"]: row for row in rows}
    return {s.pk: _summary(by_session.get(s.pk), active=s.status == Status.RUNNING) for s in sessions}


def session_summary(session: Session) -> dict[str, Any]:
    return session_summaries([session])[session.pk]


def _summary(row: dict[str, Any] | None, *, active: bool) -> dict[str, Any]:
    row = row or {}
    return {
        "run_count": row.get("run_count", 0),
        "completed_runs": row.get("completed_runs", 0),
        "error_count": row.get("error_count", 0),
        "best_profit": number(row.get("best_profit")),
        "best_config_hash": row.get("best_config_hash"),
        "avg_profit": number(row.get("avg_profit")),
        "last_config_hash": row.get("last_config_hash"),
        "current_profit": number(row.get("current_profit")),
        "active": active,
    }
