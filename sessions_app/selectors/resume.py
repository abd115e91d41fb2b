"""What a resumed run starts from: the trades it made before (rows and engine trades)."""

from __future__ import annotations

from decimal import Decimal

from bots.markets import market_spec
from bots.simulator import Trade as EngineTrade
from sessions_app.models import Run, Trade

TRADE_COLUMNS = ("run_id", *Trade.VALUE_FIELDS)  # services.trades' row shape


def run_trade_rows(*, run: Run) -> list[tuple]:
    """The run's trades as the runner inserted them (tuples of TRADE_COLUMNS: ints, strings
    and floats, as the trades file wants them), in order."""
    return [
        tuple(float(value) if isinstance(value, Decimal) else value for value in row)
        for row in Trade.objects.filter(run=run).order_by("id").values_list(*TRADE_COLUMNS)
    ]


def engine_trades(rows: list[tuple]) -> list[EngineTrade]:
    """Rows back as the engine's trades, for the metrics of a resumed run. PnL in the run's
    currency is taken as stored when the market settles in it (every single-market run)."""
    trades = []
    for row in rows:
        (_, market, side, entry_time, entry_price, entry_size, exit_time, exit_price, exit_size, pnl, fee,
         exit_reason, funding) = row  # fmt: skip
        currency = market_spec(market).settle
        trades.append(
            EngineTrade(
                market=market,
                side=side,
                entry_time=int(entry_time),
                entry_price=float(entry_price),
                entry_size=float(entry_size),
                exit_time=int(exit_time) if exit_time is not None else None,
                exit_price=float(exit_price) if exit_price is not None else None,
                exit_size=float(exit_size) if exit_size is not None else None,
                realized_pnl=float(pnl),
                fee=float(fee),
                exit_reason=exit_reason,
                funding=float(funding),
                currency=currency,
                run_pnl=float(pnl),
            )
        )
    return trades
