"""Liquidation on hand-built candles: the price, the fee, the event, nothing after it.

Cross margin, one account (docs/engine.md): after each candle's fills, when the equity at the
candle's adverse extreme (its low for a long, its high for a short) is at or below the
maintenance margin m x notional, every position closes at the liquidation price, where
equity equals the maintenance margin; that margin left is the liquidation fee, so equity is 0
after it. The `liquidated` event's equity_before is the equity at that candle's open. A
candle that opens beyond the liquidation price liquidates at its open; past the
bankruptcy price (equity 0) the account still ends at 0 and the insurance fund covers the rest.
Then the run is out of money: no further order, equity 0 to the end.

Every case is worked out by hand below: q the size, E the entry, C the cash after the entry
fee, m = 0.5 % (0.005).
  linear long:   C + q (p - E) = m q p        ->  p = (q E - C) / (q (1 - m))
  linear short:  C - q (p - E) = m q p        ->  p = (q E + C) / (q (1 + m))
  inverse long:  C + q (1/E - 1/p) = m q / p  ->  p = q (1 + m) / (C + q / E)
  inverse short: C - q (1/E - 1/p) = m q / p  ->  p = q (1 - m) / (q / E - C)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import T0, make_candles

import bots.runner
from bots.markets import MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest, run_grid

M = 0.005  # maintenance margin, 0.5 %
FEE = 0.001  # fee_bps 10
TF = 60
# The market's own maintenance margin is 1 %; the runs ask for 0.5 % (the config's wins).
LINEAR = MarketSpec(
    "TESTUSD", "TEST", "USD", "USD", "linear", 0.01, lot_size=0, max_leverage=100, maintenance_margin_pct=1.0
)
# An XBTUSD-like inverse market whose own maintenance margin (0.5 %) the runs use (None).
INVERSE = MarketSpec(
    "TESTXBT", "XBT", "USD", "XBT", "inverse", 0.5, lot_size=1, max_leverage=100, maintenance_margin_pct=0.5
)
PATHS = ["per-candle", "rules", "compiled"]


class EventSink(ListSink):
    def __init__(self):
        super().__init__()
        self.events: list[tuple[str, dict]] = []

    def on_event(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))

    def of(self, event_type: str) -> list[dict]:
        return [data for kind, data in self.events if kind == event_type]


@dataclass
class Case:
    market: MarketSpec
    balance: float
    size: float  # signed
    candles: list[tuple[float, float, float, float]]  # (open, high, low, close)
    liquidated_at: int  # the candle whose range reaches the liquidation price
    mm_pct: float | None = 0.5


def series(rows):
    opens, highs, lows, closes = (list(col) for col in zip(*rows, strict=True))
    return make_candles(opens, closes, highs, lows)


# Entry at candle 1's open (100 or 50,000); the strategy asks to enter after candles 0, 4 and 6.
LONG_ROWS = [
    (100, 100, 100, 100),
    (100, 101, 99, 100),
    (99, 100, 95, 96),
    (96, 97, 89, 92),  # low 89: under 95 units' liquidation price (90.02)
    (92, 93, 88, 90),
    (90, 91, 80, 85),  # low 80: under 60 units' (83.85)
    (85, 90, 84, 88),
    (88, 89, 87, 88),
]
SHORT_ROWS = [
    (100, 100, 100, 100),
    (100, 101, 99, 100),
    (101, 105, 100, 104),
    (104, 111, 103, 108),  # high 111: above -95 units' liquidation price (109.88)
    (108, 112, 107, 110),
    (110, 113, 109, 111),
    (111, 112, 110, 111),
    (111, 112, 110, 111),
]
INVERSE_LONG_ROWS = [tuple(500 * v for v in row) for row in LONG_ROWS]  # low 44,500 < 45,505.9
INVERSE_SHORT_ROWS = (
    [tuple(500 * v for v in row) for row in SHORT_ROWS[:3]]
    + [
        (52_000, 56_000, 51_500, 54_000),  # high 56,000 > 55,541.4
        *(tuple(500 * v for v in row) for row in SHORT_ROWS[4:]),
    ]
)
CASES = {
    "linear long": Case(LINEAR, 1000.0, 95.0, LONG_ROWS, 3),
    "linear short": Case(LINEAR, 1000.0, -95.0, SHORT_ROWS, 3),
    "inverse long": Case(INVERSE, 1.0, 475_000.0, INVERSE_LONG_ROWS, 3, None),
    "inverse short": Case(INVERSE, 1.0, -475_000.0, INVERSE_SHORT_ROWS, 3, None),
}
SIGNALS = (T0, T0 + 4 * TF, T0 + 6 * TF)  # after candles 0, 4 and 6 close


def liquidation_price(case: Case) -> float:
    """The hand formulas of the module's docstring."""
    q, entry = abs(case.size), case.candles[1][0]
    cash = case.balance - case.market.notional(q, entry) * FEE
    if case.market.inverse:
        if case.size > 0:
            return q * (1 + M) / (cash + q / entry)
        return q * (1 - M) / (q / entry - cash)
    if case.size > 0:
        return (q * entry - cash) / (q * (1 - M))
    return (q * entry + cash) / (q * (1 + M))


