"""Runs across sessions: filtered, sorted, keyset-paged; and the (symbol, timeframe, range) group of runs.

Pages are keyset pages, never OFFSET: a page starts after the (sort value, id) of the previous
page's last row, so a deep page costs what the first does and rows inserted between pages
neither repeat nor push others out of the walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from sessions_app.models import Run
from sessions_app.selectors.paging import Keyset, KeysetPage, PageKey, keyset_rows
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


# A page of runs ends at a key like any list's (selectors.paging).
RunKey = PageKey


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


def run_search(
    *, filters: RunFilters, sort: str, descending: bool, limit: int, after: PageKey | None = None
) -> KeysetPage:
    """A page of runs across sessions in the order (sort, id), starting after `after`."""
    return keyset_rows(
        run_filter(filters), keyset=run_keyset(sort=sort, descending=descending), limit=limit, after=after
    )


def run_keyset(*, sort: str, descending: bool) -> Keyset:
    """The order of a RUN_SEARCH_SORTS sort: (field, id), or the id alone for created_at."""
    return Keyset(model=Run, field=None if sort == "created_at" else sort, descending=descending)


def run_group_summary(*, market: str, timeframe: str, range_start: int, range_end: int) -> dict[str, Any]:
    """The summary of every run of a (symbol, timeframe, range) group, any session."""
    group = RunFilters(
        markets=(market,), timeframes=(timeframe,), range_start=range_start, range_end=range_end
    )
    return runs_summary(runs=run_filter(group))
