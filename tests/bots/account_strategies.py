"""Strategies for the account tests (margin parity, liquidation, funding).

Found through the registry's extra packages (RunConfig.strategy_packages), as user
strategies are.
"""

from __future__ import annotations

import numpy as np

from bots.strategies.base import Rule, Strategy
from bots.strategies.smacross import SmaCross


class SmaCrossPerCandle(SmaCross):
    """SmaCross called candle by candle: on_candle applies the rules, so uses_rules() is
    False and a backtest visits every candle with the rules paths' decisions."""

    id = "SmaCrossPerCandle"
    name = "SMA Cross, per candle"

    def on_candle(self, bar):
        super().on_candle(bar)


class EnterAt(Strategy):
    """As rules: from flat, go to `size` after each candle opening at a time of `at`; flat
    again after the candle opening at `exit` (0: never). Backtests take the rules paths."""

    id = "EnterAt"
    name = "Enter at"
    default_params = {"at": [], "size": 1, "exit": 0}
    param_schema = {"type": "object"}
    legs = 1

    def precompute(self, legs):
        return {"time": legs[0].time}

    def rules(self, ind, legs):
        size = float(self.params["size"])
        return [
            Rule((0.0,), np.isin(ind["time"], np.asarray(self.params["at"], dtype=np.int64)), (size,)),
            Rule((size,), ind["time"] == self.params["exit"], (0.0,)),
        ]
