"""The check every fault test ends with: the session's trades are those of a backtest of the
same window on the sim exchange (a sim candle is the same whatever range asks for it), none
missing and none twice."""

from __future__ import annotations

from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, run_backtest

TRADE_FIELDS = (
    "market", "side", "entry_time", "entry_price", "entry_size", "exit_time", "exit_price",
    "exit_size", "realized_pnl", "fee",
)  # fmt: skip


def backtest_trades(session: dict, checkpoint: dict) -> list[dict]:
    """The trades of a backtest of [first candle, last candle] of the session's run."""
    tf_seconds = {"1s": 1, "5s": 5, "1m": 60}[session["timeframe"]]
    config = RunConfig.for_market(
        session["strategy"],
        session["strategy_params"],
        session["market"],
        exchange="sim",
        timeframe=session["timeframe"],
        range_start=checkpoint["first_time"],
        range_end=checkpoint["last_time"] + tf_seconds,
        initial_balance=float(session["initial_balance"]),
        fee_bps=float(session["fee_bps"]),
        slippage_bps=float(session["slippage_bps"]),
    )
    result = run_backtest(config, SimExchange(), ListSink())
    return [{field: getattr(trade, field) for field in TRADE_FIELDS} for trade in result.trades]


def assert_same_trades(stored: list[dict], expected: list[dict]) -> None:
    """Stored trades (10 decimals in the table) against the engine's floats, in order."""
    assert len(stored) == len(expected), f"{len(stored)} trades stored, the backtest made {len(expected)}"
    keys = [(t["market"], int(t["entry_time"]), int(t["exit_time"])) for t in stored]
    assert len(set(keys)) == len(keys), "a trade was stored twice"
    for number, (got, want) in enumerate(zip(stored, expected, strict=True)):
        for field in TRADE_FIELDS:
            a, b = got[field], want[field]
            if isinstance(b, float):
                assert abs(float(a) - b) <= 1e-9 * max(1.0, abs(b)) + 1e-9, (number, field, a, b)
            else:
                assert (int(a) if field.endswith("_time") else a) == b, (number, field, a, b)
