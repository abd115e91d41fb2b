"""The account in compiled code (numba): bots.simulator.Account's fills, sizing, margin cut,
funding and liquidation, operation for operation in the same order (the same floats).

State is packed in arrays the walk (bots.fast) carries: `acct` (A_*), the per-leg `book`
rows (B_*), the per-leg market and account facts `spec` rows (S_*), and `conf` (C_*).
"""

from __future__ import annotations

import math

import numba
import numpy as np

LINEAR, INVERSE, QUANTO = 0, 1, 2
UNITS, EQUITY, NOTIONAL = 0, 1, 2
# Trade columns, as bots.trades.ROW_*: leg, side (1 long, -1 short), entry_time, entry_price,
# size, exit_time, exit_price, realized_pnl, fee, run_pnl, exit reason, funding.
TRADE_COLUMNS = 12
REASON_SIGNAL, REASON_END, REASON_LIQUIDATION = 0, 1, 2
# Event rows, as bots.simulator's: kind, time, a, b, c, leg, then each leg's price.
EV_LIQUIDATED, EV_REDUCED, EV_SKIPPED, EV_BROKE = 1, 2, 3, 4
EVENT_FIXED = 6
BISECTIONS = 60
# acct: cash, fees paid, funding paid, halted (out of money), liquidations, orders reduced, skipped.
A_CASH, A_FEES, A_FUNDING, A_HALTED, A_LIQ, A_REDUCED, A_SKIPPED = range(7)
ACCT_SIZE = 7
# book rows per leg: position, entry price, entry time, entry fee, entry fee (run currency),
# funding of the open part, the same in run currency.
B_POS, B_ENTRY, B_ETIME, B_EFEE, B_EFEE_RUN, B_FUND, B_FUND_RUN = range(7)
BOOK_ROWS = 7
# spec rows per leg: contract kind, multiplier, fx leg (-1: none), fx divides, maintenance
# margin (fraction), lot size, pays funding.
S_KIND, S_MULT, S_FXLEG, S_FXDIV, S_MM, S_LOT, S_FUNDON = range(7)
SPEC_ROWS = 7
# conf: fee rate, slippage, leverage, sizing.
C_FEE, C_SLIP, C_LEV, C_SIZING = range(4)

_jit = numba.njit(cache=True, nogil=True)


@_jit
def notional(kind, mult, size, price):
    if kind == INVERSE:
        return abs(size) / price
    if kind == QUANTO:
        return abs(size) * price * mult
    return abs(size) * price


@_jit
def _pnl(kind, mult, size, entry, exit):
    if kind == INVERSE:
        return size * (1.0 / entry - 1.0 / exit)
    if kind == QUANTO:
        return (exit - entry) * mult * size
    return size * (exit - entry)


@_jit
def fx_of(spec, leg, prices):
    k = int(spec[S_FXLEG, leg])
    if k < 0:
        return 1.0
    if spec[S_FXDIV, leg] != 0.0:
        return 1.0 / prices[k]
    return prices[k]


@_jit
def equity(acct, book, spec, prices):
    """Account.equity."""
    eq = acct[A_CASH]
    for leg in range(book.shape[1]):
        p = book[B_POS, leg]
        if p != 0.0:
            u = _pnl(int(spec[S_KIND, leg]), spec[S_MULT, leg], p, book[B_ENTRY, leg], prices[leg])
            eq = eq + u * fx_of(spec, leg, prices)
    return eq


@_jit
def _margin_available(acct, book, spec, conf, prices):
    used = 0.0
    for leg in range(book.shape[1]):
        p = book[B_POS, leg]
        if p != 0.0:
            k = int(spec[S_KIND, leg])
            used = (
                used + notional(k, spec[S_MULT, leg], p, prices[leg]) * fx_of(spec, leg, prices) / conf[C_LEV]
            )
    v = equity(acct, book, spec, prices) - used
    return v if v > 0.0 else 0.0


@_jit
def _maintenance(book, spec, prices):
    total = 0.0
    for leg in range(book.shape[1]):
        p = book[B_POS, leg]
        if p != 0.0:
            k = int(spec[S_KIND, leg])
            total = total + spec[S_MM, leg] * notional(k, spec[S_MULT, leg], p, prices[leg]) * fx_of(
                spec, leg, prices
            )
    return total


@_jit
def _holding(book):
    for leg in range(book.shape[1]):
        if book[B_POS, leg] != 0.0:
            return True
    return False


