"""Simulated fills and accounting: one cross-margin account per run, one net position per market.

Orders decided after candle i fill at candle i+1's open moved against the trader by
`slippage_bps` and pay `fee_bps` of the notional, so a strategy never trades at a price it
could not have had. Amounts are in each market's settle currency; the account (cash,
equity, metrics) is kept in the first market's settle currency, converting other legs at the
price of a leg that links the two currencies. Leverage, sizing, the margin an order may use,
funding and liquidation follow docs/engine.md ("Margin"); `bots.fast` mirrors every operation
here in the same order, so both paths give the very same floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bots.margin import (
    EV_BROKE,
    EV_LIQUIDATED,
    EV_REDUCED,
    EV_SKIPPED,
    equity_series,
    event_dict,
    fx_plan,
    liquidate,
    liquidation_price,
    pair_point,
)
from bots.markets import MarketSpec
from bots.trades import REASON_END, REASON_SIGNAL, REASONS, Trade, TradeLog

__all__ = ["EV_LIQUIDATED", "Account", "Trade", "TradeLog", "equity_series", "event_dict"]

UNITS, EQUITY, NOTIONAL = 0, 1, 2
SIZING_CODES = {"units": UNITS, "equity": EQUITY, "notional": NOTIONAL}


class Account:
    """Positions, cash and closed trades of one run; driven candle by candle or by fills.

    `intent` is what the strategy asked for (its positions in its own units: contracts, a
    share of equity, a value); `pos` is what the account holds after sizing and the margin
    check. Strategies and rules see the intent.
    """

    def __init__(
        self,
        markets: Sequence[MarketSpec],
        initial_balance: float,
        fee_bps: float,
        slippage_bps: float,
        *,
        leverage: float = 1.0,
        sizing: str = "units",
        maintenance: Sequence[float] | None = None,
        funding: Sequence[bool] | None = None,
    ):
        self.markets = list(markets)
        self.currency = self.markets[0].settle
        self.initial_balance = float(initial_balance)
        self.fee_rate = float(fee_bps) / 1e4
        self.slippage = float(slippage_bps) / 1e4
        self.leverage = float(leverage)
        self.sizing = SIZING_CODES[sizing]
        n = len(self.markets)
        self.mm = [float(x) for x in maintenance] if maintenance is not None else [0.0] * n
        self.funding_on = [bool(x) for x in funding] if funding is not None else [False] * n
        self.lot = [float(m.lot_size) for m in self.markets]
        self.cash = float(initial_balance)  # run currency; realized PnL, fees and funding included
        self.fees_paid = 0.0
        self.funding_paid = 0.0
        self.pos = [0.0] * n
        self.intent = [0.0] * n
        self.entry_price = [0.0] * n
        self.entry_time = [0] * n
        self.entry_fee = [0.0] * n  # leg currency, of the open part
        self.entry_fee_run = [0.0] * n  # the same in run currency, at the entry's rate
        self.fund_open = [0.0] * n  # funding paid by the open part, leg currency
        self.fund_open_run = [0.0] * n
        self.halted = False  # out of money: no further orders
        self.liquidations = 0
        self.reduced = 0
        self.skipped = 0
        self.events: list[tuple] = []
        self.trades = TradeLog([m.symbol for m in self.markets], [m.settle for m in self.markets])
        self.fx_plan = fx_plan(self.markets)

    @classmethod
    def for_config(cls, config) -> Account:
        """The account a RunConfig describes (bots.runners.config)."""
        return cls(
            config.markets,
            config.initial_balance,
            config.fee_bps,
            config.slippage_bps,
            leverage=config.leverage,
            sizing=config.sizing,
            maintenance=config.maintenance_margins(),
            funding=config.funding_legs(),
        )

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
        return tuple(self.intent)

    def holding(self) -> bool:
        return any(p != 0.0 for p in self.pos)

    def fill(self, leg: int, target: float, open_price: float, time: int, prices: Sequence[float]) -> None:
        """The strategy's position of `leg` becomes `target` (its units) with a market order
        at `open_price`: sized by the account's sizing, cut to the margin available."""
        target = float(target)
        if self.halted or target == self.intent[leg]:
            return
        old = self.intent[leg]
        self.intent[leg] = target
        current = self.pos[leg]
        if self.sizing == UNITS:
            if target == current:
                return
            buy = target > current
        else:
            buy = target > old
        price = open_price * (1.0 + self.slippage) if buy else open_price * (1.0 - self.slippage)
        fx = 1.0 if self.fx_plan[leg] is None else self.fx(leg, prices)
        closing = current != 0.0 and (target == 0.0 or (target > 0.0) != (current > 0.0))
        if self.sizing != UNITS or closing:
            if current != 0.0:  # a share or a value is sized afresh: the old position goes first
                self._close(leg, abs(current), price, time, fx)
                current = 0.0
            if target == 0.0:
                return
        if self.sizing == UNITS:
            size = target
            if abs(size) < abs(current):
                self._close(leg, abs(current) - abs(size), price, time, fx)
                self.pos[leg] = size  # exactly the target, whatever the subtraction rounded to
                return
        elif self.sizing == EQUITY:
            size = math.copysign(self._equity_size(leg, abs(target), price, fx, prices), target)
        else:
            size = math.copysign(self._notional_size(leg, abs(target), price), target)
        added = abs(size) - abs(current)
        if self.sizing != EQUITY:
            added = self._margin_cut(leg, added, price, fx, prices, time)
        if added <= 0.0:
            if self.sizing == EQUITY:
                self._skip(leg, abs(target), price, time, prices)
            return
        self._open(leg, added, price, time, fx)

    def _equity_size(self, leg: int, share: float, price: float, fx: float, prices) -> float:
        """floor(margin_available x leverage x share / (price x (1 + fee))) in lots, the cost per
        unit written as backtesting.py 0.6.6 writes it (price + commission(share) / share)."""
        spec = self.markets[leg]
        cost = spec.notional(1.0, price) + spec.notional(share, price) * self.fee_rate / share
        if fx != 1.0:
            cost = cost * fx
        budget = self.margin_available(prices) * self.leverage * share
        lot = self.lot[leg]
        if lot > 0.0:
            return ((budget / lot) // cost) * lot
        return budget / cost

    def _notional_size(self, leg: int, value: float, price: float) -> float:
        """The size worth `value` in the quote currency ($1 contracts for inverse markets, the
        settle currency for quanto ones), in whole lots."""
        spec = self.markets[leg]
        if spec.inverse:
            units = value
        elif spec.quanto:
            units = value / (price * spec.multiplier)
        else:
            units = value / price
        lot = self.lot[leg]
        return math.floor(units / lot) * lot if lot > 0.0 else units

    def _margin_cut(self, leg: int, added: float, price: float, fx: float, prices, time: int) -> float:
        """`added` units, or as many whole lots as the margin available allows (event)."""
        spec = self.markets[leg]
        unit = spec.notional(1.0, price) * (1.0 + self.fee_rate)
        if fx != 1.0:
            unit = unit * fx
        budget = self.margin_available(prices) * self.leverage
        if added * unit <= budget:
            return added
        lot = self.lot[leg]
        allowed = ((budget / lot) // unit) * lot if lot > 0.0 else budget / unit
        if allowed <= 0.0:
            self._skip(leg, added, price, time, prices)
            return 0.0
        self.reduced += 1
        self.events.append((EV_REDUCED, time, added, allowed, 0.0, leg))
        return allowed

    def _skip(self, leg: int, wanted: float, price: float, time: int, prices) -> None:
        """An order the margin allows none of: not placed; flat, the account is out of money."""
        self.skipped += 1
        self.events.append((EV_SKIPPED, time, wanted, 0.0, 0.0, leg))
        if not self.holding():
            self._broke(time, prices)

    def _broke(self, time: int, prices) -> None:
        self.halted = True
        self.intent = [0.0] * len(self.pos)
        self.events.append((EV_BROKE, time, self.equity(prices), 0.0, 0.0, 0))

    def _open(self, leg: int, added: float, price: float, time: int, fx: float) -> None:
        spec = self.markets[leg]
        current = self.pos[leg]
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
        sign = 1.0 if self.intent[leg] > 0.0 else -1.0
        self.pos[leg] = sign * (abs(current) + added)

    def _close(
        self,
        leg: int,
        size: float,
        price: float,
        time: int,
        fx: float,
        reason: int = REASON_SIGNAL,
        exit_fee: float | None = None,
        credit: float = 0.0,
    ) -> None:
        """Close `size` of leg's position at `price`. A liquidation gives its own exit fee (the
        liquidation fee) and `credit`, what the insurance fund covered (run currency)."""
        spec = self.markets[leg]
        current = self.pos[leg]
        held = abs(current)
        sign = 1.0 if current > 0 else -1.0
        entry_price = self.entry_price[leg]
        if size >= held:
            entry_fee, entry_fee_run = self.entry_fee[leg], self.entry_fee_run[leg]
            funding, funding_run = self.fund_open[leg], self.fund_open_run[leg]
        else:
            share = size / held
            entry_fee = self.entry_fee[leg] * share
            entry_fee_run = self.entry_fee_run[leg] * share
            funding = self.fund_open[leg] * share
            funding_run = self.fund_open_run[leg] * share
        if spec.inverse:
            gross = sign * size * (1.0 / entry_price - 1.0 / price)
        elif spec.quanto:
            gross = sign * ((price - entry_price) * spec.multiplier * size)
        else:
            gross = sign * size * (price - entry_price)
        if exit_fee is None:
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
                gross - fee - funding + credit / fx,
                fee,
                spec.settle,
                (gross - exit_fee) * fx - entry_fee_run - funding_run + credit,
                REASONS[reason],
                funding,
            )
        )
        if size >= held:
            self.pos[leg] = 0.0
            self.entry_fee[leg] = 0.0
            self.entry_fee_run[leg] = 0.0
            self.fund_open[leg] = 0.0
            self.fund_open_run[leg] = 0.0
        else:
            self.pos[leg] = sign * (held - size)
            self.entry_fee[leg] -= entry_fee
            self.entry_fee_run[leg] -= entry_fee_run
            self.fund_open[leg] -= funding
            self.fund_open_run[leg] -= funding_run

    def close_all(self, prices: Sequence[float], time: int) -> None:
        """Close every open position at `prices` (no slippage: the run's end, not an order)."""
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                self._close(leg, abs(current), prices[leg], time, self.fx(leg, prices), REASON_END)

    # -- margin, funding, liquidation ---------------------------------------------------------
    def margin_used(self, prices: Sequence[float]) -> float:
        used = 0.0
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                used = (
                    used
                    + self.markets[leg].notional(current, prices[leg]) * self.fx(leg, prices) / self.leverage
                )
        return used

    def margin_available(self, prices: Sequence[float]) -> float:
        """max(0, equity - margin used), both at `prices` (backtesting.py's rule)."""
        return max(0.0, self.equity(prices) - self.margin_used(prices))

    def maintenance(self, prices: Sequence[float]) -> float:
        total = 0.0
        for leg, current in enumerate(self.pos):
            if current != 0.0:
                total = total + self.mm[leg] * self.markets[leg].notional(current, prices[leg]) * self.fx(
                    leg, prices
                )
        return total

    def fund(self, rates: Sequence[float], prices: Sequence[float]) -> bool:
        """Each open perpetual position pays sign(size) x rate x notional at `prices` (the
        candle's open at a funding time). True when anything was paid."""
        paid = False
        for leg, current in enumerate(self.pos):
            rate = rates[leg]
            if current == 0.0 or rate == 0.0 or not self.funding_on[leg]:
                continue
            value = self.markets[leg].notional(current, prices[leg])
            pay = rate * value if current > 0.0 else -(rate * value)
            fx = self.fx(leg, prices)
            self.cash -= pay * fx
            self.fund_open[leg] += pay
            self.fund_open_run[leg] += pay * fx
            self.funding_paid += pay * fx
            paid = True
        return paid

    def check_liquidation(
        self, opens: Sequence[float], highs: Sequence[float], lows: Sequence[float], time: int
    ) -> bool:
        """Liquidate every position if equity at the candle's adverse extreme (low for a long,
        high for a short) is at or below the maintenance margin; True when it happened."""
        if not self.holding():
            return False
        adverse = [
            (lows[leg] if p > 0.0 else highs[leg]) if p != 0.0 else opens[leg]
            for leg, p in enumerate(self.pos)
        ]
        if self.equity(adverse) > self.maintenance(adverse):
            return False
        before = self.equity(opens)
        if before <= self.maintenance(opens):
            prices = list(opens)  # the candle opened beyond it
        elif len(self.pos) == 1:
            leg0 = self.pos[0]
            p = liquidation_price(self.markets[0], leg0, self.entry_price[0], self.cash, self.mm[0])
            lo, hi = (adverse[0], opens[0]) if leg0 > 0.0 else (opens[0], adverse[0])
            prices = [min(max(p, lo), hi)]
        else:
            prices = pair_point(self, opens, adverse)
        liquidate(self, prices, time, before)
        return True

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

    def figures(self) -> dict:
        """The account's own figures for the metrics (bots.metrics.compute_metrics)."""
        return {
            "funding_paid": self.funding_paid,
            "liquidations": self.liquidations,
            "out_of_money": self.halted,
            "orders_reduced": self.reduced,
            "orders_skipped": self.skipped,
            "leverage": self.leverage,
            "sizing": ("units", "equity", "notional")[self.sizing],
        }
