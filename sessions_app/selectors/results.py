"""Results as they are read: live progress from the cache, metrics, equity, logs, list rows."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils import timezone

from sessions_app.data_files import stored_data_path
from sessions_app.models import Run, Session, SessionType, Status
from sessions_app.selectors.reference import session_currencies, session_currency
from strategies_app.market_data import archive_day_paths


def progress_key(session_id: str) -> str:
    return f"session:{session_id}:progress"


def equity_key(session_id: str) -> str:
    return f"session:{session_id}:equity"


def session_progress_many(sessions: list[Session]) -> dict[str, dict[str, Any]]:
    """Live progress of running sessions from the cache, else from the last checkpoint."""
    running = [s for s in sessions if s.status == Status.RUNNING]
    cached = cache.get_many([progress_key(s.pk) for s in running]) if running else {}
    return {s.pk: cached.get(progress_key(s.pk)) or _checkpoint_progress(s) for s in sessions}


def session_progress(session: Session) -> dict[str, Any]:
    return session_progress_many([session])[session.pk]


def _checkpoint_progress(session: Session) -> dict[str, Any]:
    done, total = session.progress_done, session.progress_total
    return {
        "done": done,
        "total": total,
        "percent": round(100 * done / total, 1) if total else None,
        "trade_count": session.trade_count,
        "total_pnl": float(session.total_pnl),
        "win_rate": float(session.win_rate),
        "currency": None,  # the row does not know it; session_currency() does, at a query's cost
    }


def session_rows(*, sessions: list[Session]) -> list[dict[str, Any]]:
    """Each session with its live progress and currency, as the dashboard's rows show them."""
    progress = session_progress_many(sessions)
    currencies = session_currencies(sessions=sessions)
    rows = []
    for session in sessions:
        p = dict(progress.get(session.pk) or {})
        win_rate = p.get("win_rate")
        rows.append(
            {
                "s": session,
                "p": p,
                "currency": p.get("currency") or currencies[session.pk],
                "trades": p.get("trade_count", session.trade_count),
                "pnl": p.get("total_pnl", float(session.total_pnl)),
                "win_rate": win_rate if win_rate is not None else float(session.win_rate),
                "waiting": session.waiting_for_worker,
                "archive_paths": _archive_paths(session) if session.type == SessionType.SCRAPER else [],
            }
        )
    return rows


def _archive_paths(session: Session) -> list[str]:
    """Today's archive files of a scraper, where the candles it records land."""
    return archive_day_paths(
        exchange=session.exchange, symbols=session.market_legs, day=timezone.now().date()
    )


def session_metrics(session: Session, run: Run | None) -> dict[str, Any]:
    """Every metric of the session's best (or given) run, with the currency; while running,
    the live figures from the cache win over the last checkpoint."""
    metrics: dict[str, Any] = {
        "trade_count": session.trade_count,
        "total_pnl": float(session.total_pnl),
        "win_rate": float(session.win_rate),
        "max_drawdown": float(session.max_drawdown),
        "sharpe": None if session.sharpe is None else float(session.sharpe),
    }
    if run is not None:
        metrics.update(run.metrics or {})
    if session.status == Status.RUNNING:
        live = cache.get(progress_key(session.pk)) or {}
        metrics.update(live.get("metrics") or {})
    metrics["currency"] = metrics.get("currency") or session_currency(session)
    metrics["initial_balance"] = float(session.initial_balance or 0)
    return metrics


def session_equity(session: Session, run: Run | None) -> list[list[float]]:
    """[[unix seconds, equity], ...], at most ~2,000 points (downsampled by the engine)."""
    if session.status == Status.RUNNING:
        live = cache.get(equity_key(session.pk))
        if live:
            return live
    return run.equity if run is not None else []


def session_logs(session: Session, *, tail: int = 200, offset: int | None = None) -> dict[str, Any]:
    """The session's log: the last `tail` lines, or everything after byte `offset`. A stored
    path outside DATA_ROOT is never read: no log."""
    path = stored_data_path(session.logs_file)
    if path is None or not path.is_file():
        return {"lines": [], "offset": 0, "size": 0}
    size = path.stat().st_size
    with path.open("rb") as handle:
        if offset is not None:
            handle.seek(min(offset, size))
            data = handle.read(1_000_000)
            lines = data.decode("utf-8", "replace").splitlines()
            return {"lines": lines, "offset": min(offset, size) + len(data), "size": size}
        # Read back from the end just far enough for `tail` lines.
        block, data = 64 * 1024, b""
        position = size
        while position > 0 and data.count(b"\n") <= tail:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
        lines = data.decode("utf-8", "replace").splitlines()[-tail:] if tail else []
        return {"lines": lines, "offset": size, "size": size}
