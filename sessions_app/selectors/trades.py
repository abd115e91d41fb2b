"""Trades: the dashboard's and the API's pages, the export's rows, the detail view's price charts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sessions_app.list_totals import trades_scope
from sessions_app.models import Run, Session, SessionType, Trade
from sessions_app.selectors.paging import Keyset, NumberedPage, Page, PageKey, list_page, numbered_keyset_page
from sessions_app.selectors.reference import market_quotes
from strategies_app.market_data import chart_closes

TRADE_EXPORT_FIELDS = ("id", *Trade.VALUE_FIELDS)
# Markers drawn on a price chart at most; more would hide the price under them.
CHART_TRADES = 400
# The API pages a run's trades in entry order, the detail view the newest first; both read
# the (run, entry_time, id) index.
TRADES_API_ORDER = Keyset(model=Trade, field="entry_time", descending=False)
TRADES_DASHBOARD_ORDER = TRADES_API_ORDER.reversed()


def _trades(run: Run | None) -> QuerySet[Trade]:
    return Trade.objects.none() if run is None else Trade.objects.filter(run=run)


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


def _chart_range(session: Session) -> tuple[int | None, int]:
    start = session.range_start or (int(session.started_at.timestamp()) if session.started_at else None)
    end = session.range_end or int((session.stopped_at or timezone.now()).timestamp())
    if start is not None and session.type == SessionType.TEST:
        start = min(start, end - 6 * 3600)  # a live session's first minutes, in some context
    return start, end


def _trade_line(trades: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """A price line through the trades' own entries and exits, for when there are no candles."""
    points = []
    for t in trades:
        points.append((t["entry_time"], float(t["entry_price"])))
        if t["exit_time"] is not None and t["exit_price"] is not None:
            points.append((t["exit_time"], float(t["exit_price"])))
    return sorted(points)


def session_price_charts(*, session: Session, run: Run | None) -> list[dict[str, Any]]:
    """One price chart per market leg: candles of the sim exchange over the session's range
    when it can give them, else a line through the trades' own prices; trades as markers."""
    if session.type == SessionType.SCRAPER:
        return []
    trades = []
    if run is not None:
        trades = list(
            _trades(run)
            .order_by(*TRADES_API_ORDER.order_by())
            .values("market", "side", "entry_time", "entry_price", "exit_time", "exit_price", "realized_pnl")[
                :CHART_TRADES
            ]
        )
    start, end = _chart_range(session)
    quotes = market_quotes(exchange=session.exchange)
    charts = []
    for leg in session.market_legs:
        leg_trades = [t for t in trades if t["market"] == leg] or (
            trades if len(session.market_legs) == 1 else []
        )
        prices = chart_closes(
            exchange=session.exchange, symbol=leg, start=start, end=end, timeframe=session.timeframe
        )
        charts.append(
            {
                "market": leg,
                "quote": quotes.get(leg, ""),
                "prices": prices or _trade_line(leg_trades),
                "trades": leg_trades,
            }
        )
    return charts
