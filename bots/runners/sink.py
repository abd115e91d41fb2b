"""What a runner reports to (a Sink) and what it returns (a Result)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bots.simulator import Trade


class Sink(Protocol):
    """Where a runner reports; implemented by the Django task (and by tests)."""

    def on_trades(self, trades: Sequence[Trade]) -> None: ...
    def on_equity(self, points: list[tuple[int, float]]) -> None: ...
    def on_log(self, line: str) -> None: ...
    def on_progress(self, done: int, total: int | None) -> None: ...
    def on_metrics(self, metrics: dict[str, Any]) -> None: ...
    def should_stop(self) -> bool: ...

    # Optional (live runner): `on_checkpoint(state)` after each report, with the state to resume
    # from (see bots.runners.live); a sink without it is simply not told.


class NullSink:
    """A sink nobody listens to: every report is dropped, it never asks to stop."""

    def on_trades(self, trades: Sequence[Trade]) -> None:
        pass

    def on_equity(self, points: list[tuple[int, float]]) -> None:
        pass

    def on_log(self, line: str) -> None:
        pass

    def on_progress(self, done: int, total: int | None) -> None:
        pass

    def on_metrics(self, metrics: dict[str, Any]) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class ListSink:
    """A sink that keeps everything it is told; stops when `stop_when(self)` is true."""

    def __init__(self, stop_when: Callable[[ListSink], bool] | None = None):
        self.trades: list[Trade] = []
        self.equity: list[tuple[int, float]] = []
        self.logs: list[str] = []
        self.progress: list[tuple[int, int | None]] = []
        self.metrics: list[dict[str, Any]] = []
        self.stop_checks = 0
        self.stop_when = stop_when
        self.checkpoints: list[dict[str, Any]] = []

    def on_trades(self, trades: list[Trade]) -> None:
        self.trades.extend(trades)

    def on_equity(self, points: list[tuple[int, float]]) -> None:
        self.equity.extend(points)

    def on_log(self, line: str) -> None:
        self.logs.append(line)

    def on_progress(self, done: int, total: int | None) -> None:
        self.progress.append((done, total))

    def on_metrics(self, metrics: dict[str, Any]) -> None:
        self.metrics.append(metrics)

    def on_checkpoint(self, state: dict[str, Any]) -> None:
        self.checkpoints.append(state)

    def should_stop(self) -> bool:
        self.stop_checks += 1
        return bool(self.stop_when and self.stop_when(self))


@dataclass
class Result:
    trades: list[Trade]
    metrics: dict[str, Any]
    equity: list[tuple[int, float]]  # downsampled (<= ~2,000 points), (time, equity)
    stopped: bool
    candles: int  # candles processed
    currency: str
    first_time: int | None = None
    last_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
