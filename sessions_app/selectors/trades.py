"""Trades: the dashboard's and the API's pages, the export's rows (the charts' markers: selectors.charts)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from sessions_app.list_totals import trades_scope
from sessions_app.models import Run, Trade
from sessions_app.selectors.paging import (
    Keyset,
    NumberedPage,
    Page,
    PageKey,
    list_page,
    numbered_keyset_page,
    read_through,
)

TRADE_EXPORT_FIELDS = ("id", *Trade.VALUE_FIELDS)
# The API pages a run's trades in entry order, the detail view the newest first; both read
# the (run, entry_time, id) index.
TRADES_API_ORDER = Keyset(model=Trade, field="entry_time", descending=False)
TRADES_DASHBOARD_ORDER = TRADES_API_ORDER.reversed()


def _run_trades(run_id: int) -> QuerySet[Trade]:
    """The run's trades, read through the (run, entry_time, id) index (see read_through)."""
    return read_through(Trade.objects.filter(run_id=run_id), "idx_trade_run_time_id")


def _trades(run: Run | None) -> QuerySet[Trade]:
    return Trade.objects.none() if run is None else _run_trades(run.pk)


def trade_page(*, run: Run | None, limit: int, offset: int = 0, after: PageKey | None = None) -> Page:
    """`limit` trades of the run in entry order, from `offset` or after a cursor's key (none
    without a run); keyset pages on (entry_time, id) cost the same at any depth."""
    return list_page(
        _trades(run),
        keyset=TRADES_API_ORDER,
        limit=limit,
        offset=offset,
        after=after,
        scope=trades_scope(run.pk if run else 0),
    )


def trade_page_numbered(
    *,
    run: Run | None,
    number: int,
    size: int,
    after: PageKey | None = None,
    before: PageKey | None = None,
) -> NumberedPage:
    """Page `number` of the run's trades, the newest first (Next/Previous by keyset), each with
    its `duration_seconds`."""
    page = numbered_keyset_page(
        _trades(run),
        keyset=TRADES_DASHBOARD_ORDER,
        number=number,
        size=size,
        after=after,
        before=before,
        scope=trades_scope(run.pk if run else 0),
    )
    for trade in page.items:
        trade.duration_seconds = (trade.exit_time - trade.entry_time) if trade.exit_time else None
    return page


def trade_rows_iter(runs: list[Run], *, batch: int = 5000) -> Iterator[tuple[Run, tuple]]:
    """Every trade of `runs`, run by run in entry order, as value tuples of TRADE_EXPORT_FIELDS.

    Read in keyset batches on (entry_time, id) through idx_trade_run_time_id, so a run of a
    million trades streams in constant memory and no page costs more than the first.
    """
    for run in runs:
        trades = _run_trades(run.pk).order_by("entry_time", "id")
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
