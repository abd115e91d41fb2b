"""Fills and position bookkeeping: the account plus the snapshots the vectorised equity needs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bots.runners.config import RunConfig
from bots.simulator import Account


class Book:
    """The account plus a snapshot after each fill, with the candle index it happened at.

    The backtest computes the equity of a whole chunk at once from these snapshots
    (`bots.simulator.equity_series`) instead of marking the account at every candle.
    """

    def __init__(self, config: RunConfig):
        self.account = Account(config.markets, config.initial_balance, config.fee_bps, config.slippage_bps)
        self.snap_index: list[int] = [-1]
        self.snaps: list[tuple] = [self.account.snapshot()]

    def fill(self, targets: Sequence[float], k: int, times: np.ndarray, opens: Sequence[np.ndarray]) -> None:
        """Fill `targets` at candle k's open."""
        account = self.account
        prices = [o.item(k) for o in opens]  # .item: a Python float, fast
        t = times.item(k)
        for leg, target in enumerate(targets):
            if target != account.pos[leg]:
                account.fill(leg, target, prices[leg], t, prices)
        self.snap_index.append(k)
        self.snaps.append((account.cash, tuple(account.pos), tuple(account.entry_price)))

    def fill_many(
        self,
        fill_at: list[int],
        targets: list[tuple[float, ...]],
        times: np.ndarray,
        opens: Sequence[np.ndarray],
    ) -> None:
        """Fill each `targets[j]` at candle `fill_at[j]`'s open, in order."""
        if not fill_at:
            return
        index = np.asarray(fill_at)
        leg_prices = [o[index].tolist() for o in opens]
        fill_times = times[index].tolist()
        account = self.account
        pos, fill = account.pos, account.fill
        snap_index, snaps = self.snap_index, self.snaps
        if len(opens) == 1:
            for k, target, price, t in zip(fill_at, targets, leg_prices[0], fill_times, strict=True):
                fill(0, target[0], price, t, (price,))
                snap_index.append(k)
                snaps.append((account.cash, (pos[0],), (account.entry_price[0],)))
            return
        for j, (k, target, t) in enumerate(zip(fill_at, targets, fill_times, strict=True)):
            prices = [p[j] for p in leg_prices]
            for leg, size in enumerate(target):
                if size != pos[leg]:
                    fill(leg, size, prices[leg], t, prices)
            snap_index.append(k)
            snaps.append((account.cash, tuple(pos), tuple(account.entry_price)))
