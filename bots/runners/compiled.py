"""The compiled rules path (bots.fast) of a backtest: the arrays a set of legs gives the
kernels, made once, and one config's (or many configs') walk over a chunk, the account read
into arrays and written back. The Python walk in bots.runners.backtest is its reference."""

from __future__ import annotations

import numpy as np

from bots import fast
from bots.candles import Candles
from bots.strategies.base import Rule


class _Step:
    """One config's walk over [c0, c1) as the kernels take it: rules as state ids, the account
    as arrays (written back by `apply`)."""

    def __init__(self, account, rules: list[Rule], pending: tuple | None, width: int):
        states: dict[tuple[float, ...], int] = {}
        ids: dict[int, int] = {}
        self.masks: list[np.ndarray] = []
        when, which, then = [], [], []
        for rule in rules:
            when.append(states.setdefault(tuple(float(x) for x in rule.when), len(states)))
            then.append(states.setdefault(tuple(float(x) for x in rule.then), len(states)))
            if id(rule.mask) not in ids:
                ids[id(rule.mask)] = len(self.masks)
                self.masks.append(np.asarray(rule.mask, dtype=np.bool_)[:width])
            which.append(ids[id(rule.mask)])
        self.state = states.setdefault(account.positions(), len(states))
        self.pending = (
            -1 if pending is None else states.setdefault(tuple(float(x) for x in pending), len(states))
        )
        self.when = np.array(when, dtype=np.int64)
        self.which = np.array(which, dtype=np.int64)
        self.then = np.array(then, dtype=np.int64)
        self.state_pos = np.array(list(states), dtype=np.float64).reshape(len(states), len(account.pos))
        self.acct = np.array([account.cash, account.fees_paid])
        self.pos = np.array(account.pos, dtype=np.float64)
        self.entry_price = np.array(account.entry_price, dtype=np.float64)
        self.entry_time = np.array(account.entry_time, dtype=np.int64)
        self.entry_fee = np.array(account.entry_fee, dtype=np.float64)
        self.entry_fee_run = np.array(account.entry_fee_run, dtype=np.float64)

    def apply(self, account, rows: np.ndarray, pending: int) -> tuple[float, ...] | None:
        """Write the kernel's account back and log its trades; return the fill pending."""
        account.cash, account.fees_paid = float(self.acct[0]), float(self.acct[1])
        account.pos = self.pos.tolist()
        account.entry_price = self.entry_price.tolist()
        account.entry_time = self.entry_time.tolist()
        account.entry_fee = self.entry_fee.tolist()
        account.entry_fee_run = self.entry_fee_run.tolist()
        account.trades.extend_rows(rows)
        return None if pending < 0 else tuple(self.state_pos[pending].tolist())


class CompiledLegs:
    """The arrays the compiled rules path (bots.fast) takes, made once per set of legs."""

    def __init__(self, account, legs: list[Candles]):
        self.times = np.ascontiguousarray(legs[0].time, dtype=np.int64)
        self.opens = np.ascontiguousarray(np.vstack([leg.open for leg in legs]), dtype=np.float64)
        self.closes = np.ascontiguousarray(np.vstack([leg.close for leg in legs]), dtype=np.float64)
        self.kind, self.mult, self.fx_leg, self.fx_div = fast.leg_arrays(account.markets, account.fx_plan)

    def walk(
        self, account, rules: list[Rule], c0: int, c1: int, s0: int, n: int, pending: tuple | None
    ) -> tuple[np.ndarray, int, tuple[float, ...] | None]:
        """The rules over [c0, c1) in compiled code; the account is updated as Account.fill would.

        Returns (equity at each close, candles with a position, fill pending at c1).
        """
        step = _Step(account, rules, pending, c1 - s0)
        mask_arr = np.zeros((max(1, len(step.masks)), c1 - s0), dtype=np.bool_)
        for k, mask in enumerate(step.masks):
            mask_arr[k] = mask
        rows, nt, equity, exposed, _, pend = fast.walk_chunk(
            c0, c1, s0, n, step.state, step.pending, step.when, step.which, step.then, mask_arr,
            step.state_pos, self.times, self.opens, self.closes, self.kind, self.mult, self.fx_leg,
            self.fx_div, account.fee_rate, account.slippage, step.acct, step.pos, step.entry_price,
            step.entry_time, step.entry_fee, step.entry_fee_run,
        )  # fmt: skip
        pending = step.apply(account, rows[:nt].copy(), pend)
        return equity, int(exposed), pending

    def walk_many(
        self, accounts: list, rules: list[list[Rule]], c0: int, c1: int, s0: int, n: int
    ) -> list[tuple[np.ndarray, int, tuple[float, ...] | None]]:
        """`walk` for many configs in one compiled call; masks they share are passed once.

        Returns per config (equity at each close, candles held, fill pending at c1).
        """
        steps = [_Step(account, r, None, c1 - s0) for account, r in zip(accounts, rules, strict=True)]
        bank: dict[int, int] = {}
        masks: list[np.ndarray] = []
        which = []
        for step in steps:
            local = []
            for mask in step.masks:
                # a step's masks are views of the rules' arrays: configs sharing one share its view
                key = id(mask if mask.base is None else mask.base)
                if key not in bank:
                    bank[key] = len(masks)
                    masks.append(mask)
                local.append(bank[key])
            which.append(np.array(local, dtype=np.int64)[step.which])
        mask_arr = np.zeros((max(1, len(masks)), c1 - s0), dtype=np.bool_)
        for k, mask in enumerate(masks):
            mask_arr[k] = mask

        def offsets(parts):
            return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)

        books = [
            np.stack([getattr(s, name) for s in steps])
            for name in ("acct", "pos", "entry_price", "entry_time", "entry_fee", "entry_fee_run")
        ]
        rows, trade_off, equity, exposed, _, pend = fast.walk_many(
            c0, c1, s0, n,
            np.array([s.state for s in steps], dtype=np.int64), np.array([s.pending for s in steps], dtype=np.int64),
            offsets([s.when for s in steps]), np.concatenate([s.when for s in steps]), np.concatenate(which),
            np.concatenate([s.then for s in steps]), mask_arr, offsets([s.state_pos for s in steps]),
            np.concatenate([s.state_pos for s in steps]), self.times, self.opens, self.closes, self.kind,
            self.mult, self.fx_leg, self.fx_div, np.array([a.fee_rate for a in accounts]),
            np.array([a.slippage for a in accounts]), *books,
        )  # fmt: skip
        out = []
        for b, (step, account) in enumerate(zip(steps, accounts, strict=True)):
            # the kernel updated the stacked accounts: this config's rows are its state now
            step.acct, step.pos, step.entry_price, step.entry_time, step.entry_fee, step.entry_fee_run = (
                book[b] for book in books
            )
            pending = step.apply(account, rows[trade_off[b] : trade_off[b + 1]], int(pend[b]))
            out.append((equity[b], int(exposed[b]), pending))
        return out
