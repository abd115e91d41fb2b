from bots.strategies.base import Strategy


class TestBot(Strategy):
    """Range-position mean reversion over the last 20 candles (SPEC §5)."""

    __test__ = False  # not a pytest test class

    id = "TestBot"
    name = "Test Bot"
    description = "Simple test strategy for single market"
    supported_types = ["test", "backtest"]
    supported_markets = ["XBTUSD", "ETHUSD", "SOLUSD"]
    default_params = {"threshold": 0.5, "position_size": 100}
    param_schema = {
        "type": "object",
        "properties": {
            "threshold": {
                "type": "number", "minimum": 0, "maximum": 1, "title": "Threshold",
                "description": "Enter when the close sits this far from the middle of the 20-candle range (0..1).",
            },
            "position_size": {
                "type": "integer", "minimum": 1, "title": "Position Size",
                "description": "Contracts (inverse) or units of the base currency (linear) per trade.",
            },
        },
        "required": ["threshold", "position_size"],
        "additionalProperties": False,
    }
