"""A study's windows: walk-forward folds (rolling or anchored train windows, each
followed by its test window) and the holdout. See docs/research.md.

Rolling walk-forward with k folds and a train share p: every train window is p / (1 - p)
test windows long, and the k test windows follow each other to the end of the range, so their
stitched curve is the out-of-sample history of the last k / (k + p / (1 - p)) of the range.
Anchored folds train from the range's start instead. All edges fall on candle opens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    phase: str  # "train" | "test" | "holdout"
    fold: int | None
    start: int
    end: int  # exclusive

    def candles(self, tf: int) -> int:
        return (self.end - self.start) // tf


def _align(t: float, start: int, tf: int) -> int:
    return start + int(round((t - start) / tf)) * tf


def walk_forward(
    start: int, end: int, tf: int, *, folds: int, train_pct: float, anchored: bool
) -> list[tuple[Window, Window]]:
    """The (train, test) windows of each fold, in order."""
    ratio = train_pct / (100.0 - train_pct)
    test_len = (end - start) / (folds + ratio)
    first_test = start + ratio * test_len
    edges = [_align(first_test + i * test_len, start, tf) for i in range(folds)] + [end]
    span = edges[0] - start  # a rolling train window's length: the first fold's
    out = []
    for i in range(folds):
        test_start, test_end = edges[i], edges[i + 1]
        train_start = start if anchored else test_start - span
        out.append((Window("train", i, train_start, test_start), Window("test", i, test_start, test_end)))
    return out


def holdout(start: int, end: int, tf: int, *, pct: float) -> tuple[Window, Window]:
    """The window the optimiser sees and the last `pct` % it never sees."""
    cut = _align(end - (end - start) * pct / 100.0, start, tf)
    return Window("train", None, start, cut), Window("holdout", None, cut, end)
