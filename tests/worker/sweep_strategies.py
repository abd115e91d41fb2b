"""A user strategy package (STRATEGY_PACKAGES) whose runs take a while and never trade, so a
test can see a sweep's runs spread over processes, kill one of them, or stop the sweep."""

import time

from bots.strategies.base import Strategy


class PausingBot(Strategy):
    id = "PausingBot"
    name = "Pausing Bot"
    description = "Pauses on its first candle, then waits for the end"
    supported_types = ["backtest"]
    supported_markets = ["*"]
    default_params = {"pause": 0.5, "k": 1}
    param_schema = {
        "type": "object",
        "properties": {"pause": {"type": "number", "minimum": 0}, "k": {"type": "integer"}},
        "additionalProperties": False,
    }

    def on_candle(self, bar) -> None:
        if bar.i == 0:
            time.sleep(self.params["pause"])