def config(case: Case, path: str, size: float | None = None) -> RunConfig:
    size = case.size if size is None else size
    if path == "per-candle":
        strategy, params = "Scripted", {"plan": {str(t): size for t in SIGNALS}}
    else:
        strategy, params = "EnterAt", {"at": list(SIGNALS), "size": size}
    return RunConfig(
        strategy=strategy,
        params=params,
        markets=[case.market],
        exchange="local",
        timeframe="1m",
        initial_balance=case.balance,
        fee_bps=FEE * 1e4,
        slippage_bps=0.0,
        leverage=10,
        sizing="units",
        maintenance_margin_pct=case.mm_pct,
        funding=False,
        strategy_packages=("scripted_strategies", "account_strategies"),
    )


@pytest.fixture
def path(request, monkeypatch):
    monkeypatch.setattr(bots.runner, "COMPILED_RULES", request.param == "compiled")
    return request.param


def backtest(case: Case, path: str):
    sink = EventSink()
    return run_backtest(config(case, path), series(case.candles), sink), sink


def assert_out_of_money(result, sink: EventSink, balance: float, liquidated_at: int) -> None:
    """One trade, equity 0 from the liquidation on, the metrics of a lost account."""
    assert len(result.trades) == 1  # the strategy asked twice more: nothing was placed
    values = [v for t, v in result.equity if t >= T0 + liquidated_at * TF]
    assert values and all(v == pytest.approx(0.0, abs=1e-12 * balance) for v in values)
    m = result.metrics
    assert m["final_equity"] == pytest.approx(0.0, abs=1e-12 * balance)
    assert m["total_pnl"] == pytest.approx(-balance)
    assert m["return_pct"] == pytest.approx(-100.0)
    assert m["max_drawdown"] == pytest.approx(100.0)
    assert (m["liquidations"], m["out_of_money"]) == (1, True)
    assert m["trade_count"] == 1
    assert any(e["message"].startswith("out of money") for e in sink.of("info"))
    assert not result.stopped  # the run completes


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("name", list(CASES))
def test_liquidation_at_the_hand_computed_price_with_the_margin_left_as_fee(name, path):
    case = CASES[name]
    result, sink = backtest(case, path)
    p = liquidation_price(case)
    q, entry = abs(case.size), case.candles[1][0]
    low, high = case.candles[case.liquidated_at][2], case.candles[case.liquidated_at][1]
    assert low < p < high  # inside the candle's range
    entry_fee = case.market.notional(q, entry) * FEE
    margin_left = M * case.market.notional(q, p)
    # The hand formula is right: at p, equity is the maintenance margin.
    assert case.balance - entry_fee + case.market.pnl(case.size, entry, p) == pytest.approx(margin_left)

    (trade,) = result.trades
    assert trade.side == ("long" if case.size > 0 else "short")
    assert trade.exit_reason == "liquidation"
    assert (trade.entry_price, trade.entry_size, trade.exit_size) == (entry, q, q)
    assert trade.exit_price == pytest.approx(p, rel=1e-12)
    assert trade.fee == pytest.approx(entry_fee + margin_left, rel=1e-12)
    assert trade.realized_pnl == pytest.approx(-case.balance, rel=1e-12)
    candle = T0 + case.liquidated_at * TF
    assert candle <= trade.exit_time <= candle + TF

    (event,) = sink.of("liquidated")
    assert event["time"] == trade.exit_time
    assert event["market"] == case.market.symbol
    assert event["price"] == {case.market.symbol: pytest.approx(p, rel=1e-12)}
    # Before: the equity at the liquidated candle's open, the last one before the fall.
    opened = case.candles[case.liquidated_at][0]
    before = case.balance - entry_fee + case.market.pnl(case.size, entry, opened)
    assert event["equity_before"] == pytest.approx(before, rel=1e-12)
    assert event["equity_after"] == pytest.approx(0.0, abs=1e-12 * case.balance)
    assert event["insurance"] == pytest.approx(0.0, abs=1e-12 * case.balance)
    assert event["currency"] == case.market.settle
    assert result.metrics["fees_paid"] == pytest.approx(entry_fee + margin_left, rel=1e-12)
    assert_out_of_money(result, sink, case.balance, case.liquidated_at)


