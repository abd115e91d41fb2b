"""A user strategy package (STRATEGY_PACKAGES) with a strategy that raises mid-run."""

from bots.strategies.base import Strategy


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
