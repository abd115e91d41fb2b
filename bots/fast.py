"""The compiled rules path (numba): signal walk, fills, PnL, equity marking, chart points.

`bots.runners.compiled` calls `walk_chunk` for a strategy whose decisions are `rules()`; the
Python path (`Account.fill`, `equity_series`, `downsample`) stays the reference, and every
operation here mirrors it in the same order, so both give the very same floats (the parity
test in tests/bots/test_engine_fast.py runs every built-in strategy through both).

The account's own kernels (fills, sizing, margin, funding, liquidation) are in
bots.fast_account. Compiled functions are cached on disk (`cache=True`: in NUMBA_CACHE_DIR when set, else in
bots/__pycache__; bots/__init__.py picks a writable place for a read-only checkout). `warm()`
compiles or loads them, so a worker pays for that once, when it starts, not in its first run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from bots.fast_account import (
    A_CASH,
    A_FUNDING,
    A_HALTED,
    ACCT_SIZE,
    B_ENTRY,
    B_POS,
    BOOK_ROWS,
    INVERSE,
    LINEAR,
    QUANTO,
    S_FXDIV,
    S_FXLEG,
    S_KIND,
    S_MULT,
    SPEC_ROWS,
    TRADE_COLUMNS,
    far_from,
    fill,
    fund,
    guard,
    liquidate_check,
)
from bots.markets import MarketSpec

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _mark(k, closes, spec, cash, book):
    """Equity at candle k's close (equity_series: cash, then each open leg's PnL in order)."""
    eq = cash
    held = False
    for leg in range(book.shape[1]):
        p = book[B_POS, leg]
        if p == 0.0:
            continue
        held = True
        c = closes[leg, k]
        kd = int(spec[S_KIND, leg])
        entry = book[B_ENTRY, leg]
        if kd == INVERSE:
            u = p * (1.0 / entry - 1.0 / c)
        elif kd == QUANTO:
            u = (c - entry) * spec[S_MULT, leg] * p
        else:
            u = p * (c - entry)
        f = int(spec[S_FXLEG, leg])
        if f >= 0:
            if spec[S_FXDIV, leg] != 0.0:
                u = u * (1.0 / closes[f, k])
            else:
                u = u * closes[f, k]
        eq = eq + u
    return eq, held


@_jit
def walk_chunk(c0, c1, s0, n, state, pending, flat, rule_when, rule_mask, rule_then, masks, state_pos, times, opens,
               highs, lows, closes, frates, has_funding, spec, conf, acct, book):  # fmt: skip
    """The rules over candles [c0, c1): at each candle's open funding, the fill asked for
    and the liquidation check, then the mark at its close and the rules' decision.

    `state` indexes `state_pos` (the strategy's positions); `pending` is a state to fill at
    c0's open (-1: none); `flat` is the all-zero state. masks[rule_mask[r], i - s0] says
    whether rule r fires after candle i. Returns (trades, trade count, events, event count,
    equity at each close, candles with a position, state, pending state at c1 or -1).
    """
    m = c1 - c0
    legs = book.shape[1]
    trades = np.empty((64, TRADE_COLUMNS))
    nt = 0
    events = np.empty((8, 6 + legs))
    ne = 0
    equity = np.empty(m)
    exposed = 0
    prices = np.empty(legs)
    hi = np.empty(legs)
    lo = np.empty(legs)
    n_rules = rule_when.shape[0]
    single = legs == 1
    level = guard(acct, book, spec)
    for i in range(c0, c1):
        if acct[A_HALTED] != 0.0:
            equity[i - c0] = acct[A_CASH]
            pending = -1
            continue
        for leg in range(legs):
            prices[leg] = opens[leg, i]
        due = False
        if has_funding:
            for leg in range(legs):
                if frates[leg, i] != 0.0:
                    due = True
        if due:
            paid = acct[A_FUNDING]
            fund(i, frates, prices, acct, book, spec)
            if acct[A_FUNDING] != paid:
                level = guard(acct, book, spec)
        if pending >= 0:
            t = times[i]
            for leg in range(legs):
                target = state_pos[pending, leg]
                old = state_pos[state, leg]
                if target != old:
                    trades, nt, events, ne = fill(leg, target, old, prices[leg], t, prices, acct, book, spec, conf,
                                                  trades, nt, events, ne)  # fmt: skip
            state = pending
            pending = -1
            level = guard(acct, book, spec)
        q = book[B_POS, 0]
        if not (single and (q == 0.0 or far_from(level, q, lows[0, i], highs[0, i]))):
            for leg in range(legs):
                hi[leg] = highs[leg, i]
                lo[leg] = lows[leg, i]
            trades, nt, events, ne = liquidate_check(times[i], prices, hi, lo, acct, book, spec, conf, trades, nt,
                                                     events, ne)  # fmt: skip
        if acct[A_HALTED] != 0.0:
            state = flat
        eq, held = _mark(i, closes, spec, acct[A_CASH], book)
        equity[i - c0] = eq
        if held:
            exposed += 1
        if acct[A_HALTED] != 0.0:
            continue
        for r in range(n_rules):
            if rule_when[r] == state and masks[rule_mask[r], i - s0]:
                if rule_then[r] != state:
                    pending = rule_then[r]
                break
    if c1 >= n:
        pending = -1
    return trades, nt, events, ne, equity, exposed, state, pending


@_jit
def downsample_chunk(times, values, bucket, offset):
    """bots.metrics.downsample: min and max of each bucket (global index multiples), in order."""
    n = values.shape[0]
    out_t = np.empty(2 * (n // max(bucket, 1) + 2), dtype=np.int64)
    out_v = np.empty(out_t.shape[0])
    k = 0
    s = 0
    first = (-offset) % bucket
    while s < n:
        e = first if (s == 0 and first > 0) else s + bucket
        if e > n:
            e = n
        i_min = s
        i_max = s
        for i in range(s + 1, e):
            v = values[i]
            if v < values[i_min]:
                i_min = i
            if v > values[i_max]:
                i_max = i
        a, b = (i_min, i_max) if i_min <= i_max else (i_max, i_min)
        out_t[k] = times[a]
        out_v[k] = values[a]
        k += 1
        if b != a:
            out_t[k] = times[b]
            out_v[k] = values[b]
            k += 1
        s = e
    return out_t[:k], out_v[:k]


def spec_array(markets: Sequence[MarketSpec], fx_plan, maintenance, funding) -> np.ndarray:
    """Per-leg market and account facts as the kernels take them (bots.fast_account S_*)."""
    spec = np.zeros((SPEC_ROWS, len(markets)))
    for leg, m in enumerate(markets):
        plan = fx_plan[leg]
        spec[:, leg] = (
            INVERSE if m.inverse else QUANTO if m.quanto else LINEAR,
            float(m.multiplier),
            -1 if plan is None else plan[0],
            0.0 if plan is None else float(bool(plan[1])),
            float(maintenance[leg]),
            float(m.lot_size),
            float(bool(funding[leg])),
        )
    return spec


def warm() -> None:
    """Compile (or load from the disk cache) every kernel, on a tiny input."""
    n = 8
    times = np.arange(n, dtype=np.int64) * 60
    px = np.linspace(100.0, 101.0, n).reshape(1, n)
    spec = spec_array([MarketSpec("WARM", "W", "USD", "USD")], [None], [0.005], [True])
    conf = np.array([0.001, 0.0, 1.0, 0.0])
    masks = np.ones((1, n), dtype=np.bool_)
    frates = np.zeros((1, n))
    walk_chunk(
        0, n, 0, n, 0, -1, 0,
        np.array([0, 1], dtype=np.int64), np.array([0, 0], dtype=np.int64), np.array([1, 0], dtype=np.int64),
        masks, np.array([[0.0], [1.0]]), times, px, px, px, px, frates, True, spec, conf,
        np.zeros(ACCT_SIZE), np.zeros((BOOK_ROWS, 1)),
    )  # fmt: skip
    # A sweep's grid (bots.runners.compiled.CompiledLegs.walk_many): two configs, argument types
    # as it passes them, so a worker's first sweep loads this kernel rather than compiling it.
    two = np.zeros(2, dtype=np.int64)
    walk_many(
        0, n, 0, n, two, two - 1, two, np.array([0, 2, 4], dtype=np.int64), np.array([0, 1, 0, 1], dtype=np.int64),
        np.zeros(4, dtype=np.int64), np.array([1, 0, 1, 0], dtype=np.int64), masks,
        np.array([0, 2, 4], dtype=np.int64), np.array([[0.0], [1.0], [0.0], [1.0]]), times, px, px, px, px, frates,
        True, np.stack([spec, spec]), np.stack([conf, conf]), np.zeros((2, ACCT_SIZE)),
        np.zeros((2, BOOK_ROWS, 1)),
    )  # fmt: skip
    downsample_chunk(times, px[0], 2, 0)


@_jit
def walk_many(c0, c1, s0, n, states, pendings, flats, rule_off, rule_when, rule_mask, rule_then, masks, state_off,
              state_pos, times, opens, highs, lows, closes, frates, has_funding, spec, conf, acct, book):  # fmt: skip
    """walk_chunk for many configs of one market in one call (a sweep's chunk of runs).

    Config b has rules rule_*[rule_off[b]:rule_off[b+1]] over the shared `masks` bank, states
    state_pos[state_off[b]:state_off[b+1]] (its flat state flats[b]), spec[b], conf[b] and
    account rows acct[b], book[b], updated in place. Returns (trades of all configs, trade
    offsets per config, events of all, event offsets, equity per config, candles held,
    states, pending states).
    """
    count = states.shape[0]
    legs = book.shape[2]
    equity = np.empty((count, c1 - c0))
    exposed = np.zeros(count, dtype=np.int64)
    offsets = np.zeros(count + 1, dtype=np.int64)
    ev_offsets = np.zeros(count + 1, dtype=np.int64)
    out_states = np.empty(count, dtype=np.int64)
    out_pending = np.empty(count, dtype=np.int64)
    all_trades = np.empty((64, TRADE_COLUMNS))
    all_events = np.empty((8, 6 + legs))
    total = 0
    ev_total = 0
    for b in range(count):
        r0, r1 = rule_off[b], rule_off[b + 1]
        trades, nt, events, ne, eq, held, state, pend = walk_chunk(
            c0, c1, s0, n, states[b], pendings[b], flats[b], rule_when[r0:r1], rule_mask[r0:r1], rule_then[r0:r1],
            masks, state_pos[state_off[b]:state_off[b + 1]], times, opens, highs, lows, closes, frates, has_funding,
            spec[b], conf[b], acct[b], book[b],
        )  # fmt: skip
        if total + nt > all_trades.shape[0]:
            grown = np.empty((2 * (total + nt) + 16, TRADE_COLUMNS))
            grown[:total] = all_trades[:total]
            all_trades = grown
        all_trades[total : total + nt] = trades[:nt]
        total += nt
        offsets[b + 1] = total
        if ev_total + ne > all_events.shape[0]:
            grown_ev = np.empty((2 * (ev_total + ne) + 8, 6 + legs))
            grown_ev[:ev_total] = all_events[:ev_total]
            all_events = grown_ev
        all_events[ev_total : ev_total + ne] = events[:ne]
        ev_total += ne
        ev_offsets[b + 1] = ev_total
        equity[b] = eq
        exposed[b] = held
        out_states[b] = state
        out_pending[b] = pend
    return (
        all_trades[:total],
        offsets,
        all_events[:ev_total],
        ev_offsets,
        equity,
        exposed,
        out_states,
        out_pending,
    )
