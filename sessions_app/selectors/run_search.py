"""Runs across sessions: filtered, sorted, keyset-paged; and seed 2's (symbol, timeframe, range) group.

Pages are keyset pages, never OFFSET: a page starts after the (sort value, id) of the previous
page's last row, so a deep page costs what the first does and rows inserted between pages
neither repeat nor push others out of the walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from sessions_app.models import Run
from sessions_app.selectors.summaries import runs_summary

# What /api/runs sorts by. `created_at` is the run id's order: ids grow with creation and
# every run is made with its session, so the newest runs come first without a join.
RUN_SEARCH_SORTS = {"total_pnl", "sharpe", "win_rate", "max_drawdown", "created_at"}


@dataclass(frozen=True)
class RunFilters:
    """Runs whose session has these markets, exchanges, timeframes, strategies, id and range,
    and whose own status is one of `statuses`; an empty tuple or None does not filter."""

    markets: tuple[str, ...] = ()
    exchanges: tuple[str, ...] = ()
    timeframes: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    session_id: str | None = None
    range_start: int | None = None
    range_end: int | None = None


@dataclass(frozen=True)
class RunKey:
    """Where a page ends: the last row's sort value (None when sorting by id alone) and id."""

    value: Decimal | None
    id: int


@dataclass
class KeysetPage:
    """Up to `limit` runs, and the key the next page starts after (None on the last page)."""

    items: list[Run]
    limit: int
    next_key: RunKey | None


def run_filter(filters: RunFilters) -> QuerySet[Run]:
    fields = {
        "session__market__in": filters.markets,
        "session__exchange__in": filters.exchanges,
        "session__timeframe__in": filters.timeframes,
        "session__strategy__in": filters.strategies,
        "status__in": filters.statuses,
        "session_id": filters.session_id,
        "session__range_start": filters.range_start,
        "session__range_end": filters.range_end,
    }
    return Run.objects.filter(**{lookup: v for lookup, v in fields.items() if v not in ((), None)})


def _after(field: str, descending: bool, key: RunKey) -> Q:
    """Rows past `key` in the order (field, id), both ascending or both descending.

    `(value, id) > (v, i)` spelled as `value > v OR (value = v AND id > i)`, which every
    database plans as a range on the (field, id) index. The boundary value is read from the
    row itself when it still exists: SQLite keeps a decimal with the digits it was written
    with, which may be more than the column's decimal places the cursor carries, and an equal
    test against the rounded copy would miss the row's ties.
    """
    beyond = "lt" if descending else "gt"
    if field == "id":
        return Q(**{f"id__{beyond}": key.id})
    stored = Subquery(Run.objects.filter(pk=key.id).values(field)[:1])
    boundary = Coalesce(stored, Value(key.value, output_field=DecimalField()))
    # The redundant `value <= v` (or >=) is what lets SQLite start the index range at the key:
    # with the OR alone it scans the index from the top, a deep page costing every page before.
    return Q(**{f"{field}__{beyond}e": boundary}) & (
        Q(**{f"{field}__{beyond}": boundary}) | Q(**{field: boundary, f"id__{beyond}": key.id})
    )


def run_search(
    *, filters: RunFilters, sort: str, descending: bool, limit: int, after: RunKey | None = None
) -> KeysetPage:
    """A page of runs across sessions in the order (sort, id), starting after `after`."""
    field = "id" if sort == "created_at" else sort
    runs = run_filter(filters)
    if after is not None:
        runs = runs.filter(_after(field, descending, after))
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    if field == "id":
        order = order[1:]
    rows = list(runs.order_by(*order)[: limit + 1])
    items = rows[:limit]
    next_key = None
    if len(rows) > limit:
        last = items[-1]
        next_key = RunKey(value=None if field == "id" else getattr(last, field), id=last.pk)
    return KeysetPage(items=items, limit=limit, next_key=next_key)


def run_group_summary(*, market: str, timeframe: str, range_start: int, range_end: int) -> dict[str, Any]:
    """Seed 2's SessionSummary of every run of a (symbol, timeframe, range) group, any session."""
    group = RunFilters(
        markets=(market,), timeframes=(timeframe,), range_start=range_start, range_end=range_end
    )
    return runs_summary(runs=run_filter(group))
