"""Charts: a window of a session's price as OHLC candles, its run's trades as
markers and its equity; a scraper's archive as a calendar of days.

The window's candles are aggregated to at most `max_points`, so a year of 1m candles arrives
as ~2,000; the markers are every trade of the window, however many (the client snaps each to
its candle). Zooming in asks again for the narrower window and gets finer candles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from django.db import connections
from django.db.models import FloatField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from bots.candles import timeframe_seconds
from sessions_app.errors import InvalidInput
from sessions_app.models import Run, Session, SessionType, Status, Trade
from sessions_app.selectors.results import session_equity
from strategies_app.market_data import archive_calendar, archive_span, chart_candles, chart_interval

DEFAULT_POINTS, MAX_POINTS = 2000, 10_000
# A live session's chart opens on the candles before its start too, so its first minutes have
# some context: six hours, or a thousand candles of a faster timeframe (1s: 17 minutes).
LIVE_CONTEXT_SECONDS, LIVE_CONTEXT_CANDLES = 6 * 3600, 1000
# A marker's kind: a trade's entry, its exit, or its exit by a liquidation (drawn apart).
MARKER_KINDS = ("entry", "exit", "liquidation")


def _session_range(session: Session, run: Run | None, symbol: str) -> tuple[int, int] | None:
    """[start, end) of what the session's chart can show: a backtest's range (while its run
    is being computed, up to the candle it reached), a live session's hours so far, a
    scraper's archive."""
    tf = timeframe_seconds(session.timeframe)
    if session.type == SessionType.SCRAPER:
        return archive_span(exchange=session.exchange, symbol=symbol, timeframe=session.timeframe)
    if session.type == SessionType.BACKTEST and session.range_start and session.range_end:
        start, end = int(session.range_start), int(session.range_end)
        # A sweep's run that has ended is drawn whole while the others are computed.
        if session.status == Status.RUNNING and (
            run is None or run.status in (Status.CREATED, Status.RUNNING)
        ):
            end = min(end, _reached(session, start, tf))
        return start, max(start, end)
    if session.started_at is None:
        return None
    started = int(session.started_at.timestamp())
    end = int((session.stopped_at or timezone.now()).timestamp())
    end -= end % tf  # the candle still open is not drawn until it closes
    context = min(LIVE_CONTEXT_SECONDS, LIVE_CONTEXT_CANDLES * tf)
    return min(started, end - context), end


def _reached(session: Session, start: int, tf: int) -> int:
    """How far a running backtest has got: the end of its live equity curve, else none of it."""
    equity = session_equity(session, None)
    return int(equity[-1][0]) + tf if equity else start


@dataclass(frozen=True)
class ChartWindow:
    """What a chart asks for: `start`/`end` (Unix seconds, None for the session's own range),
    at most `max_points` candles, `interval` seconds per candle at least, one market leg."""

    start: int | None = None
    end: int | None = None
    max_points: int = DEFAULT_POINTS
    interval: int | None = None
    market: str | None = None


def _leg(session: Session, market: str | None) -> str:
    legs = session.market_legs
    if market in (None, ""):
        return legs[0]
    if market not in legs:
        raise InvalidInput.from_errors({"market": [f"One of the session's markets: {', '.join(legs)}."]})
    return market


def _markers(session: Session, run: Run | None, symbol: str, start: int, end: int) -> list[dict[str, Any]]:
    """An entry and an exit marker for each trade of the run that opened or closed in [start, end);
    the exit of a trade a liquidation closed is of kind "liquidation"."""
    if run is None or end <= start:
        return []
    trades = Trade.objects.filter(run=run).filter(
        Q(entry_time__gte=start, entry_time__lt=end) | Q(exit_time__gte=start, exit_time__lt=end)
    )
    if len(session.market_legs) > 1:
        trades = trades.filter(market=symbol)
    # Prices cast to floats by the database and the rows read from the cursor as they come: a
    # year's tens of thousands of trades skip the ORM's per-value conversions (a chart needs no
    # exact figures; the trades table shows them).
    query = trades.order_by("entry_time", "id").values_list(
        "id",
        "side",
        "entry_time",
        Cast("entry_price", FloatField()),
        "exit_time",
        Cast("exit_price", FloatField()),
        Cast("realized_pnl", FloatField()),
        "exit_reason",
    )
    sql, params = query.query.sql_with_params()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    markers = []
    for trade_id, side, entry_time, entry_price, exit_time, exit_price, pnl, exit_reason in rows:
        if start <= entry_time < end:
            markers.append(
                {
                    "time": entry_time,
                    "side": side,
                    "price": entry_price,
                    "kind": "entry",
                    "trade_id": trade_id,
                    "pnl": None,
                }
            )
        if exit_time is not None and start <= exit_time < end:
            markers.append(
                {
                    "time": exit_time,
                    "side": side,
                    "price": exit_price,
                    "kind": "liquidation" if exit_reason == Trade.ExitReason.LIQUIDATION else "exit",
                    "trade_id": trade_id,
                    "pnl": pnl,
                }
            )
    markers.sort(key=itemgetter("time", "trade_id"))
    return markers


