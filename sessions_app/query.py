"""Query strings read into typed values, for the API and the dashboard alike.

Each helper reads one parameter (or the few read together, limit and offset) from a request's
query mapping and raises InvalidInput naming the field for a bad value, worded as the answers
have always worded it. Which parameters an endpoint takes, and in what order they are checked,
is its own declaration (`sessions_app.api.params` for the API, the views for the dashboard).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sessions_app.errors import InvalidInput

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
# Past any real page; keeps huge numbers out of SQL (SQLite and MariaDB reject them).
MAX_OFFSET = 10**12
# Unix seconds as a query string: digits, and few enough that the databases take the number.
MAX_UNIX_DIGITS = 18
SESSION_ID = re.compile(r"[0-9a-fA-F-]{1,36}")
# Compare: how many runs (or sessions) fit side by side.
COMPARE_MIN, COMPARE_MAX = 2, 8
SESSION_ID_CHARS = set("0123456789abcdefABCDEF-")


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


def cursor_or_offset(params: Mapping[str, Any], offset: int) -> str | None:
    """The `cursor`; one with an offset past 0 is a 400 (a page is one or the other)."""
    cursor = params.get("cursor") or None
    if cursor is not None and offset:
        raise InvalidInput.from_errors(
            {"offset": ["Pass either offset or cursor: a cursor page starts after the cursor."]}
        )
    return cursor


def comma_list(params: Mapping[str, Any], field: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """`a,b` -> ("a", "b"), each one of `allowed`."""
    values = tuple(v.strip() for v in str(params.get(field) or "").split(",") if v.strip())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput.from_errors(
            {field: [f"Unknown {field} {', '.join(bad)}; one of {', '.join(allowed)}."]}
        )
    return values


def names(params: Mapping[str, Any], field: str) -> tuple[str, ...]:
    """`a,b` -> ("a", "b"), any names (markets, strategies: an unknown one matches nothing)."""
    raw = params.get(field)
    return tuple(v.strip() for v in raw.split(",")) if raw else ()


def time_param(params: Mapping[str, Any], field: str) -> datetime | None:
    """Unix seconds or an ISO date (UTC when it names no zone); None when absent."""
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


def unix_param(params: Mapping[str, Any], field: str, *, required: bool = False) -> int | None:
    """Unix seconds, a whole number the databases take; None when absent (unless required)."""
    raw = params.get(field)
    if raw in (None, ""):
        if required:
            raise InvalidInput.from_errors({field: ["Required (Unix seconds)."]})
        return None
    if not (str(raw).isdecimal() and str(raw).isascii() and len(str(raw)) <= MAX_UNIX_DIGITS):
        raise InvalidInput.from_errors({field: [f"Must be Unix seconds, a whole number (got {raw!r})."]})
    return int(raw)


def whole_param(params: Mapping[str, Any], field: str, *, minimum: int) -> int | None:
    """A whole number of `minimum` or more; None when absent."""
    raw = params.get(field)
    if raw in (None, ""):
        return None
    text = str(raw)
    if not (text.isdecimal() and text.isascii() and len(text) <= MAX_UNIX_DIGITS) or int(text) < minimum:
        raise InvalidInput.from_errors(
            {field: [f"Must be a whole number of {minimum} or more (got {raw!r})."]}
        )
    return int(text)


def session_id_param(params: Mapping[str, Any], field: str = "session") -> str | None:
    """A session id (hex digits and dashes); None when absent."""
    raw = params.get(field)
    if raw in (None, ""):
        return None
    if not SESSION_ID.fullmatch(raw):
        raise InvalidInput.from_errors({field: [f"Must be a session id (got {raw!r})."]})
    return raw


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
