"""A strategy that decides candle by candle in Python (no rules): the slow backtest path."""

from __future__ import annotations

from bots.strategies.base import Strategy


class Slow(Strategy):
    id = "Slow"
    name = "Slow"
    default_params = {}
    param_schema = {"type": "object"}

    def window(self) -> int:
        return 3

    def on_candle(self, bar):
        if bar.i >= 2 and bar.legs[0].close[bar.i] > bar.legs[0].close[bar.i - 2]:
            bar.set_target(1.0)
        elif bar.i >= 2:
            bar.set_target(-1.0)
