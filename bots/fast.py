"""The compiled rules path (numba): signal walk, fills, PnL, equity marking, chart points.

`bots.runners.compiled` calls `walk_chunk` for a strategy whose decisions are `rules()`; the
Python path (`Account.fill`, `equity_series`, `downsample`) stays the reference, and every
operation here mirrors it in the same order, so both give the very same floats (the parity
test in tests/bots/test_engine_fast.py runs every built-in strategy through both).

Compiled functions are cached on disk (`cache=True`: in NUMBA_CACHE_DIR when set, else in
bots/__pycache__; bots/__init__.py picks a writable place for a read-only checkout). `warm()`
compiles or loads them, so a worker pays for that once, when it starts, not in its first run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from bots.markets import MarketSpec

LINEAR, INVERSE, QUANTO = 0, 1, 2
# Trade columns: leg, side (1 long, -1 short), entry_time, entry_price, size, exit_time,
# exit_price, realized_pnl, fee, run_pnl.
T_LEG, T_SIDE, T_ENTRY_TIME, T_ENTRY, T_SIZE, T_EXIT_TIME, T_EXIT, T_PNL, T_FEE, T_RUN_PNL = range(10)
TRADE_COLUMNS = 10
# Account vector: cash, fees_paid.
A_CASH, A_FEES = 0, 1

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _notional(kind, mult, size, price):
    if kind == INVERSE:
        return abs(size) / price
    if kind == QUANTO:
        return abs(size) * price * mult
    return abs(size) * price


@_jit
def _fx(fx_leg, fx_div, leg, prices):
    k = fx_leg[leg]
    if k < 0:
        return 1.0
    if fx_div[leg]:
        return 1.0 / prices[k]
    return prices[k]


@_jit
def _close(leg, size, price, time, fx, kind, mult, fee_rate, acct, pos, entry_price, entry_time, entry_fee,
           entry_fee_run, trades, nt):  # fmt: skip
    """Account._close: close `size` of leg's position at `price`; returns the trade count."""
    current = pos[leg]
    held = abs(current)
    sign = 1.0 if current > 0 else -1.0
    ep = entry_price[leg]
    if size >= held:
        efee = entry_fee[leg]
        efee_run = entry_fee_run[leg]
    else:
        share = size / held
        efee = entry_fee[leg] * share
        efee_run = entry_fee_run[leg] * share
    k = kind[leg]
    if k == INVERSE:
        gross = sign * size * (1.0 / ep - 1.0 / price)
    elif k == QUANTO:
        gross = sign * ((price - ep) * mult[leg] * size)
    else:
        gross = sign * size * (price - ep)
    exit_fee = _notional(k, mult[leg], size, price) * fee_rate
    acct[A_CASH] += (gross - exit_fee) * fx
    acct[A_FEES] += exit_fee * fx
    fee = efee + exit_fee
    if nt >= trades.shape[0]:
        grown = np.empty((trades.shape[0] * 2 + 16, TRADE_COLUMNS))
        grown[:nt] = trades[:nt]
        trades = grown
    row = trades[nt]
    row[T_LEG] = leg
    row[T_SIDE] = sign
    row[T_ENTRY_TIME] = entry_time[leg]
    row[T_ENTRY] = ep
    row[T_SIZE] = size
    row[T_EXIT_TIME] = time
    row[T_EXIT] = price
    row[T_PNL] = gross - fee
    row[T_FEE] = fee
    row[T_RUN_PNL] = (gross - exit_fee) * fx - efee_run
    if size >= held:
        pos[leg] = 0.0
        entry_fee[leg] = 0.0
        entry_fee_run[leg] = 0.0
    else:
        pos[leg] = sign * (held - size)
        entry_fee[leg] -= efee
        entry_fee_run[leg] -= efee_run
    return trades, nt + 1


