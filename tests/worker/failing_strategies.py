"""A user strategy package (STRATEGY_PACKAGES) with a strategy that raises mid-run."""

from bots.strategies.base import Strategy
from bots.strategies.smacross import SmaCross


class ExplodingBot(Strategy):
    id = "ExplodingBot"
    name = "Exploding Bot"
    description = "Raises on its 30th candle"
    supported_types = ["backtest", "test"]
    supported_markets = ["*"]
    default_params = {"after": 30}
    param_schema = {
        "type": "object",
        "properties": {"after": {"type": "integer", "minimum": 1}},
        "additionalProperties": False,
    }

    def on_candle(self, bar) -> None:
        if bar.i + 1 >= self.params["after"]:
            raise RuntimeError(f"boom at candle {bar.i}")


class BrokenCrossBot(SmaCross):
    """SmaCross (rules, so a sweep computes it in grids) whose indicators raise when `broken`."""

    id = "BrokenCrossBot"
    name = "Broken Cross Bot"
    description = "SmaCross that raises computing its indicators when broken"
    default_params = {**SmaCross.default_params, "broken": False}
    param_schema = {
        **SmaCross.param_schema,
        "properties": {**SmaCross.param_schema["properties"], "broken": {"type": "boolean"}},
    }

    def precompute(self, legs):
        if self.params["broken"]:
            raise RuntimeError("broken indicators")
        return super().precompute(legs)


class OversizedBot(SmaCross):
    """SmaCross that sizes itself past what any parameter may say: 1e300 a trade."""

    id = "OversizedBot"
    name = "Oversized Bot"
    description = "SmaCross trading 1e300 contracts"

    def __init__(self, params):
        super().__init__(params)
        self.params = {**self.params, "position_size": 1e300}
