"""Trades as CSV, for spreadsheets: streamed row by row (a run can hold millions), a header first."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import StreamingHttpResponse

from sessions_app import selectors

if TYPE_CHECKING:
    from sessions_app.models import Run, Session

HEADER = (
    "config_hash",
    "trade_id",
    "market",
    "side",
    "entry_time",
    "entry_at",
    "entry_price",
    "entry_size",
    "exit_time",
    "exit_at",
    "exit_price",
    "exit_size",
    "realized_pnl",
    "fee",
    "exit_reason",
    "funding",
)


class _Echo:
    """A file-like whose write() returns the line, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value


def _plain(value: Decimal | None) -> str:
    """60000.0000000000 -> 60000; no exponent, no padding (what a spreadsheet reads best)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _iso(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts is not None else ""


def _lines(rows: Iterable[tuple[Run, tuple]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for run, (
        trade_id,
        market,
        side,
        entry_time,
        entry_price,
        entry_size,
        exit_time,
        exit_price,
        exit_size,
        realized_pnl,
        fee,
        exit_reason,
        funding,
    ) in rows:
        yield writer.writerow(
            (
                run.config_hash,
                trade_id,
                market,
                side,
                entry_time,
                _iso(entry_time),
                _plain(entry_price),
                _plain(entry_size),
                "" if exit_time is None else exit_time,
                _iso(exit_time),
                _plain(exit_price),
                _plain(exit_size),
                _plain(realized_pnl),
                _plain(fee),
                exit_reason,
                _plain(funding),
            )
        )


def trades_csv_response(session: Session, runs: list[Run]) -> StreamingHttpResponse:
    """Every trade of `runs` as a CSV download named after the session (and the run)."""
    suffix = f"_{runs[0].config_hash}" if len(runs) == 1 and selectors.run_count(session=session) > 1 else ""
    response = StreamingHttpResponse(
        _lines(selectors.trade_rows_iter(runs)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="trades_{session.pk}{suffix}.csv"'
    return response