@_jit
def _fill(leg, target, open_price, time, prices, kind, mult, fx_leg, fx_div, fee_rate, slippage, acct, pos,
          entry_price, entry_time, entry_fee, entry_fee_run, trades, nt):  # fmt: skip
    """Account.fill: bring leg's position to `target` with a market order at `open_price`."""
    current = pos[leg]
    if target == current:
        return trades, nt
    if target > current:
        price = open_price * (1.0 + slippage)
    else:
        price = open_price * (1.0 - slippage)
    fx = _fx(fx_leg, fx_div, leg, prices)
    if current != 0.0 and (target == 0.0 or (target > 0.0) != (current > 0.0)):
        trades, nt = _close(leg, abs(current), price, time, fx, kind, mult, fee_rate, acct, pos, entry_price,
                            entry_time, entry_fee, entry_fee_run, trades, nt)  # fmt: skip
        current = 0.0
        if target == 0.0:
            return trades, nt
    if abs(target) < abs(current):
        trades, nt = _close(leg, abs(current) - abs(target), price, time, fx, kind, mult, fee_rate, acct, pos,
                            entry_price, entry_time, entry_fee, entry_fee_run, trades, nt)  # fmt: skip
        pos[leg] = target
        return trades, nt
    added = abs(target) - abs(current)
    fee = _notional(kind[leg], mult[leg], added, price) * fee_rate
    acct[A_CASH] -= fee * fx
    acct[A_FEES] += fee * fx
    if current == 0.0:
        entry_price[leg] = price
        entry_time[leg] = time
        entry_fee[leg] = fee
        entry_fee_run[leg] = fee * fx
    else:
        held = abs(current)
        old = entry_price[leg]
        if kind[leg] == INVERSE:
            entry_price[leg] = (held + added) / (held / old + added / price)
        else:
            entry_price[leg] = (held * old + added * price) / (held + added)
        entry_fee[leg] += fee
        entry_fee_run[leg] += fee * fx
    pos[leg] = target
    return trades, nt


@_jit
def _mark(k, closes, kind, mult, fx_leg, fx_div, cash, pos, entry_price):
    """Equity at candle k's close (equity_series: cash, then each open leg's PnL in order)."""
    eq = cash
    held = False
    for leg in range(pos.shape[0]):
        p = pos[leg]
        if p == 0.0:
            continue
        held = True
        c = closes[leg, k]
        kd = kind[leg]
        if kd == INVERSE:
            u = p * (1.0 / entry_price[leg] - 1.0 / c)
        elif kd == QUANTO:
            u = (c - entry_price[leg]) * mult[leg] * p
        else:
            u = p * (c - entry_price[leg])
        f = fx_leg[leg]
        if f >= 0:
            if fx_div[leg]:
                u = u * (1.0 / closes[f, k])
            else:
                u = u * closes[f, k]
        eq = eq + u
    return eq, held


@_jit
def walk_chunk(c0, c1, s0, n, state, pending, rule_when, rule_mask, rule_then, masks, state_pos, times, opens,
               closes, kind, mult, fx_leg, fx_div, fee_rate, slippage, acct, pos, entry_price, entry_time,
               entry_fee, entry_fee_run):  # fmt: skip
    """The rules over candles [c0, c1): decide after each close, fill at the next open, mark.

    `state` indexes `state_pos` (the current positions); `pending` is a state to fill at c0's
    open (-1: none). masks[rule_mask[r], i - s0] says whether rule r fires after candle i.
    Returns (trades, trade count, equity at each close, candles with a position, state,
    pending state at c1 or -1).
    """
    m = c1 - c0
    legs = pos.shape[0]
    trades = np.empty((64, TRADE_COLUMNS))
    nt = 0
    equity = np.empty(m)
    exposed = 0
    prices = np.empty(legs)
    n_rules = rule_when.shape[0]
    for i in range(c0, c1):
        if pending >= 0:
            for leg in range(legs):
                prices[leg] = opens[leg, i]
            t = times[i]
            for leg in range(legs):
                target = state_pos[pending, leg]
                if target != pos[leg]:
                    trades, nt = _fill(leg, target, prices[leg], t, prices, kind, mult, fx_leg, fx_div, fee_rate,
                                       slippage, acct, pos, entry_price, entry_time, entry_fee, entry_fee_run,
                                       trades, nt)  # fmt: skip
            state = pending
            pending = -1
        eq, held = _mark(i, closes, kind, mult, fx_leg, fx_div, acct[A_CASH], pos, entry_price)
        equity[i - c0] = eq
        if held:
            exposed += 1
        for r in range(n_rules):
            if rule_when[r] == state and masks[rule_mask[r], i - s0]:
                if rule_then[r] != state:
                    pending = rule_then[r]
                break
    if c1 >= n:
        pending = -1
    return trades, nt, equity, exposed, state, pending


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


def leg_arrays(markets: Sequence[MarketSpec], fx_plan) -> tuple[np.ndarray, ...]:
    """Per-leg contract kind, multiplier and conversion plan as the kernels take them."""
    kind = np.array(
        [INVERSE if m.inverse else QUANTO if m.quanto else LINEAR for m in markets], dtype=np.int64
    )
    mult = np.array([float(m.multiplier) for m in markets])
    fx_leg = np.array([-1 if p is None else p[0] for p in fx_plan], dtype=np.int64)
    fx_div = np.array([False if p is None else bool(p[1]) for p in fx_plan])
    return kind, mult, fx_leg, fx_div