GAP = 85.0  # candle 3 opens under 95 units' bankruptcy price (100 - 990.5 / 95 = 89.57)
BETWEEN = 90.0  # under the liquidation price (90.02) but above the bankruptcy price


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_gap_past_the_bankruptcy_price_clamps_at_zero_and_insurance_covers_the_rest(path):
    rows = list(LONG_ROWS)
    rows[3] = (GAP, 86, 84, 85)
    case = Case(LINEAR, 1000.0, 95.0, rows, 3)
    result, sink = backtest(case, path)
    cash = 1000.0 - 95 * 100 * FEE  # 990.5
    shortfall = -(cash + 95 * (GAP - 100))  # equity at the open: -434.5
    assert shortfall == pytest.approx(434.5)

    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("liquidation", GAP)
    assert trade.fee == pytest.approx(95 * 100 * FEE)  # no margin left to charge
    (event,) = sink.of("liquidated")
    assert event["price"] == {"TESTUSD": GAP}
    assert event["equity_before"] == pytest.approx(-shortfall, rel=1e-12)
    assert event["equity_after"] == 0.0
    assert event["insurance"] == pytest.approx(shortfall, rel=1e-12)
    # The insurance fund's share is not the trade's loss: the account lost its balance.
    assert trade.realized_pnl == pytest.approx(-1000.0, rel=1e-12)
    assert_out_of_money(result, sink, 1000.0, 3)


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_an_open_beyond_the_liquidation_price_liquidates_at_the_open(path):
    rows = list(LONG_ROWS)
    rows[3] = (BETWEEN, 91, 88, 89)
    case = Case(LINEAR, 1000.0, 95.0, rows, 3)
    result, sink = backtest(case, path)
    cash = 1000.0 - 95 * 100 * FEE
    left = cash + 95 * (BETWEEN - 100)  # 40.5, under the maintenance margin 42.75
    assert 0 < left < M * 95 * BETWEEN

    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("liquidation", BETWEEN)
    assert trade.fee == pytest.approx(95 * 100 * FEE + left, rel=1e-12)
    assert trade.realized_pnl == pytest.approx(-1000.0, rel=1e-12)
    (event,) = sink.of("liquidated")
    assert event["insurance"] == pytest.approx(0.0, abs=1e-9)
    assert_out_of_money(result, sink, 1000.0, 3)


def test_a_grid_liquidates_each_config_at_its_own_price():
    """95 units go at 90.02 on candle 3, 60 units at (6000 - 994) / 59.7 = 83.85 on candle 5."""
    case = CASES["linear long"]
    configs = [config(case, "rules", 95.0), config(case, "rules", 60.0)]
    sinks = [EventSink(), EventSink()]
    results = run_grid(configs, series(case.candles), sinks)
    for result, sink, q, candle in zip(results, sinks, (95.0, 60.0), (3, 5), strict=True):
        cash = 1000.0 - q * 100 * FEE
        p = (q * 100 - cash) / (q * (1 - M))
        (trade,) = result.trades
        assert (trade.exit_reason, trade.exit_price) == ("liquidation", pytest.approx(p, rel=1e-12))
        assert trade.fee == pytest.approx(q * 100 * FEE + M * q * p, rel=1e-12)
        (event,) = sink.of("liquidated")
        assert event["price"] == {"TESTUSD": pytest.approx(p, rel=1e-12)}
        assert_out_of_money(result, sink, 1000.0, candle)
    assert results[1].trades[0].exit_price == pytest.approx(83.85, abs=0.01)


def test_without_a_loss_that_reaches_the_margin_nothing_is_liquidated():
    """The same long with 3x leverage used (30 units) rides candle 3's low: no liquidation."""
    case = CASES["linear long"]
    sink = EventSink()
    result = run_backtest(config(case, "per-candle", 30.0), series(case.candles), sink)
    assert [t.exit_reason for t in result.trades] == ["end"]
    assert sink.of("liquidated") == []
    assert (result.metrics["liquidations"], result.metrics["out_of_money"]) == (0, False)
    assert result.metrics["final_equity"] > 0