@_jit
def _event(events, ne, kind, time, a, b, c, leg, prices):
    if ne >= events.shape[0]:
        grown = np.empty((events.shape[0] * 2 + 8, events.shape[1]))
        grown[:ne] = events[:ne]
        events = grown
    row = events[ne]
    row[0] = kind
    row[1] = time
    row[2] = a
    row[3] = b
    row[4] = c
    row[5] = leg
    for k in range(events.shape[1] - EVENT_FIXED):
        row[EVENT_FIXED + k] = prices[k] if kind == EV_LIQUIDATED else 0.0
    return events, ne + 1


@_jit
def close(leg, size, price, time, fx, reason, exit_fee, has_fee, credit, acct, book, spec, conf, trades, nt):
    """Account._close."""
    current = book[B_POS, leg]
    held = abs(current)
    sign = 1.0 if current > 0 else -1.0
    ep = book[B_ENTRY, leg]
    if size >= held:
        efee = book[B_EFEE, leg]
        efee_run = book[B_EFEE_RUN, leg]
        funding = book[B_FUND, leg]
        funding_run = book[B_FUND_RUN, leg]
    else:
        share = size / held
        efee = book[B_EFEE, leg] * share
        efee_run = book[B_EFEE_RUN, leg] * share
        funding = book[B_FUND, leg] * share
        funding_run = book[B_FUND_RUN, leg] * share
    k = int(spec[S_KIND, leg])
    mult = spec[S_MULT, leg]
    if k == INVERSE:
        gross = sign * size * (1.0 / ep - 1.0 / price)
    elif k == QUANTO:
        gross = sign * ((price - ep) * mult * size)
    else:
        gross = sign * size * (price - ep)
    if not has_fee:
        exit_fee = notional(k, mult, size, price) * conf[C_FEE]
    acct[A_CASH] += (gross - exit_fee) * fx
    acct[A_FEES] += exit_fee * fx
    fee = efee + exit_fee
    if nt >= trades.shape[0]:
        grown = np.empty((trades.shape[0] * 2 + 16, TRADE_COLUMNS))
        grown[:nt] = trades[:nt]
        trades = grown
    row = trades[nt]
    row[0] = leg
    row[1] = sign
    row[2] = book[B_ETIME, leg]
    row[3] = ep
    row[4] = size
    row[5] = time
    row[6] = price
    row[7] = gross - fee - funding + credit / fx
    row[8] = fee
    row[9] = (gross - exit_fee) * fx - efee_run - funding_run + credit
    row[10] = reason
    row[11] = funding
    if size >= held:
        book[B_POS, leg] = 0.0
        book[B_EFEE, leg] = 0.0
        book[B_EFEE_RUN, leg] = 0.0
        book[B_FUND, leg] = 0.0
        book[B_FUND_RUN, leg] = 0.0
    else:
        book[B_POS, leg] = sign * (held - size)
        book[B_EFEE, leg] -= efee
        book[B_EFEE_RUN, leg] -= efee_run
        book[B_FUND, leg] -= funding
        book[B_FUND_RUN, leg] -= funding_run
    return trades, nt + 1


@_jit
def _open(leg, added, sign, price, time, fx, acct, book, spec, conf):
    current = book[B_POS, leg]
    k = int(spec[S_KIND, leg])
    fee = notional(k, spec[S_MULT, leg], added, price) * conf[C_FEE]
    acct[A_CASH] -= fee * fx
    acct[A_FEES] += fee * fx
    if current == 0.0:
        book[B_ENTRY, leg] = price
        book[B_ETIME, leg] = time
        book[B_EFEE, leg] = fee
        book[B_EFEE_RUN, leg] = fee * fx
    else:
        held = abs(current)
        old = book[B_ENTRY, leg]
        if k == INVERSE:
            book[B_ENTRY, leg] = (held + added) / (held / old + added / price)
        else:
            book[B_ENTRY, leg] = (held * old + added * price) / (held + added)
        book[B_EFEE, leg] += fee
        book[B_EFEE_RUN, leg] += fee * fx
    book[B_POS, leg] = sign * (abs(current) + added)


@_jit
def _skip(leg, wanted, time, prices, acct, book, spec, events, ne):
    acct[A_SKIPPED] += 1.0
    events, ne = _event(events, ne, EV_SKIPPED, time, wanted, 0.0, 0.0, leg, prices)
    if not _holding(book):
        acct[A_HALTED] = 1.0
        events, ne = _event(events, ne, EV_BROKE, time, equity(acct, book, spec, prices), 0.0, 0.0, 0, prices)
    return events, ne


