from typing import Any

from bots.strategies.base import Strategy


class SmaCross(Strategy):
    """Fast/slow simple moving average crossover, always in the market after the first cross."""

    id = "SmaCross"
    name = "SMA Cross"
    description = "Textbook moving-average crossover: long when the fast SMA crosses above the slow, short when below"
    supported_types = ["test", "backtest"]
    supported_markets = ["*"]
    default_params = {"n1": 10, "n2": 20, "position_size": 1}
    param_schema = {
        "type": "object",
        "properties": {
            "n1": {"type": "integer", "minimum": 1, "title": "Fast SMA", "description": "Candles in the fast average."},
            "n2": {"type": "integer", "minimum": 2, "title": "Slow SMA", "description": "Candles in the slow average (more than n1)."},
            "position_size": {
                "type": "number", "exclusiveMinimum": 0, "title": "Position Size",
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
