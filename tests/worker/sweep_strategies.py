"""A user strategy package (STRATEGY_PACKAGES) whose runs take a while and never trade, so a
test can see a sweep's runs spread over processes, kill one of them, or stop the sweep."""

import os
import time
from pathlib import Path

from bots.strategies.base import Strategy

MEET_SECONDS = 30  # how long a process's first run waits for a second process to meet it


class PausingBot(Strategy):
    id = "PausingBot"
    name = "Pausing Bot"
    description = "Pauses on its first candle (optionally until two processes meet), then waits"
    supported_types = ["backtest"]
    supported_markets = ["*"]
    default_params = {"pause": 0.5, "k": 1, "meet": ""}
    param_schema = {
        "type": "object",
        "properties": {
            "pause": {"type": "number", "minimum": 0},
            "k": {"type": "integer"},
            "meet": {"type": "string"},
        },
        "additionalProperties": False,
    }

    def on_candle(self, bar) -> None:
        if bar.i != 0:
            return
        if self.params["meet"]:
            # Each process computing a run signs in the folder; a run goes on once two have:
            # the runs of one sweep are then known to be computed by two processes at once
            # (without fan-out it waits MEET_SECONDS alone, and the test sees one pid).
            folder = Path(self.params["meet"])
            folder.mkdir(parents=True, exist_ok=True)
            signature = folder / str(os.getpid())
            if not signature.exists():  # a process waits on its first run only
                signature.touch()
                deadline = time.monotonic() + MEET_SECONDS
                while len(list(folder.iterdir())) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
        time.sleep(self.params["pause"])
