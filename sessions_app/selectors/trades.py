"""Trades: the dashboard's and the API's pages, the export's rows (the charts' markers: selectors.charts)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from sessions_app.models import Run, Trade
from sessions_app.selectors.paging import NumberedPage, Page, numbered_page, offset_page

TRADE_EXPORT_FIELDS = ("id", *Trade.VALUE_FIELDS)


def _trades(run: Run | None, *, newest_first: bool) -> QuerySet[Trade]:
    if run is None:
        return Trade.objects.none()
    order = ("-entry_time", "-id") if newest_first else ("entry_time", "id")
    return Trade.objects.filter(run=run).order_by(*order)


def trade_page(*, run: Run | None, limit: int, offset: int) -> Page:
    """`limit` trades of the run from `offset`, in entry order (none without a run)."""
    return offset_page(_trades(run, newest_first=False), limit=limit, offset=offset)


def trade_page_numbered(*, run: Run | None, number: int, size: int) -> NumberedPage:
    """Page `number` of the run's trades, the newest first, each with its `duration_seconds`."""
    page = numbered_page(_trades(run, newest_first=True), number=number, size=size)
    for trade in page.items:
        trade.duration_seconds = (trade.exit_time - trade.entry_time) if trade.exit_time else None
    return page


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
