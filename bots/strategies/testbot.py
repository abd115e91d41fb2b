from collections.abc import Sequence

import numpy as np

from bots.candles import Candles
from bots.indicators import rolling_max, rolling_min
from bots.strategies.base import Rule, Strategy

RANGE_CANDLES = 20


class TestBot(Strategy):
    """Range-position mean reversion over the last 20 candles."""

    __test__ = False  # not a pytest test class

    id = "TestBot"
    name = "Test Bot"
    description = "Simple test strategy for single market"
    supported_types = ["test", "backtest"]
    supported_markets = ["XBTUSD", "ETHUSD", "SOLUSD"]
    # A position within 1x of the default balance on every sim market it trades.
    default_params = {"threshold": 0.5, "position_size": 1}
    param_schema = {
        "type": "object",
        "properties": {
            "threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "title": "Threshold",
                "description": "Enter when the close sits this far from the middle of the 20-candle range (0..1).",
            },
            "position_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1_000_000,
                "title": "Position Size",
                "description": "Contracts (inverse) or units of the base currency (linear) per trade.",
            },
        },
        "required": ["threshold", "position_size"],
        "additionalProperties": False,
    }

    def window(self) -> int:
        return RANGE_CANDLES

    def precompute(self, legs: Sequence[Candles]) -> dict[str, np.ndarray]:
        """s = 2*(close - lowest low)/(highest high - lowest low) - 1 over the last 20 candles."""
        leg = legs[0]
        highest = rolling_max(leg.high, RANGE_CANDLES)
        lowest = rolling_min(leg.low, RANGE_CANDLES)
        span = highest - lowest
        with np.errstate(invalid="ignore", divide="ignore"):
            s = 2.0 * (leg.close - lowest) / span - 1.0
        s[span == 0] = 0.0
        return {"s": s}

    def rules(self, ind, legs):
        s, threshold, size = ind["s"], float(self.params["threshold"]), float(self.params["position_size"])
        flat, long, short = (0.0,), (size,), (-size,)
        return [
            Rule(flat, s <= -threshold, long),
            Rule(flat, s >= threshold, short),
            Rule(long, s >= 0, flat),
            Rule(short, s <= 0, flat),
        ]