def warm() -> None:
    """Compile (or load from the disk cache) every kernel, on a tiny input."""
    n = 8
    times = np.arange(n, dtype=np.int64) * 60
    px = np.linspace(100.0, 101.0, n).reshape(1, n)
    kind, mult, fx_leg, fx_div = leg_arrays([MarketSpec("WARM", "W", "USD", "USD")], [None])
    masks = np.ones((1, n), dtype=np.bool_)
    walk_chunk(
        0, n, 0, n, 0, -1,
        np.array([0, 1], dtype=np.int64), np.array([0, 0], dtype=np.int64), np.array([1, 0], dtype=np.int64),
        masks, np.array([[0.0], [1.0]]), times, px, px, kind, mult, fx_leg, fx_div, 0.001, 0.0,
        np.array([1000.0, 0.0]), np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1),
    )  # fmt: skip
    # A sweep's grid (bots.runners.compiled.CompiledLegs.walk_many): two configs, argument types
    # as it passes them, so a worker's first sweep loads this kernel rather than compiling it.
    two = np.zeros(2, dtype=np.int64)
    walk_many(
        0, n, 0, n, two, two - 1, np.array([0, 2, 4], dtype=np.int64), np.array([0, 1, 0, 1], dtype=np.int64),
        np.zeros(4, dtype=np.int64), np.array([1, 0, 1, 0], dtype=np.int64), masks,
        np.array([0, 2, 4], dtype=np.int64), np.array([[0.0], [1.0], [0.0], [1.0]]), times, px, px, kind, mult,
        fx_leg, fx_div, np.full(2, 0.001), np.zeros(2), np.array([[1000.0, 0.0], [1000.0, 0.0]]), np.zeros((2, 1)),
        np.zeros((2, 1)), np.zeros((2, 1), dtype=np.int64), np.zeros((2, 1)), np.zeros((2, 1)),
    )  # fmt: skip
    downsample_chunk(times, px[0], 2, 0)


@_jit
def walk_many(c0, c1, s0, n, states, pendings, rule_off, rule_when, rule_mask, rule_then, masks, state_off,
              state_pos, times, opens, closes, kind, mult, fx_leg, fx_div, fee_rate, slippage, acct, pos,
              entry_price, entry_time, entry_fee, entry_fee_run):  # fmt: skip
    """walk_chunk for many configs of one market in one call (a sweep's chunk of runs).

    Config b has rules rule_*[rule_off[b]:rule_off[b+1]] over the shared `masks` bank, states
    state_pos[state_off[b]:state_off[b+1]], fee_rate[b], slippage[b] and account row b.
    Returns (trades of all configs, trade offsets per config, equity per config, candles
    held, states, pending states); the account rows are updated in place.
    """
    count = states.shape[0]
    equity = np.empty((count, c1 - c0))
    exposed = np.zeros(count, dtype=np.int64)
    offsets = np.zeros(count + 1, dtype=np.int64)
    out_states = np.empty(count, dtype=np.int64)
    out_pending = np.empty(count, dtype=np.int64)
    all_trades = np.empty((64, TRADE_COLUMNS))
    total = 0
    for b in range(count):
        r0, r1 = rule_off[b], rule_off[b + 1]
        trades, nt, eq, held, state, pend = walk_chunk(
            c0, c1, s0, n, states[b], pendings[b], rule_when[r0:r1], rule_mask[r0:r1], rule_then[r0:r1], masks,
            state_pos[state_off[b]:state_off[b + 1]], times, opens, closes, kind, mult, fx_leg, fx_div,
            fee_rate[b], slippage[b], acct[b], pos[b], entry_price[b], entry_time[b], entry_fee[b],
            entry_fee_run[b],
        )  # fmt: skip
        if total + nt > all_trades.shape[0]:
            grown = np.empty((2 * (total + nt) + 16, TRADE_COLUMNS))
            grown[:total] = all_trades[:total]
            all_trades = grown
        all_trades[total : total + nt] = trades[:nt]
        total += nt
        offsets[b + 1] = total
        equity[b] = eq
        exposed[b] = held
        out_states[b] = state
        out_pending[b] = pend
    return all_trades[:total], offsets, equity, exposed, out_states, out_pending
