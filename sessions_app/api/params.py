"""The API's query strings turned into the typed arguments of the selectors.

Each bad value is a 400 naming its field; the checks run in the order the answers always
named them (status, type, dates, sort, paging, cursor).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bots.candles import TIMEFRAMES
from sessions_app.api.cursors import cursor_loads
from sessions_app.errors import InvalidInput
from sessions_app.models import SessionType, Status
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

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
# Past any real page; keeps huge numbers out of SQL (SQLite and MariaDB reject them).
MAX_OFFSET = 10**12


def parse_sort(value: str | None, allowed: set[str], default: str) -> tuple[str, bool]:
    """`field:dir` from a whitelist -> (field, descending)."""
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
    return field, direction == "desc"


def parse_paging(params: Mapping[str, Any]) -> tuple[int, int]:
    """`limit` (default 50, clamped to 200) and `offset`; non-numbers are a 400."""
    errors = {}
    values = {}
    for field, default in (("limit", DEFAULT_LIMIT), ("offset", 0)):
        raw = params.get(field)
        if raw in (None, ""):
            values[field] = default
        elif not str(raw).isdecimal():
            errors[field] = [f"Must be a whole number of 0 or more (got {raw!r})."]
        else:
            values[field] = int(raw)
    if errors:
        raise InvalidInput.from_errors(errors)
    limit = min(values["limit"], MAX_LIMIT) or DEFAULT_LIMIT
    return limit, min(values["offset"], MAX_OFFSET)


def _comma_list(params: Mapping[str, Any], field: str, allowed: list[str]) -> tuple[str, ...]:
    values = tuple(v.strip() for v in str(params.get(field) or "").split(",") if v.strip())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput.from_errors(
            {field: [f"Unknown {field} {', '.join(bad)}; one of {', '.join(allowed)}."]}
        )
    return values


def _names(params: Mapping[str, Any], field: str) -> tuple[str, ...]:
    raw = params.get(field)
    return tuple(v.strip() for v in raw.split(",")) if raw else ()


def _time_param(params: Mapping[str, Any], field: str) -> datetime | None:
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        if str(raw).isdecimal():
            return datetime.fromtimestamp(int(raw), tz=UTC)
        parsed = datetime.fromisoformat(str(raw))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput.from_errors(
            {field: [f"Must be Unix seconds or an ISO date (got {raw!r})."]}
        ) from None


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


def _cursor_or_offset(params: Mapping[str, Any], offset: int) -> str | None:
    """The `cursor`; one with an offset past 0 is a 400 (a page is one or the other)."""
    cursor = params.get("cursor") or None
    if cursor is not None and offset:
        raise InvalidInput.from_errors(
            {"offset": ["Pass either offset or cursor: a cursor page starts after the cursor."]}
        )
    return cursor


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


# Unix seconds as a query string: digits, and few enough that the databases take the number.
MAX_UNIX_DIGITS = 18
SESSION_ID = re.compile(r"[0-9a-fA-F-]{1,36}")


def _unix_param(params: Mapping[str, Any], field: str, *, required: bool = False) -> int | None:
    raw = params.get(field)
    if raw in (None, ""):
        if required:
            raise InvalidInput.from_errors({field: ["Required (Unix seconds)."]})
        return None
    if not (str(raw).isdecimal() and str(raw).isascii() and len(str(raw)) <= MAX_UNIX_DIGITS):
        raise InvalidInput.from_errors({field: [f"Must be Unix seconds, a whole number (got {raw!r})."]})
    return int(raw)


def _session_id_param(params: Mapping[str, Any]) -> str | None:
    raw = params.get("session")
    if raw in (None, ""):
        return None
    if not SESSION_ID.fullmatch(raw):
        raise InvalidInput.from_errors({"session": [f"Must be a session id (got {raw!r})."]})
    return raw


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


# Compare: how many runs (or sessions) fit side by side.
COMPARE_MIN, COMPARE_MAX = 2, 8
SESSION_ID_CHARS = set("0123456789abcdefABCDEF-")


def compare_ids(raw: str | None, field: str, *, whole_numbers: bool) -> tuple:
    """`2,5,9` -> (2, 5, 9): 2 to 8 distinct ids, whole numbers (run ids) or session ids."""
    if not raw or not raw.strip():
        raise InvalidInput.from_errors(
            {field: [f"Required: {COMPARE_MIN} to {COMPARE_MAX} ids, comma-separated."]}
        )
    values = [v.strip() for v in raw.split(",")]
    if whole_numbers:
        well_formed = all(v.isdecimal() and len(v) <= 18 for v in values)
    else:
        well_formed = all(v and len(v) <= 36 and set(v) <= SESSION_ID_CHARS for v in values)
    if not well_formed:
        kind = "whole numbers" if whole_numbers else "session ids"
        raise InvalidInput.from_errors({field: [f"Must be a comma list of {kind} (got {raw!r})."]})
    ids = tuple(int(v) for v in values) if whole_numbers else tuple(values)
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise InvalidInput.from_errors(
            {field: [f"Compare takes {COMPARE_MIN} to {COMPARE_MAX} ids (got {len(ids)})."]}
        )
    if len(set(ids)) != len(ids):
        raise InvalidInput.from_errors({field: ["Each id once: the list has duplicates."]})
    return ids


def compare_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """GET /api/compare's `runs`, as selectors.compare_runs takes them."""
    return {"run_ids": compare_ids(params.get("runs"), "runs", whole_numbers=True)}


# A chart needs at least two candles to be one; more than MAX_POINTS are clamped (as limit is).
MIN_POINTS = 2


def _whole_param(params: Mapping[str, Any], field: str, *, minimum: int) -> int | None:
    raw = params.get(field)
    if raw in (None, ""):
        return None
    text = str(raw)
    if not (text.isdecimal() and text.isascii() and len(text) <= MAX_UNIX_DIGITS) or int(text) < minimum:
        raise InvalidInput.from_errors(
            {field: [f"Must be a whole number of {minimum} or more (got {raw!r})."]}
        )
    return int(text)


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
