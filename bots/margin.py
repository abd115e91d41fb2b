"""The account's arithmetic that is not a fill: how a leg's amounts convert into the run's
currency, where a position is liquidated, and the account's events as the sink hears them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bots.markets import MarketSpec, same_currency
from bots.trades import REASON_LIQUIDATION

# Engine events, as rows (kind, time, a, b, c, leg, price of each leg...): see event_dict.
EV_LIQUIDATED, EV_REDUCED, EV_SKIPPED, EV_BROKE = 1, 2, 3, 4
BISECTIONS = 60  # a pair's liquidation point: halvings of the way from open to the extremes


def fx_plan(markets: Sequence[MarketSpec]) -> list[tuple[int, bool] | None]:
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


def liquidation_price(spec: MarketSpec, q: float, entry: float, cash: float, m: float) -> float:
    """The price where a single position's equity equals its maintenance margin.

    Equity = cash + PnL(q, entry, p); maintenance = m x notional(q, p). Linear:
    p = (qE - C) / (q - m|q|); quanto: p = (mult qE - C) / (mult (q - m|q|)); inverse
    ($1 contracts, settled in the coin): p = (q + m|q|) / (C + q/E).
    """
    if spec.inverse:
        return (q + m * abs(q)) / (cash + q / entry)
    if spec.quanto:
        return (spec.multiplier * q * entry - cash) / (spec.multiplier * (q - m * abs(q)))
    return (q * entry - cash) / (q - m * abs(q))


def event_dict(row: Sequence[float], markets: Sequence[MarketSpec], currency: str) -> tuple[str, dict]:
    """An engine event row as (event type, data) for the sink's on_event."""
    kind, time, a, b, c, leg = row[:6]
    time = int(time)
    symbol = markets[int(leg)].symbol
    if kind == EV_LIQUIDATED:
        prices = {m.symbol: float(p) for m, p in zip(markets, row[6:], strict=False)}
        shown = ", ".join(f"{s} {p:.8g}" for s, p in prices.items())
        return "liquidated", {
            "time": time,
            "market": "+".join(m.symbol for m in markets),
            "price": prices,
            "equity_before": float(a),
            "equity_after": float(b),
            "insurance": float(c),
            "currency": currency,
            "message": f"Liquidated at {shown}: equity {float(a):.8g} -> {float(b):.8g} {currency}.",
        }
    if kind == EV_REDUCED:
        message = (
            f"order reduced: {symbol} {float(a):.8g} -> {float(b):.8g} (the margin available allows no more)"
        )
    elif kind == EV_SKIPPED:
        message = f"order not placed: {symbol} {float(a):.8g} (no margin available for one lot)"
    else:
        message = f"out of money: equity {float(a):.8g} {currency} cannot buy one lot; the run stops trading"
    return "info", {"time": time, "message": message}


def pair_point(account, opens, adverse) -> list[float]:
    """Where, on the way from the open to every leg's adverse extreme at once, equity meets
    the maintenance margin (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        at = [o + mid * (a - o) for o, a in zip(opens, adverse, strict=True)]
        if account.equity(at) > account.maintenance(at):
            lo = mid
        else:
            hi = mid
    return [o + hi * (a - o) for o, a in zip(opens, adverse, strict=True)]


def liquidate(account, prices: list[float], time: int, before: float) -> None:
    """Close everything at `prices`; what equity is left there is the liquidation fee, a
    shortfall is the insurance fund's. Then the account is out of money."""
    left = account.equity(prices)
    fee_run, cover = max(left, 0.0), max(-left, 0.0)
    weights = [
        account.markets[leg].notional(p, prices[leg]) * account.fx(leg, prices) if p != 0.0 else 0.0
        for leg, p in enumerate(account.pos)
    ]
    total = sum(weights)
    for leg, current in enumerate(account.pos):
        if current == 0.0:
            continue
        share = weights[leg] / total if total > 0.0 else 1.0
        fx = account.fx(leg, prices)
        account._close(
            leg,
            abs(current),
            prices[leg],
            time,
            fx,
            REASON_LIQUIDATION,
            fee_run * share / fx,
            cover * share,
        )
    account.cash = 0.0
    account.liquidations += 1
    account.events.append((EV_LIQUIDATED, time, before, 0.0, cover, 0, *prices))
    account.halted = True
    account.intent = [0.0] * len(account.pos)
    account.events.append((EV_BROKE, time, 0.0, 0.0, 0.0, 0))


def equity_series(
    account, snap_index: np.ndarray, snaps: list, closes: Sequence[np.ndarray], first: int
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
