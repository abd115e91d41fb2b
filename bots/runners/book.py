"""Fills and position bookkeeping: the account plus the snapshots the vectorised equity needs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bots.runners.config import RunConfig
from bots.simulator import Account


class Book:
    """The account plus a snapshot after each change of it, with the candle index it happened at.

    The backtest computes the equity of a whole chunk at once from these snapshots
    (`bots.simulator.equity_series`) instead of marking the account at every candle.
    """

    def __init__(self, config: RunConfig):
        self.account = Account.for_config(config)
        self.snap_index: list[int] = [-1]
        self.snaps: list[tuple] = [self.account.snapshot()]

    def open_candle(
        self,
        k: int,
        targets: Sequence[float] | None,
        times: np.ndarray,
        opens: Sequence[np.ndarray],
        highs: Sequence[np.ndarray],
        lows: Sequence[np.ndarray],
        frates: np.ndarray | None,
    ) -> None:
        """Candle k from its open: funding due at it, the fill of `targets` (None: no order),
        then the liquidation check over its range. Snapshot when the account changed."""
        account = self.account
        if account.halted:
            return
        prices = [o.item(k) for o in opens]  # .item: a Python float, fast
        changed = False
        if frates is not None and account.holding():
            changed = account.fund(frates[:, k].tolist(), prices)
        if targets is not None:
            t = times.item(k)
            for leg, target in enumerate(targets):
                if target != account.intent[leg]:
                    account.fill(leg, target, prices[leg], t, prices)
            changed = True
        if account.holding():
            hi = [h.item(k) for h in highs]
            lo = [low.item(k) for low in lows]
            changed = account.check_liquidation(prices, hi, lo, times.item(k)) or changed
        if changed:
            self.snap_index.append(k)
            self.snaps.append(account.snapshot())
