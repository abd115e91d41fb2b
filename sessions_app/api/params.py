"""The API's query strings turned into the typed arguments of the selectors.

Each bad value is a 400 naming its field; the checks run in the order the answers always
named them (status, type, dates, sort, paging, cursor).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bots.candles import TIMEFRAMES
from sessions_app.errors import InvalidInput
from sessions_app.models import SessionType, Status
from sessions_app.query import comma_list as _comma_list
from sessions_app.query import (
    compare_ids,
    parse_paging,
    parse_sort,
)
from sessions_app.query import cursor_or_offset as _cursor_or_offset
from sessions_app.query import names as _names
from sessions_app.query import session_id_param as _session_id_param
from sessions_app.query import time_param as _time_param
from sessions_app.query import unix_param as _unix_param
from sessions_app.query import whole_param as _whole_param
from sessions_app.selectors import (
    RUN_SEARCH_SORTS,
    RUN_SORTS,
    SESSION_SORTS,
    TRADES_API_ORDER,
    ChartWindow,
    RunFilters,
    SessionFilters,
    run_keyset,
    session_keyset,
    session_run_keyset,
)
from sessions_app.selectors.charts import DEFAULT_POINTS, MAX_POINTS
from sessions_app.selectors.cursors import cursor_loads


def session_list_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/sessions's filters, sort and page, as selectors.session_list takes them."""
    filters = SessionFilters(
        statuses=_comma_list(params, "status", Status.values),
        types=_comma_list(params, "type", SessionType.values),
        markets=_names(params, "market"),
        strategies=_names(params, "strategy"),
        q=params.get("q") or "",
        created_after=_time_param(params, "created_after"),
        created_before=_time_param(params, "created_before"),
    )
    sort, descending = parse_sort(params.get("sort"), SESSION_SORTS, "created_at:desc")
    limit, offset = parse_paging(params)
    after = cursor_loads(
        _cursor_or_offset(params, offset),
        list_name="sessions",
        sort=sort,
        keyset=session_keyset(sort=sort, descending=descending),
    )
    return {
        "filters": filters,
        "sort": sort,
        "descending": descending,
        "limit": limit,
        "offset": offset,
        "after": after,
    }


def trade_page_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """A run's trades page: `limit` with `offset` or `cursor`, as selectors.trade_page takes them."""
    limit, offset = parse_paging(params)
    after = cursor_loads(
        _cursor_or_offset(params, offset), list_name="trades", sort="entry_time", keyset=TRADES_API_ORDER
    )
    return {"limit": limit, "offset": offset, "after": after}


def run_list_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/sessions/<id>/runs's status filter, sort and page (`offset` or `cursor`), as
    selectors.run_list takes them."""
    statuses = _comma_list(params, "status", Status.values)
    sort, descending = parse_sort(params.get("sort"), RUN_SORTS, "id:asc")
    limit, offset = parse_paging(params)
    after = cursor_loads(
        _cursor_or_offset(params, offset),
        list_name="session-runs",
        sort=sort,
        keyset=session_run_keyset(sort=sort, descending=descending),
    )
    return {
        "statuses": statuses,
        "sort": sort,
        "descending": descending,
        "limit": limit,
        "offset": offset,
        "after": after,
    }


def runs_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/runs's filters, sort, limit and cursor, as selectors.run_search takes them."""
    filters = RunFilters(
        markets=_names(params, "market"),
        exchanges=_names(params, "exchange"),
        timeframes=_comma_list(params, "timeframe", list(TIMEFRAMES)),
        strategies=_names(params, "strategy"),
        statuses=_comma_list(params, "status", Status.values),
        session_id=_session_id_param(params),
        range_start=_unix_param(params, "range_start"),
        range_end=_unix_param(params, "range_end"),
    )
    sort, descending = parse_sort(params.get("sort"), RUN_SEARCH_SORTS, "created_at:desc")
    limit, _ = parse_paging(params)
    after = cursor_loads(
        params.get("cursor"), list_name="runs", sort=sort, keyset=run_keyset(sort=sort, descending=descending)
    )
    return {"filters": filters, "sort": sort, "descending": descending, "limit": limit, "after": after}


def runs_summary_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/runs/summary's group key (market, timeframe, range), every part required."""
    missing = [f for f in ("market", "timeframe", "range_start", "range_end") if not params.get(f)]
    if missing:
        raise InvalidInput.from_errors(
            {f: ["Required: the group is market, timeframe and range."] for f in missing}
        )
    timeframe = params["timeframe"]
    if timeframe not in TIMEFRAMES:
        raise InvalidInput.from_errors(
            {"timeframe": [f"One of {', '.join(TIMEFRAMES)} (got {timeframe!r})."]}
        )
    return {
        "market": params["market"],
        "timeframe": timeframe,
        "range_start": _unix_param(params, "range_start", required=True),
        "range_end": _unix_param(params, "range_end", required=True),
    }


def log_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """`tail` (default 200, at most 5,000) or `offset`, as selectors.session_logs takes them."""
    errors = {
        f: ["Must be a whole number."]
        for f in ("tail", "offset")
        if params.get(f, "0") and not params.get(f, "0").isdecimal()
    }
    if errors:
        raise InvalidInput.from_errors(errors)
    return {
        "tail": min(int(params.get("tail") or 200), 5000),
        "offset": int(params["offset"]) if params.get("offset") else None,
    }


def compare_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/compare's `runs`, as selectors.compare_runs takes them."""
    return {"run_ids": compare_ids(params.get("runs"), "runs", whole_numbers=True)}


# A chart needs at least two candles to be one; more than MAX_POINTS are clamped (as limit is).
MIN_POINTS = 2


def chart_query(params: Mapping[str, Any]) -> ChartWindow:
    """GET /api/sessions/<id>/chart's `from`, `to`, `max_points`, `interval` and `market`."""
    errors: dict[str, list[str]] = {}
    values: dict[str, int | None] = {}
    for field, parse in (
        ("from", lambda f: _unix_param(params, f)),
        ("to", lambda f: _unix_param(params, f)),
        ("max_points", lambda f: _whole_param(params, f, minimum=MIN_POINTS)),
        ("interval", lambda f: _whole_param(params, f, minimum=1)),
    ):
        try:
            values[field] = parse(field)
        except InvalidInput as error:
            errors.update(error.errors)
    if (
        not errors
        and values["from"] is not None
        and values["to"] is not None
        and values["to"] <= values["from"]
    ):
        errors["to"] = [f"Must be after from ({values['from']})."]
    if errors:
        raise InvalidInput.from_errors(errors)
    return ChartWindow(
        start=values["from"],
        end=values["to"],
        max_points=min(values["max_points"] or DEFAULT_POINTS, MAX_POINTS),
        interval=values["interval"],
        market=params.get("market") or None,
    )
