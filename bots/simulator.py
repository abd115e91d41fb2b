"""Simulated fills and accounting: one net position per market, trades, mark-to-market equity.

Orders decided after candle i fill at candle i+1's open moved against the trader by
`slippage_bps` and pay `fee_bps` of the notional, so a strategy never trades at a price it
could not have had. Amounts are in each market's settle currency; the account (cash,
equity, metrics) is kept in the first market's settle currency, converting other legs at the
price of a leg that links the two currencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bots.markets import MarketSpec, same_currency


@dataclass(slots=True)
class Trade:
    """A closed trade. Prices in quote currency; realized_pnl and fee in `currency`.

    realized_pnl = gross PnL - fee, where fee = entry fee + exit fee of this trade.
    Sizes are positive (contracts for inverse markets, base units for linear ones).
    `run_pnl` is realized_pnl converted to the run's currency (equal when they are the same).
    """

    market: str
    side: str  # "long" | "short"
    entry_time: int
    entry_price: float
    entry_size: float
    exit_time: int
    exit_price: float
    exit_size: float
    realized_pnl: float
    fee: float
    currency: str
    run_pnl: float


# Columns of a block of compiled trade rows (bots.fast writes them in this order).
(
    ROW_LEG,
    ROW_SIDE,
    ROW_ENTRY_TIME,
    ROW_ENTRY,
    ROW_SIZE,
    ROW_EXIT_TIME,
    ROW_EXIT,
    ROW_PNL,
    ROW_FEE,
    ROW_RUN_PNL,
) = range(10)
# A row's side by (side > 0): the same two str objects for every trade, none built per row.
_SIDES = np.array(["short", "long"], dtype=object)


class TradeLog(Sequence[Trade]):
    """Closed trades in order: Trade records, or blocks of numeric rows from the compiled path
    that become Trade records only when read (a run that nobody reads trade by trade, such as
    a sweep's, never builds them). Slices are TradeLogs too; a TradeLog equals the list of its
    trades."""

    __slots__ = ("_blocks", "_ends", "_symbols", "_settles")

    def __init__(self, symbols: Sequence[str] = (), settles: Sequence[str] = ()):
        self._blocks: list[list[Trade] | np.ndarray] = []
        self._ends: list[int] = []
        self._symbols = list(symbols)
        self._settles = list(settles)

    def _push(self, block) -> None:
        if len(block):
            self._blocks.append(block)
            self._ends.append((self._ends[-1] if self._ends else 0) + len(block))

    def append(self, trade: Trade) -> None:
        if self._blocks and isinstance(self._blocks[-1], list):
            self._blocks[-1].append(trade)
            self._ends[-1] += 1
        else:
            self._push([trade])

    def extend_rows(self, rows: np.ndarray) -> None:
        """Add trades as rows of ROW_* columns (leg indexes the log's symbols)."""
        self._push(rows)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _materialise(self, rows: np.ndarray) -> list[Trade]:
        symbols, settles = self._symbols, self._settles
        cols = rows.T
        legs = cols[ROW_LEG].astype(np.int64).tolist()
        sizes = cols[ROW_SIZE].tolist()
        return [
            Trade(
                symbols[leg],
                "long" if side > 0 else "short",
                et,
                ep,
                size,
                xt,
                xp,
                size,
                pnl,
                fee,
                settles[leg],
                run_pnl,
            )  # fmt: skip
            for leg, side, et, ep, size, xt, xp, pnl, fee, run_pnl in zip(
                legs,
                cols[ROW_SIDE].tolist(),
                cols[ROW_ENTRY_TIME].astype(np.int64).tolist(),
                cols[ROW_ENTRY].tolist(),
                sizes,
                cols[ROW_EXIT_TIME].astype(np.int64).tolist(),
                cols[ROW_EXIT].tolist(),
                cols[ROW_PNL].tolist(),
                cols[ROW_FEE].tolist(),
                cols[ROW_RUN_PNL].tolist(),
                strict=True,
            )
        ]

    def __iter__(self):
        for block in self._blocks:
            yield from (block if isinstance(block, list) else self._materialise(block))

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            out = TradeLog(self._symbols, self._settles)
            begin = 0
            for block, end in zip(self._blocks, self._ends, strict=True):
                lo, hi = max(start, begin), min(stop, end)
                if lo < hi:
                    part = block[lo - begin : hi - begin]
                    out._push(list(part) if isinstance(block, list) else part)
                begin = end
            return out
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("trade index out of range")
        begin = 0
        for block, end in zip(self._blocks, self._ends, strict=True):
            if index < end:
                k = index - begin
                return block[k] if isinstance(block, list) else self._materialise(block[k : k + 1])[0]
            begin = end
        raise IndexError("trade index out of range")

    def __eq__(self, other) -> bool:
        if isinstance(other, (TradeLog, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # mutable, like a list

    def __repr__(self) -> str:
        return f"TradeLog({len(self)} trades)"

    def columns(self) -> dict[str, list]:
        """Every trade's fields as columns of plain Python values (market, side, entry_time,
        entry_price, entry_size, exit_time, exit_price, exit_size, realized_pnl, fee,
        currency, run_pnl), built without Trade records where the rows allow."""
        names = [f for f in Trade.__dataclass_fields__]
        out: dict[str, list] = {name: [] for name in names}
        for block in self._blocks:
            if isinstance(block, list):
                for name in names:
                    out[name].extend(getattr(t, name) for t in block)
                continue
            cols = block.T
            legs = cols[ROW_LEG].astype(np.int64)
            sizes = cols[ROW_SIZE].tolist()
            out["market"].extend(np.asarray(self._symbols, dtype=object)[legs].tolist())
            out["side"].extend(_SIDES[(cols[ROW_SIDE] > 0).astype(np.int64)].tolist())
            out["entry_time"].extend(cols[ROW_ENTRY_TIME].astype(np.int64).tolist())
            out["entry_price"].extend(cols[ROW_ENTRY].tolist())
            out["entry_size"].extend(sizes)
            out["exit_time"].extend(cols[ROW_EXIT_TIME].astype(np.int64).tolist())
            out["exit_price"].extend(cols[ROW_EXIT].tolist())
            out["exit_size"].extend(sizes)
            out["realized_pnl"].extend(cols[ROW_PNL].tolist())
            out["fee"].extend(cols[ROW_FEE].tolist())
            out["currency"].extend(np.asarray(self._settles, dtype=object)[legs].tolist())
            out["run_pnl"].extend(cols[ROW_RUN_PNL].tolist())
        return out

    def first_out_of_bounds(self, limit: float) -> tuple[str, float] | None:
        """(field, value) of the first amount (price, size, pnl, fee) that is not finite or
        whose size reaches `limit`, read from the engine's own arrays; None when every one fits."""
        fields = (
            ("entry_price", ROW_ENTRY),
            ("entry_size", ROW_SIZE),
            ("exit_price", ROW_EXIT),
            ("realized_pnl", ROW_PNL),
            ("fee", ROW_FEE),
        )
        for block in self._blocks:
            for name, row in fields:
                if isinstance(block, list):
                    values = np.array([getattr(t, name) for t in block], dtype=np.float64)
                else:
                    values = block[:, row]
                bad = ~np.isfinite(values) | (np.abs(values) >= limit)
                if name == "exit_price":  # an open trade's exit is NaN
                    bad &= ~np.isnan(values)
                if bad.any():
                    return name, float(values[np.argmax(bad)])
        return None

    def run_pnls(self) -> np.ndarray:
        """Every trade's run_pnl, without building Trade records."""
        parts = [
            np.array([t.run_pnl for t in block], dtype=np.float64)
            if isinstance(block, list)
            else block[:, ROW_RUN_PNL]
            for block in self._blocks
        ]
        return np.concatenate(parts) if parts else np.empty(0)


def _fx_plan(markets: Sequence[MarketSpec]) -> list[tuple[int, bool] | None]:
    """Per leg: None (settles in the run currency) or (leg whose price converts, divide?)."""
    run_ccy = markets[0].settle
    plans: list[tuple[int, bool] | None] = []
    for spec in markets:
        if same_currency(spec.settle, run_ccy):
            plans.append(None)
            continue
        plan = None
        for k, other in enumerate(markets):
            # price of `other` = units of other.quote per one other.base
            if same_currency(other.base, run_ccy) and same_currency(other.quote, spec.settle):
                plan = (k, True)  # amount / price
                break
            if same_currency(other.base, spec.settle) and same_currency(other.quote, run_ccy):
                plan = (k, False)  # amount * price
                break
        if plan is None:
            raise ValueError(
                f"Cannot convert {spec.settle} ({spec.symbol}) into {run_ccy}: "
                "no market in the run links the two currencies."
            )
        plans.append(plan)
    return plans


class Account:
    """Positions, cash and closed trades of one run; driven candle by candle or by fills."""

    def __init__(
        self, markets: Sequence[MarketSpec], initial_balance: float, fee_bps: float, slippage_bps: float
    ):
        self.markets = list(markets)
        self.currency = self.markets[0].settle
        self.initial_balance = float(initial_balance)
        self.fee_rate = float(fee_bps) / 1e4
        self.slippage = float(slippage_bps) / 1e4
        self.cash = float(initial_balance)  # run currency; realized PnL and fees included
        self.fees_paid = 0.0
        n = len(self.markets)
        self.pos = [0.0] * n
        self.entry_price = [0.0] * n
        self.entry_time = [0] * n
        self.entry_fee = [0.0] * n  # leg currency, of the open part
        self.entry_fee_run = [0.0] * n  # the same in run currency, at the entry's rate
        self.trades = TradeLog([m.symbol for m in self.markets], [m.settle for m in self.markets])
        self.fx_plan = _fx_plan(self.markets)

    # -- conversion -------------------------------------------------------------------------
    def fx(self, leg: int, prices: Sequence[float]) -> float:
        plan = self.fx_plan[leg]
        if plan is None:
            return 1.0
        k, divide = plan
        return 1.0 / prices[k] if divide else prices[k]

    def fx_arrays(self, prices: Sequence[np.ndarray]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for plan in self.fx_plan:
            if plan is None:
                out.append(None)
            else:
                k, divide = plan
                out.append(1.0 / prices[k] if divide else prices[k])
        return out

    # -- fills ------------------------------------------------------------------------------
    def positions(self) -> tuple[float, ...]:
        return tuple(self.pos)

    def fill(self, leg: int, target: float, open_price: float, time: int, prices: Sequence[float]) -> None:
        """Bring leg's net position to `target` with a market order at `open_price`."""
        current = self.pos[leg]
        if target == current:
            return
        target = float(target)
        if target > current:
            price = open_price * (1.0 + self.slippage)
        else:
            price = open_price * (1.0 - self.slippage)
        fx = 1.0 if self.fx_plan[leg] is None else self.fx(leg, prices)
        if current != 0.0 and (target == 0.0 or (target > 0.0) != (current > 0.0)):
            self._close(leg, abs(current), price, time, fx)
            current = 0.0
            if target == 0.0:
                return
        if abs(target) < abs(current):
            self._close(leg, abs(current) - abs(target), price, time, fx)
            self.pos[leg] = target  # exactly the target, whatever the subtraction rounded to
            return
        spec = self.markets[leg]
        added = abs(target) - abs(current)
        fee = spec.notional(added, price) * self.fee_rate
        self.cash -= fee * fx
        self.fees_paid += fee * fx
        if current == 0.0:
            self.entry_price[leg] = price
            self.entry_time[leg] = time
            self.entry_fee[leg] = fee
            self.entry_fee_run[leg] = fee * fx
        else:  # adding to a position: size-weighted average entry (harmonic for inverse)
            held, old = abs(current), self.entry_price[leg]
            if spec.inverse:
                self.entry_price[leg] = (held + added) / (held / old + added / price)
            else:
                self.entry_price[leg] = (held * old + added * price) / (held + added)
            self.entry_fee[leg] += fee
            self.entry_fee_run[leg] += fee * fx
        self.pos[leg] = target

    def _close(self, leg: int, size: float, price: float, time: int, fx: float) -> None:
        spec = self.markets[leg]
        current = self.pos[leg]
        held = abs(current)
        sign = 1.0 if current > 0 else -1.0
        entry_price = self.entry_price[leg]
        if size >= held:
            entry_fee, entry_fee_run = self.entry_fee[leg], self.entry_fee_run[leg]
        else:
            share = size / held
            entry_fee = self.entry_fee[leg] * share
            entry_fee_run = self.entry_fee_run[leg] * share
        if spec.inverse:
            gross = sign * size * (1.0 / entry_price - 1.0 / price)
        elif spec.quanto:
            gross = sign * ((price - entry_price) * spec.multiplier * size)
        else:
            gross = sign * size * (price - entry_price)
        exit_fee = spec.notional(size, price) * self.fee_rate
        self.cash += (gross - exit_fee) * fx
        self.fees_paid += exit_fee * fx
        fee = entry_fee + exit_fee
        self.trades.append(
            Trade(
                spec.symbol,
                "long" if sign > 0 else "short",
                self.entry_time[leg],
                entry_price,
                size,
                int(time),
                price,
                size,
                gross - fee,
                fee,
                spec.settle,
                (gross - exit_fee) * fx - entry_fee_run,
            )
        )
        if size >= held:
            self.pos[leg] = 0.0
            self.entry_fee[leg] = 0.0
            self.entry_fee_run[leg] = 0.0
        else:
            self.pos[leg] = sign * (held - size)
            self.entry_fee[leg] -= entry_fee
            self.entry_fee_run[leg] -= entry_fee_run

    def close_all(self, prices: Sequence[float], time: int) -> None:
        """Close every open position at `prices` (no slippage: the run's end, not an order)."""
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                self._close(leg, abs(current), prices[leg], time, self.fx(leg, prices))

    # -- valuation --------------------------------------------------------------------------
    def unrealized(self, prices: Sequence[float]) -> float:
        """Open PnL (run currency) at `prices`, before exit fees."""
        total = 0.0
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                u = self.markets[leg].pnl(current, self.entry_price[leg], prices[leg])
                total = total + u * self.fx(leg, prices)
        return total

    def equity(self, prices: Sequence[float]) -> float:
        """Mark-to-market equity at `prices` (the vectorised twin is `equity_series`)."""
        eq = self.cash
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                u = self.markets[leg].pnl(current, self.entry_price[leg], prices[leg])
                eq = eq + u * self.fx(leg, prices)
        return eq

    def snapshot(self) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
        return self.cash, tuple(self.pos), tuple(self.entry_price)


def equity_series(
    account: Account, snap_index: np.ndarray, snaps: list, closes: Sequence[np.ndarray], first: int
) -> tuple[np.ndarray, np.ndarray]:
    """Equity at candle closes first..first+len(closes[0])-1, and whether any position was open.

    `snaps[s]` is the account state (cash, positions, entries) from candle `snap_index[s]` on;
    arithmetic mirrors Account.equity exactly so live and backtest curves are equal.
    """
    n = len(closes[0])
    candles = np.arange(first, first + n)
    seg = np.searchsorted(snap_index, candles, side="right") - 1
    cash = np.array([s[0] for s in snaps])[seg]
    eq = cash
    exposed = np.zeros(n, dtype=bool)
    fxs = account.fx_arrays(closes)
    for leg, spec in enumerate(account.markets):
        pos = np.array([s[1][leg] for s in snaps])[seg]
        if not pos.any():
            continue
        entry = np.array([s[2][leg] if s[1][leg] != 0.0 else 1.0 for s in snaps])[seg]
        close = closes[leg]
        if spec.inverse:
            u = pos * (1.0 / entry - 1.0 / close)
        elif spec.quanto:
            u = (close - entry) * spec.multiplier * pos
        else:
            u = pos * (close - entry)
        held = pos != 0.0
        exposed |= held
        if fxs[leg] is not None:
            u = u * fxs[leg]
        eq = np.where(held, eq + u, eq)
    return eq, exposed
