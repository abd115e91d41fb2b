from collections.abc import Sequence

import numpy as np

from bots.candles import Candles
from bots.indicators import rolling_mean_std
from bots.strategies.base import Rule, Strategy


class PairTradeBot(Strategy):
    """Statistical arbitrage on the log-price spread of two markets."""

    id = "PairTradeBot"
    name = "Pair Trade Bot"
    description = "Statistical arbitrage between two markets"
    supported_types = ["test", "backtest"]
    supported_markets = ["XBTUSD+ETHUSD", "XBTUSD+SOLUSD"]
    # A position within 1x of the default balance on every sim market it trades.
    default_params = {"spread_threshold": 2.0, "lookback": 100, "position_size": 1}
    legs = 2
    param_schema = {
        "type": "object",
        "properties": {
            "spread_threshold": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 100,
                "title": "Spread Threshold",
                "description": "Enter when the spread's z-score passes this many standard deviations.",
            },
            "lookback": {
                "type": "integer",
                "minimum": 2,
                "maximum": 100_000,
                "title": "Lookback",
                "description": "Candles in the spread's mean and standard deviation.",
            },
            "position_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1_000_000,
                "title": "Position Size",
                "description": "Size of each leg.",
            },
        },
        "required": ["spread_threshold", "lookback"],
        "additionalProperties": False,
    }

    def window(self) -> int:
        return int(self.params["lookback"])

    def precompute(self, legs: Sequence[Candles]) -> dict[str, np.ndarray]:
        """z-score of spread = ln(A) - ln(B) over `lookback` candles (0 when the spread is flat)."""
        spread = np.log(legs[0].close) - np.log(legs[1].close)
        mean, std = rolling_mean_std(spread, int(self.params["lookback"]))
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (spread - mean) / std
        z[std == 0] = 0.0
        return {"spread": spread, "z": z}

    def rules(self, ind, legs):
        z, threshold = ind["z"], float(self.params["spread_threshold"])
        size = float(self.params.get("position_size", self.default_params["position_size"]))
        flat, short_spread, long_spread = (0.0, 0.0), (-size, size), (size, -size)
        return [
            Rule(flat, z > threshold, short_spread),
            Rule(flat, z < -threshold, long_spread),
            Rule(short_spread, z <= 0, flat),  # z came down through 0
            Rule(long_spread, z >= 0, flat),  # z came up through 0
        ]
