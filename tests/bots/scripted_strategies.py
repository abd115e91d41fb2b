"""A strategy that follows a script of target positions, for the fill tests.

Found through the registry's extra packages (RunConfig.strategy_packages), as user
strategies are.
"""

from __future__ import annotations

from bots.strategies.base import Rule, Strategy


class Scripted(Strategy):
    """After the candle opening at time t closes, target the positions `plan[str(t)]`."""

    id = "Scripted"
    name = "Scripted"
    default_params = {"plan": {}}
    param_schema = {"type": "object", "properties": {"plan": {"type": "object"}}}
    legs = 1

    def on_candle(self, bar):
        sizes = self.params["plan"].get(str(bar.time))
        if sizes is not None:
            bar.set_targets(sizes if isinstance(sizes, list) else [sizes])


class ScriptedPair(Scripted):
    id = "ScriptedPair"
    name = "Scripted pair"
    legs = 2


class ScriptedRules(Strategy):
    """Long `size` after the candle opening at `enter` closes, flat after `exit`: as rules, so
    backtests take the compiled path."""

    id = "ScriptedRules"
    name = "Scripted rules"
    default_params = {"enter": 0, "exit": 0, "size": 1}
    param_schema = {"type": "object"}
    legs = 1

    def precompute(self, legs):
        return {"time": legs[0].time}

    def rules(self, ind, legs):
        size = float(self.params["size"])
        return [
            Rule((0.0,), ind["time"] == self.params["enter"], (size,)),
            Rule((size,), ind["time"] == self.params["exit"], (0.0,)),
        ]
