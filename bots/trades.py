"""Closed trades: the Trade record, and the TradeLog that holds a run's trades as records or
as blocks of the compiled path's numeric rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class Trade:
    """A closed trade. Prices in quote currency; realized_pnl and fee in `currency`.

    realized_pnl = gross PnL - fee - funding, where fee = entry fee + exit fee of this trade
    (a liquidation's exit fee is the liquidation fee) and funding what it paid while open.
    Sizes are positive (contracts for inverse markets, base units for linear ones).
    `run_pnl` is realized_pnl converted to the run's currency (equal when they are the same).
    `exit_reason`: "signal", "end" (the run's end) or "liquidation".
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
    exit_reason: str = "signal"
    funding: float = 0.0


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
    ROW_REASON,
    ROW_FUNDING,
) = range(12)
# A row's exit reason by its code (ROW_REASON).
REASONS = ("signal", "end", "liquidation")
REASON_SIGNAL, REASON_END, REASON_LIQUIDATION = range(3)
_REASONS = np.array(REASONS, dtype=object)
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
                REASONS[reason],
                funding,
            )  # fmt: skip
            for leg, side, et, ep, size, xt, xp, pnl, fee, run_pnl, reason, funding in zip(
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
                cols[ROW_REASON].astype(np.int64).tolist(),
                cols[ROW_FUNDING].tolist(),
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
        currency, run_pnl, exit_reason, funding), built without Trade records where the rows
        allow."""
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
            out["exit_reason"].extend(_REASONS[cols[ROW_REASON].astype(np.int64)].tolist())
            out["funding"].extend(cols[ROW_FUNDING].tolist())
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
