"""Built-in strategies called candle by candle, for the parity tests of the per-candle path.

Found through the registry's extra packages (RunConfig.strategy_packages), as user
strategies are. Each applies its parent's rules from on_candle, so uses_rules() is False and
a backtest visits every candle with the same decisions as the rules paths.
"""

from __future__ import annotations

from bots.strategies.smacross import SmaCross


class SmaCrossPerCandle(SmaCross):
    id = "SmaCrossPerCandle"
    name = "SMA Cross, per candle"

    def on_candle(self, bar):
        super().on_candle(bar)
