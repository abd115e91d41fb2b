from collections.abc import Sequence
from typing import Any

import numpy as np

from bots.candles import Candles
from bots.indicators import shift, sma
from bots.strategies.base import Rule, Strategy


class SmaCross(Strategy):
    """Fast/slow simple moving average crossover, always in the market after the first cross."""

    id = "SmaCross"
    name = "SMA Cross"
    description = (
        "Textbook moving-average crossover: long when the fast SMA crosses above the slow, short when below"
    )
    supported_types = ["test", "backtest"]
    supported_markets = ["*"]
    # A position within 1x of the default balance on every sim market it trades.
    default_params = {"n1": 10, "n2": 20, "position_size": 0.05}
    param_schema = {
        "type": "object",
        "properties": {
            "n1": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100_000,
                "title": "Fast SMA",
                "description": "Candles in the fast average.",
            },
            "n2": {
                "type": "integer",
                "minimum": 2,
                "maximum": 100_000,
                "title": "Slow SMA",
                "description": "Candles in the slow average (more than n1).",
            },
            "position_size": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1_000_000,
                "title": "Position Size",
                "description": "Contracts (inverse) or units of the base currency (linear) per trade.",
            },
        },
        "required": ["n1", "n2", "position_size"],
        "additionalProperties": False,
    }

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, list[str]]:
        if params["n1"] >= params["n2"]:
            return {"n2": [f"Must be greater than n1 ({params['n1']})."]}
        return {}

    def window(self) -> int:
        return int(self.params["n2"]) + 1  # the previous slow SMA too

    def precompute(self, legs: Sequence[Candles]) -> dict[str, np.ndarray]:
        close = legs[0].close
        fast, slow = sma(close, int(self.params["n1"])), sma(close, int(self.params["n2"]))
        prev_fast, prev_slow = shift(fast), shift(slow)
        return {
            "fast": fast,
            "slow": slow,
            "cross_up": (prev_fast < prev_slow) & (fast > slow),
            "cross_down": (prev_fast > prev_slow) & (fast < slow),
        }

    def rules(self, ind, legs):
        size = float(self.params["position_size"])
        up, down = ind["cross_up"], ind["cross_down"]
        flat, long, short = (0.0,), (size,), (-size,)
        return [
            Rule(flat, up, long),
            Rule(flat, down, short),
            Rule(long, down, short),
            Rule(short, up, long),
        ]
