"""Reads that span tables or the cache: lists with filters, live progress, metrics, runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet

from sessions_app.errors import InvalidInput, NotFound
from sessions_app.models import Run, Session, SessionType, Status, Trade

SESSION_SORTS = {
    "created_at",
    "started_at",
    "stopped_at",
    "name",
    "type",
    "market",
    "strategy",
    "status",
    "trade_count",
    "total_pnl",
    "win_rate",
    "max_drawdown",
    "sharpe",
}
RUN_SORTS = {"total_pnl", "trade_count", "win_rate", "max_drawdown", "sharpe", "id"}
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
# Past any real page; keeps huge numbers out of SQL (SQLite and MariaDB reject them).
MAX_OFFSET = 10**12


@dataclass
class Page:
    items: list
    total: int
    limit: int
    offset: int


def parse_sort(value: str | None, allowed: set[str], default: str) -> list[str]:
    """`field:dir` from a whitelist -> order_by terms (with a stable tie-breaker)."""
    value = value or default
    field, _, direction = value.partition(":")
    direction = direction or "asc"
    if field not in allowed or direction not in ("asc", "desc"):
        raise InvalidInput.from_errors(
            {
                "sort": [
                    f"Must be field:asc or field:desc with field one of {', '.join(sorted(allowed))} (got {value!r})."
                ]
            }
        )
    prefix = "-" if direction == "desc" else ""
    # The tie-breaker is always ascending: InnoDB's idx_created (created_at DESC) carries the
    # primary key ascending, so "created_at DESC, id ASC" is read from the index, while
    # "id DESC" would sort all rows.
    return [f"{prefix}{field}", "pk"]


def parse_paging(params: Mapping[str, Any]) -> tuple[int, int]:
    """`limit` (default 50, clamped to 200) and `offset`; non-numbers are a 400."""
    errors = {}
    values = {}
    for field, default in (("limit", DEFAULT_LIMIT), ("offset", 0)):
        raw = params.get(field)
        if raw in (None, ""):
            values[field] = default
        elif not str(raw).isdigit():
            errors[field] = [f"Must be a whole number of 0 or more (got {raw!r})."]
        else:
            values[field] = int(raw)
    if errors:
        raise InvalidInput.from_errors(errors)
    limit = min(values["limit"], MAX_LIMIT) or DEFAULT_LIMIT
    return limit, min(values["offset"], MAX_OFFSET)


def _comma_list(params: Mapping[str, Any], field: str, allowed: list[str]) -> list[str]:
    values = [v.strip() for v in str(params.get(field) or "").split(",") if v.strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput.from_errors(
            {field: [f"Unknown {field} {', '.join(bad)}; one of {', '.join(allowed)}."]}
        )
    return values


def _time_param(params: Mapping[str, Any], field: str) -> datetime | None:
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        if str(raw).isdigit():
            return datetime.fromtimestamp(int(raw), tz=UTC)
        parsed = datetime.fromisoformat(str(raw))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput.from_errors(
            {field: [f"Must be Unix seconds or an ISO date (got {raw!r})."]}
        ) from None


def session_filter(params: Mapping[str, Any]) -> QuerySet[Session]:
    """Sessions matching the list filters of SPEC §8 (status, type, market, strategy, q, dates)."""
    sessions = Session.objects.all()
    if statuses := _comma_list(params, "status", Status.values):
        sessions = sessions.filter(status__in=statuses)
    if types := _comma_list(params, "type", SessionType.values):
        sessions = sessions.filter(type__in=types)
    if market := params.get("market"):
        sessions = sessions.filter(market__in=[m.strip() for m in market.split(",")])
    if strategy := params.get("strategy"):
        sessions = sessions.filter(strategy__in=[s.strip() for s in strategy.split(",")])
    if q := (params.get("q") or "").strip():
        sessions = sessions.filter(Q(name__icontains=q) | Q(notes__icontains=q))
    if after := _time_param(params, "created_after"):
        sessions = sessions.filter(created_at__gte=after)
    if before := _time_param(params, "created_before"):
        sessions = sessions.filter(created_at__lt=before)
    return sessions


def session_latest(*, session_type: str) -> Session | None:
    """The newest session of a type (the old `/session/test`, `/session/backtest`)."""
    return (
        Session.objects.filter(type=session_type)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def session_list(params: Mapping[str, Any]) -> Page:
    """One page of filtered, sorted sessions with the total count."""
    sessions = session_filter(params)
    order = parse_sort(params.get("sort"), SESSION_SORTS, "created_at:desc")
    limit, offset = parse_paging(params)
    total = sessions.count()
    page = sessions.select_related("created_by").order_by(*order)[offset : offset + limit]
    items = list(page) if offset < total else []
    return Page(items=items, total=total, limit=limit, offset=offset)


# --- live progress (the cache) -------------------------------------------------------------


def progress_key(session_id: str) -> str:
    return f"session:{session_id}:progress"


def session_progress_many(sessions: list[Session]) -> dict[str, dict[str, Any]]:
    """Live progress of running sessions from the cache, else from the last checkpoint."""
    running = [s for s in sessions if s.status == Status.RUNNING]
    cached = cache.get_many([progress_key(s.pk) for s in running]) if running else {}
    return {s.pk: cached.get(progress_key(s.pk)) or _checkpoint_progress(s) for s in sessions}


def session_flags(session_id: str) -> tuple[str, bool]:
    """(status, stop_requested): what a runner checks to know whether to go on. A deleted
    session reads as failed with a stop requested."""
    row = Session.objects.filter(pk=session_id).values("status", "stop_requested").first()
    return (row["status"], row["stop_requested"]) if row else (Status.FAILED, True)


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


# --- runs -----------------------------------------------------------------------------------


def session_best_run(session: Session) -> Run | None:
    """The run whose results are the session's: its only run, or a sweep's most profitable."""
    return session.runs.order_by("-total_pnl", "id").first()


def run_list(session: Session, params: Mapping[str, Any]) -> tuple[list[Run], str | None, int]:
    """Runs of a session, filtered by status, sorted, cursor-paged: (runs, next cursor, total).

    The cursor is the offset of the next page, opaque to clients; with `sort=total_pnl:desc`
    rows are ordered by profit then id, so pages do not overlap while results are stable.
    """
    runs = session.runs.all()
    if statuses := _comma_list(params, "status", Status.values):
        runs = runs.filter(status__in=statuses)
    order = parse_sort(params.get("sort"), RUN_SORTS, "id:asc")
    limit, _ = parse_paging(params)
    cursor = params.get("cursor") or "0"
    if not str(cursor).isdigit():
        raise InvalidInput.from_errors({"cursor": ["Not a cursor this API returned."]})
    start = min(int(cursor), MAX_OFFSET)
    total = runs.count()
    page = list(runs.order_by(*order)[start : start + limit])
    next_cursor = str(start + limit) if start + limit < total else None
    return page, next_cursor, total


def trade_rows_iter(runs: list[Run], *, batch: int = 5000) -> Iterator[tuple[Run, tuple]]:
    """Every trade of `runs`, run by run in entry order, as value tuples of TRADE_EXPORT_FIELDS.

    Read in keyset batches on (entry_time, id) through idx_trade_run_time, so a run of a
    million trades streams in constant memory and no page costs more than the first.
    """
    for run in runs:
        trades = Trade.objects.filter(run_id=run.pk).order_by("entry_time", "id")
        after: tuple[int, int] | None = None
        while True:
            page = trades
            if after is not None:
                page = trades.filter(Q(entry_time__gt=after[0]) | Q(entry_time=after[0], id__gt=after[1]))
            rows = list(page.values_list(*TRADE_EXPORT_FIELDS)[:batch])
            for row in rows:
                yield run, row
            if len(rows) < batch:
                break
            after = (rows[-1][TRADE_EXPORT_FIELDS.index("entry_time")], rows[-1][0])


TRADE_EXPORT_FIELDS = (
    "id",
    "market",
    "side",
    "entry_time",
    "entry_price",
    "entry_size",
    "exit_time",
    "exit_price",
    "exit_size",
    "realized_pnl",
    "fee",
)


def session_export_runs(session: Session, config_hash: str | None) -> list[Run]:
    """The runs a trades export covers: the one named by `config_hash`, else every run."""
    runs = session.runs.order_by("id")
    if config_hash:
        runs = runs.filter(config_hash=config_hash)
        if not runs:
            raise NotFound(f"No run {config_hash} in this session.", {"run": ["Unknown run."]})
    return list(runs)


# --- results ----------------------------------------------------------------------------------


def session_currency(session: Session) -> str:
    """The currency PnL and equity are counted in: the first leg's settle currency."""
    from strategies_app.models import Market

    leg = session.market.split("+")[0]
    market = Market.objects.filter(exchange=session.exchange, symbol=leg).first()
    return market.settle if market else "USD"


def session_metrics(session: Session, run: Run | None) -> dict[str, Any]:
    """Every metric of SPEC §4 for the session's best (or given) run, with the currency;
    while running, the live figures from the cache win over the last checkpoint."""
    metrics: dict[str, Any] = {
        "trade_count": session.trade_count,
        "total_pnl": float(session.total_pnl),
        "win_rate": float(session.win_rate),
        "max_drawdown": float(session.max_drawdown),
        "sharpe": float(session.sharpe),
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


def equity_key(session_id: str) -> str:
    return f"session:{session_id}:equity"


def session_logs(session: Session, *, tail: int = 200, offset: int | None = None) -> dict[str, Any]:
    """The session's log: the last `tail` lines, or everything after byte `offset`."""
    from pathlib import Path

    path = Path(session.logs_file) if session.logs_file else None
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
