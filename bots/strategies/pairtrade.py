from bots.strategies.base import Strategy


class PairTradeBot(Strategy):
    """Statistical arbitrage on the log-price spread of two markets (SPEC §5)."""

    id = "PairTradeBot"
    name = "Pair Trade Bot"
    description = "Statistical arbitrage between two markets"
    supported_types = ["test", "backtest"]
    supported_markets = ["XBTUSD+ETHUSD", "XBTUSD+SOLUSD"]
    default_params = {"spread_threshold": 2.0, "lookback": 100, "position_size": 100}
    legs = 2
    param_schema = {
        "type": "object",
        "properties": {
            "spread_threshold": {
                "type": "number", "exclusiveMinimum": 0, "title": "Spread Threshold",
                "description": "Enter when the spread's z-score passes this many standard deviations.",
            },
            "lookback": {
                "type": "integer", "minimum": 2, "title": "Lookback",
                "description": "Candles in the spread's mean and standard deviation.",
            },
            "position_size": {
                "type": "integer", "minimum": 1, "title": "Position Size",
                "description": "Size of each leg.",
            },
        },
        "required": ["spread_threshold", "lookback"],
        "additionalProperties": False,
    }
