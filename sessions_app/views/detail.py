"""The detail view: header and metrics (polled while running), charts, trades, runs, events, logs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sessions_app import selectors, services
from sessions_app.errors import InvalidInput
from sessions_app.models import FINISHED, SessionType, Status
from sessions_app.selectors import PageKey, cursor_dumps, cursor_loads
from sessions_app.views.htmx import base_context, can_operate, page_number

if TYPE_CHECKING:
    from sessions_app.models import Run, Session

TRADES_PAGE_SIZE = 25
RUNS_PAGE_SIZE = 25
# The runs table's sortable columns (keys from selectors.RUN_SORTS), in the table's order.
RUN_COLUMNS = (
    ("id", "Run"),
    ("trade_count", "Trades"),
    ("total_pnl", "PnL"),
    ("win_rate", "Win Rate"),
    ("max_drawdown", "Max DD"),
    ("sharpe", "Sharpe"),
)
EVENTS_SHOWN = 50
LOG_TAIL = 200


def _live_context(request: HttpRequest, session: Session, run: Run | None) -> dict[str, Any]:
    metrics = selectors.session_metrics(session, run)
    row = selectors.session_rows(sessions=[session])[0]
    return {
        "session": session,
        "run": run,
        "row": row,
        "metrics": metrics,
        "currency": metrics.get("currency") or row["currency"],
        # A sweep's summary, polled with the rest of the live part while it runs.
        "summary": selectors.session_summary(session) if session.sweep else None,
        "can_operate": can_operate(request),
        "run_query": f"run={run.config_hash}" if run is not None and request.GET.get("run") else "",
    }


def _trades_cursor(query: QueryDict, field: str) -> PageKey | None:
    """The key of `after`/`before` (Next, Previous); a stale or edited one is dropped."""
    try:
        return cursor_loads(
            query.get(field),
            list_name="detail-trades",
            sort="entry_time",
            keyset=selectors.TRADES_DASHBOARD_ORDER,
        )
    except InvalidInput:
        return None


def _trades_cursor_dumps(key: PageKey | None) -> str | None:
    return cursor_dumps(key, list_name="detail-trades", sort="entry_time", descending=True)


def _trades_context(session: Session, run: Run | None, query: QueryDict | None = None) -> dict[str, Any]:
    """The trades table, newest first: Next and Previous page by keyset (any depth of a run of
    a million trades costs the same), `page` numbers the pager."""
    query = query or QueryDict()
    page = selectors.trade_page_numbered(
        run=run,
        number=page_number(query),
        size=TRADES_PAGE_SIZE,
        after=_trades_cursor(query, "after"),
        before=_trades_cursor(query, "before"),
    )
    return {
        "trades_next_cursor": _trades_cursor_dumps(page.next_key),
        "trades_previous_cursor": _trades_cursor_dumps(page.previous_key),
        "session": session,
        "run": run,
        "trades": page.items,
        "trades_total": page.total,
        "trades_currency": selectors.session_currency(session),
        "trades_page": page.number,
        "trades_pages": page.pages,
        "trades_first": page.first,
        "trades_last": page.last,
    }


def _runs_query(query: QueryDict, **changes: Any) -> str:
    """The page's query with the runs table's sort or page changed (the chosen run is kept)."""
    merged = query.copy()
    for key, value in changes.items():
        merged[key] = value
    return merged.urlencode()


def _runs_sort(query: QueryDict) -> tuple[str, bool]:
    """`runs_sort` from the runs' whitelist (most profitable first by default), `runs_dir`."""
    sort = query.get("runs_sort")
    if sort not in selectors.RUN_SORTS:
        return "total_pnl", True
    return sort, query.get("runs_dir") != "asc"


def _runs_context(session: Session, query: QueryDict) -> dict[str, Any]:
    """A sweep's runs, a page at a time, sorted by a column, when there is more than one."""
    run_count = selectors.run_count(session=session)
    if run_count <= 1:
        return {"run_count": run_count}
    sort, descending = _runs_sort(query)
    pages = max(1, math.ceil(run_count / RUNS_PAGE_SIZE))
    number = min(page_number(query, "runs_page"), pages)
    runs = selectors.run_list(
        session=session,
        sort=sort,
        descending=descending,
        limit=RUNS_PAGE_SIZE,
        offset=(number - 1) * RUNS_PAGE_SIZE,
    ).items
    columns = [
        {
            "label": label,
            "numeric": key != "id",
            "active": key == sort,
            "dir": ("desc" if descending else "asc") if key == sort else "",
            # A click on the active column flips it; a new one starts with the best (highest) first.
            "query": _runs_query(
                query, runs_sort=key, runs_dir="asc" if key == sort and descending else "desc", runs_page=1
            ),
        }
        for key, label in RUN_COLUMNS
    ]
    first = (number - 1) * RUNS_PAGE_SIZE
    return {
        "run_count": run_count,
        "runs": runs,
        "run_columns": columns,
        "runs_first": first + 1,
        "runs_last": first + len(runs),
        "runs_prev_query": _runs_query(query, runs_page=number - 1) if number > 1 else None,
        "runs_next_query": _runs_query(query, runs_page=number + 1) if number < pages else None,
    }


def _back_url(session: Session) -> str:
    if session.status in FINISHED:
        return reverse("history") + "?period=all"
    if session.type == SessionType.SCRAPER and session.status == Status.RUNNING:
        return reverse("scrapers")
    return reverse("running")


@require_GET
def session_detail(request, session_id: str):
    services.sessions_reap_lazily()
    session = selectors.session_get(session_id=session_id)
    run = selectors.run_for(session=session, config_hash=request.GET.get("run"))
    context = {
        **base_context(request, "detail"),
        **_live_context(request, session, run),
        **_trades_context(session, run),
        "calendars": selectors.session_archive_calendar(session=session)
        if session.type == SessionType.SCRAPER
        else [],
        "logs": selectors.session_logs(session, tail=LOG_TAIL),
        "events": selectors.event_page(session=session, limit=EVENTS_SHOWN, newest_first=True).items,
        "back": _back_url(session),
        **_runs_context(session, request.GET),
    }
    return render(request, "sessions/detail.html", context)


@require_GET
def session_live(request, session_id: str):
    """The detail view's header status, progress and metrics: polled while the session runs."""
    session = selectors.session_get(session_id=session_id)
    run = selectors.run_for(session=session, config_hash=request.GET.get("run"))
    response = render(request, "sessions/_detail_live.html", _live_context(request, session, run))
    if session.status != Status.RUNNING and request.GET.get("was") == "running":
        # It just ended: reload the page once so trades, charts and buttons are final.
        response["HX-Refresh"] = "true"
    return response


@require_GET
def session_trades(request, session_id: str):
    session = selectors.session_get(session_id=session_id)
    run = selectors.run_for(session=session, config_hash=request.GET.get("run"))
    return render(request, "sessions/_trades.html", _trades_context(session, run, request.GET))


@require_GET
def session_logs(request, session_id: str):
    """New log lines after `offset`, appended to the log; polls again while running."""
    session = selectors.session_get(session_id=session_id)
    raw = request.GET.get("offset") or ""
    offset = int(raw) if raw.isdecimal() else None
    logs = selectors.session_logs(session, tail=LOG_TAIL, offset=offset)
    return render(
        request, "sessions/_logs_poll.html", {"session": session, "logs": logs, "append": offset is not None}
    )