@_jit
def _sized(sizing, target, price, fx, prices, k, mult, lot, acct, book, spec, conf):
    """Account._equity_size / _notional_size: the signed size a share of equity or a value is."""
    if sizing == EQUITY:
        share = abs(target)
        cost = notional(k, mult, 1.0, price) + notional(k, mult, share, price) * conf[C_FEE] / share
        if fx != 1.0:
            cost = cost * fx
        budget = _margin_available(acct, book, spec, conf, prices) * conf[C_LEV] * share
        if lot > 0.0:
            return math.copysign(((budget / lot) // cost) * lot, target)
        return math.copysign(budget / cost, target)
    value = abs(target)
    if k == INVERSE:
        units = value
    elif k == QUANTO:
        units = value / (price * mult)
    else:
        units = value / price
    if lot > 0.0:
        return math.copysign(math.floor(units / lot) * lot, target)
    return math.copysign(units, target)


@_jit
def fill(leg, target, old, open_price, time, prices, acct, book, spec, conf, trades, nt, events, ne):
    """Account.fill: the strategy's position of `leg` goes from `old` to `target`."""
    if acct[A_HALTED] != 0.0 or target == old:
        return trades, nt, events, ne
    sizing = int(conf[C_SIZING])
    current = book[B_POS, leg]
    if sizing == UNITS:
        if target == current:
            return trades, nt, events, ne
        buy = target > current
    else:
        buy = target > old
    if buy:
        price = open_price * (1.0 + conf[C_SLIP])
    else:
        price = open_price * (1.0 - conf[C_SLIP])
    fx = fx_of(spec, leg, prices)
    closing = current != 0.0 and (target == 0.0 or (target > 0.0) != (current > 0.0))
    if sizing != UNITS or closing:
        if current != 0.0:
            trades, nt = close(leg, abs(current), price, time, fx, REASON_SIGNAL, 0.0, False, 0.0, acct, book, spec,
                               conf, trades, nt)  # fmt: skip
            current = 0.0
        if target == 0.0:
            return trades, nt, events, ne
    k = int(spec[S_KIND, leg])
    mult = spec[S_MULT, leg]
    lot = spec[S_LOT, leg]
    if sizing == UNITS:
        size = target
        if abs(size) < abs(current):
            trades, nt = close(leg, abs(current) - abs(size), price, time, fx, REASON_SIGNAL, 0.0, False, 0.0, acct,
                               book, spec, conf, trades, nt)  # fmt: skip
            book[B_POS, leg] = size
            return trades, nt, events, ne
    else:
        size = _sized(sizing, target, price, fx, prices, k, mult, lot, acct, book, spec, conf)
    added = abs(size) - abs(current)
    if sizing != EQUITY:
        unit = notional(k, mult, 1.0, price) * (1.0 + conf[C_FEE])
        if fx != 1.0:
            unit = unit * fx
        budget = _margin_available(acct, book, spec, conf, prices) * conf[C_LEV]
        if not added * unit <= budget:
            if lot > 0.0:
                allowed = ((budget / lot) // unit) * lot
            else:
                allowed = budget / unit
            if allowed <= 0.0:
                events, ne = _skip(leg, added, time, prices, acct, book, spec, events, ne)
                added = 0.0
            else:
                acct[A_REDUCED] += 1.0
                events, ne = _event(events, ne, EV_REDUCED, time, added, allowed, 0.0, leg, prices)
                added = allowed
    if added <= 0.0:
        if sizing == EQUITY:
            events, ne = _skip(leg, abs(target), time, prices, acct, book, spec, events, ne)
        return trades, nt, events, ne
    _open(leg, added, 1.0 if target > 0.0 else -1.0, price, time, fx, acct, book, spec, conf)
    return trades, nt, events, ne


@_jit
def fund(i, frates, prices, acct, book, spec):
    """Account.fund at candle i's open."""
    for leg in range(book.shape[1]):
        current = book[B_POS, leg]
        rate = frates[leg, i]
        if current == 0.0 or rate == 0.0 or spec[S_FUNDON, leg] == 0.0:
            continue
        value = notional(int(spec[S_KIND, leg]), spec[S_MULT, leg], current, prices[leg])
        if current > 0.0:
            pay = rate * value
        else:
            pay = -(rate * value)
        fx = fx_of(spec, leg, prices)
        acct[A_CASH] -= pay * fx
        book[B_FUND, leg] += pay
        book[B_FUND_RUN, leg] += pay * fx
        acct[A_FUNDING] += pay * fx


@_jit
def _liquidation_price(kind, mult, q, entry, cash, m):
    if kind == INVERSE:
        return (q + m * abs(q)) / (cash + q / entry)
    if kind == QUANTO:
        return (mult * q * entry - cash) / (mult * (q - m * abs(q)))
    return (q * entry - cash) / (q - m * abs(q))


@_jit
def guard(acct, book, spec):
    """A single leg's liquidation price, to skip the full check on candles that stay well away
    from it (walk_chunk); NaN (always check) for pairs. Recomputed whenever cash or the
    position changes. The full check alone decides, so both paths decide alike."""
    if book.shape[1] != 1 or book[B_POS, 0] == 0.0:
        return np.nan
    return _liquidation_price(
        int(spec[S_KIND, 0]), spec[S_MULT, 0], book[B_POS, 0], book[B_ENTRY, 0], acct[A_CASH], spec[S_MM, 0]
    )


@_jit
def far_from(guard_price, q, low, high):
    """True when the candle's adverse extreme stays beyond a margin of the liquidation price
    (its equity there is surely above the maintenance margin)."""
    if q > 0.0:
        return low > guard_price * (1.0 + 1e-9)
    return guard_price <= 0.0 or high < guard_price * (1.0 - 1e-9)


@_jit
def liquidate_check(time, opens, highs, lows, acct, book, spec, conf, trades, nt, events, ne):
    """Account.check_liquidation over one candle (its opens, highs and lows per leg)."""
    legs = book.shape[1]
    if not _holding(book):
        return trades, nt, events, ne
    adverse = np.empty(legs)
    for leg in range(legs):
        p = book[B_POS, leg]
        if p > 0.0:
            adverse[leg] = lows[leg]
        elif p < 0.0:
            adverse[leg] = highs[leg]
        else:
            adverse[leg] = opens[leg]
    if equity(acct, book, spec, adverse) > _maintenance(book, spec, adverse):
        return trades, nt, events, ne
    before = equity(acct, book, spec, opens)
    prices = np.empty(legs)
    if before <= _maintenance(book, spec, opens):
        for leg in range(legs):
            prices[leg] = opens[leg]
    elif legs == 1:
        q = book[B_POS, 0]
        p = _liquidation_price(
            int(spec[S_KIND, 0]), spec[S_MULT, 0], q, book[B_ENTRY, 0], acct[A_CASH], spec[S_MM, 0]
        )
        if q > 0.0:
            lo, hi = adverse[0], opens[0]
        else:
            lo, hi = opens[0], adverse[0]
        p = max(p, lo)
        prices[0] = min(p, hi)
    else:
        lo_l, hi_l = 0.0, 1.0
        at = np.empty(legs)
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo_l + hi_l)
            for leg in range(legs):
                at[leg] = opens[leg] + mid * (adverse[leg] - opens[leg])
            if equity(acct, book, spec, at) > _maintenance(book, spec, at):
                lo_l = mid
            else:
                hi_l = mid
        for leg in range(legs):
            prices[leg] = opens[leg] + hi_l * (adverse[leg] - opens[leg])
    left = equity(acct, book, spec, prices)
    fee_run = max(left, 0.0)
    cover = max(-left, 0.0)
    weights = np.zeros(legs)
    total = 0.0
    for leg in range(legs):
        p = book[B_POS, leg]
        if p != 0.0:
            weights[leg] = notional(int(spec[S_KIND, leg]), spec[S_MULT, leg], p, prices[leg]) * fx_of(
                spec, leg, prices
            )
        total = total + weights[leg]
    for leg in range(legs):
        current = book[B_POS, leg]
        if current == 0.0:
            continue
        share = weights[leg] / total if total > 0.0 else 1.0
        fx = fx_of(spec, leg, prices)
        trades, nt = close(leg, abs(current), prices[leg], time, fx, REASON_LIQUIDATION, fee_run * share / fx, True,
                           cover * share, acct, book, spec, conf, trades, nt)  # fmt: skip
    acct[A_CASH] = 0.0
    acct[A_LIQ] += 1.0
    events, ne = _event(events, ne, EV_LIQUIDATED, time, before, 0.0, cover, 0, prices)
    acct[A_HALTED] = 1.0
    events, ne = _event(events, ne, EV_BROKE, time, 0.0, 0.0, 0.0, 0, prices)
    return trades, nt, events, ne