def session_chart(*, session: Session, run: Run | None, window: ChartWindow) -> dict[str, Any]:
    """The window's candles ([t, o, h, l, c, v], at most window.max_points), every trade of
    it as markers, the run's equity inside it, and what was served: `from`, `to` (the window
    within the session's range), `interval` (seconds per candle), `market`, `live`."""
    symbol = _leg(session, window.market)
    bounds = _session_range(session, run, symbol)
    live = session.status == Status.RUNNING
    answer: dict[str, Any] = {
        "market": symbol,
        "timeframe": session.timeframe,
        "config_hash": run.config_hash if run is not None else None,
        "live": live,
        "candles": [],
        "markers": [],
        "equity": [],
        "from": None,
        "to": None,
        "interval": timeframe_seconds(session.timeframe),
    }
    if bounds is None:
        return answer
    start = max(bounds[0], window.start) if window.start is not None else bounds[0]
    end = min(bounds[1], window.end) if window.end is not None else bounds[1]
    answer["from"], answer["to"] = start, max(start, end)
    if end <= start:
        return answer
    interval = chart_interval(
        start=start,
        end=end,
        timeframe=session.timeframe,
        max_points=window.max_points,
        at_least=window.interval or 0,
        exchange=session.exchange,
        archived=session.type == SessionType.SCRAPER,
    )
    candles = chart_candles(
        exchange=session.exchange,
        symbol=symbol,
        timeframe=session.timeframe,
        start=start,
        end=end,
        interval=interval,
        archived=session.type == SessionType.SCRAPER,
    )
    answer["interval"] = interval
    # Rows as tuples of numbers (JSON arrays all the same), markers as dicts of plain values:
    # the collector stops tracking such containers, so the thousands of them that the API's
    # answer holds until it is collected (DRF's response and view refer to each other) add
    # nothing to walk to the full collections of the next requests.
    answer["candles"] = candles.rows()
    answer["markers"] = _markers(session, run, symbol, start, end)
    answer["equity"] = [
        (int(t), float(v)) for t, v in (session_equity(session, run) or []) if start <= t < end
    ]
    return answer


def session_archive_calendar(*, session: Session) -> list[dict[str, Any]]:
    """Per market leg of a scraper: each UTC day from the archive's first to its last, with
    the candles stored and expected; a day short of its candles (the first and the last may
    be partial) or with none is a gap."""
    per_day = 86_400 // timeframe_seconds(session.timeframe)
    calendars = []
    for symbol in session.market_legs:
        counts = dict(archive_calendar(exchange=session.exchange, symbol=symbol, timeframe=session.timeframe))
        days = []
        if counts:
            first, last = min(counts), max(counts)
            day = first
            while day <= last:
                stored = counts.get(day, 0)
                edge = day in (first, last)
                days.append(
                    {
                        "day": day,
                        "count": stored,
                        "expected": per_day,
                        "gap": stored == 0 or (stored < per_day and not edge),
                    }
                )
                day += timedelta(days=1)
        calendars.append(
            {
                "market": symbol,
                "days": days,
                "gaps": sum(1 for item in days if item["gap"]),
                "months": _months(days),
            }
        )
    return calendars


def _months(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days grouped by month, each month's first week padded so weekdays line up (Mon first)."""
    months: list[dict[str, Any]] = []
    for item in days:
        day: date = item["day"]
        if not months or months[-1]["month"] != (day.year, day.month):
            months.append({"month": (day.year, day.month), "label": day.strftime("%B %Y"), "cells": []})
            months[-1]["cells"].extend([None] * day.weekday())
        months[-1]["cells"].append(item)
    return months
