"""The compiled rules path (bots.fast) of a backtest: the arrays a set of legs gives the
kernels, made once, and one config's (or many configs') walk over a chunk, the account read
into arrays and written back. The Python walk in bots.runners.backtest is its reference."""

from __future__ import annotations

import numpy as np

from bots import fast
from bots.candles import Candles
from bots.fast_account import (
    A_CASH,
    A_FEES,
    A_FUNDING,
    A_HALTED,
    A_LIQ,
    A_REDUCED,
    A_SKIPPED,
    ACCT_SIZE,
    B_EFEE,
    B_EFEE_RUN,
    B_ENTRY,
    B_ETIME,
    B_FUND,
    B_FUND_RUN,
    B_POS,
    BOOK_ROWS,
)
from bots.strategies.base import Rule


def account_arrays(account) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(spec, conf, acct, book): the account as bots.fast_account's kernels take it."""
    spec = fast.spec_array(account.markets, account.fx_plan, account.mm, account.funding_on)
    conf = np.array([account.fee_rate, account.slippage, account.leverage, float(account.sizing)])
    acct = np.zeros(ACCT_SIZE)
    acct[A_CASH], acct[A_FEES], acct[A_FUNDING] = account.cash, account.fees_paid, account.funding_paid
    acct[A_HALTED] = 1.0 if account.halted else 0.0
    acct[A_LIQ], acct[A_REDUCED], acct[A_SKIPPED] = account.liquidations, account.reduced, account.skipped
    book = np.zeros((BOOK_ROWS, len(account.pos)))
    book[B_POS] = account.pos
    book[B_ENTRY] = account.entry_price
    book[B_ETIME] = account.entry_time
    book[B_EFEE] = account.entry_fee
    book[B_EFEE_RUN] = account.entry_fee_run
    book[B_FUND] = account.fund_open
    book[B_FUND_RUN] = account.fund_open_run
    return spec, conf, acct, book


def account_apply(
    account, acct: np.ndarray, book: np.ndarray, intent, rows: np.ndarray, events: np.ndarray
) -> None:
    """Write the kernel's account back into `account`, with its trades and events."""
    account.cash, account.fees_paid, account.funding_paid = (
        float(acct[k]) for k in (A_CASH, A_FEES, A_FUNDING)
    )
    account.halted = bool(acct[A_HALTED])
    account.liquidations, account.reduced, account.skipped = (
        int(acct[k]) for k in (A_LIQ, A_REDUCED, A_SKIPPED)
    )
    account.pos = book[B_POS].tolist()
    account.entry_price = book[B_ENTRY].tolist()
    account.entry_time = [int(t) for t in book[B_ETIME].tolist()]
    account.entry_fee = book[B_EFEE].tolist()
    account.entry_fee_run = book[B_EFEE_RUN].tolist()
    account.fund_open = book[B_FUND].tolist()
    account.fund_open_run = book[B_FUND_RUN].tolist()
    account.intent = [float(x) for x in intent]
    account.trades.extend_rows(rows)
    account.events.extend(tuple(row.tolist()) for row in events)


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
        self.flat = states.setdefault(tuple(0.0 for _ in account.pos), len(states))
        self.pending = (
            -1 if pending is None else states.setdefault(tuple(float(x) for x in pending), len(states))
        )
        self.when = np.array(when, dtype=np.int64)
        self.which = np.array(which, dtype=np.int64)
        self.then = np.array(then, dtype=np.int64)
        self.state_pos = np.array(list(states), dtype=np.float64).reshape(len(states), len(account.pos))
        self.spec, self.conf, self.acct, self.book = account_arrays(account)

    def apply(self, account, rows: np.ndarray, events: np.ndarray, state: int, pending: int):
        """Write the kernel's account back and log its trades; return the fill pending."""
        account_apply(account, self.acct, self.book, self.state_pos[state], rows, events)
        return None if pending < 0 else tuple(self.state_pos[pending].tolist())


class CompiledLegs:
    """The arrays the compiled rules path (bots.fast) takes, made once per set of legs."""

    def __init__(self, legs: list[Candles], frates: np.ndarray | None = None):
        self.times = np.ascontiguousarray(legs[0].time, dtype=np.int64)
        self.opens, self.highs, self.lows, self.closes = (
            np.ascontiguousarray(np.vstack([getattr(leg, name) for leg in legs]), dtype=np.float64)
            for name in ("open", "high", "low", "close")
        )
        self.has_funding = frates is not None and bool(np.any(frates))
        self.frates = (
            np.ascontiguousarray(frates, dtype=np.float64) if self.has_funding else np.zeros((len(legs), 1))
        )

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
        rows, nt, events, ne, equity, exposed, state, pend = fast.walk_chunk(
            c0, c1, s0, n, step.state, step.pending, step.flat, step.when, step.which, step.then, mask_arr,
            step.state_pos, self.times, self.opens, self.highs, self.lows, self.closes, self.frates,
            self.has_funding, step.spec, step.conf, step.acct, step.book,
        )  # fmt: skip
        pending = step.apply(account, rows[:nt].copy(), events[:ne], int(state), pend)
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

        spec, conf, acct, book = (
            np.stack([getattr(s, name) for s in steps]) for name in ("spec", "conf", "acct", "book")
        )
        state_off = offsets([s.state_pos for s in steps])
        rows, trade_off, events, ev_off, equity, exposed, states, pend = fast.walk_many(
            c0, c1, s0, n,
            np.array([s.state for s in steps], dtype=np.int64), np.array([s.pending for s in steps], dtype=np.int64),
            np.array([s.flat for s in steps], dtype=np.int64),
            offsets([s.when for s in steps]), np.concatenate([s.when for s in steps]), np.concatenate(which),
            np.concatenate([s.then for s in steps]), mask_arr, state_off,
            np.concatenate([s.state_pos for s in steps]), self.times, self.opens, self.highs, self.lows, self.closes,
            self.frates, self.has_funding, spec, conf, acct, book,
        )  # fmt: skip
        out = []
        for b, (step, account) in enumerate(zip(steps, accounts, strict=True)):
            # the kernel updated the stacked accounts: this config's rows are its state now
            step.acct, step.book = acct[b], book[b]
            pending = step.apply(
                account,
                rows[trade_off[b] : trade_off[b + 1]],
                events[ev_off[b] : ev_off[b + 1]],
                int(states[b]),
                int(pend[b]),
            )
            out.append((equity[b], int(exposed[b]), pending))
        return out
