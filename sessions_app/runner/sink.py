"""What the engine reports, recorded: the part every kind of session shares.

A runner hands the engine a sink (the `Sink` protocol of bots/runner.py). This base keeps the
session's log file, publishes live progress and metrics to the cache (best effort: a cache
error never fails a session), tells the engine when to stop (the stop flag, a takeover, the
worker's shutdown) and, called by the Monitor every second (`tick`), heartbeats. How trades,
events and the heartbeat reach the database is each kind's own: a live session's sink buffers
them through database outages (runner.live), a backtest's writes each run's trades as they come
(runner.sweep_sink).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache

from bots.metrics import bucket_size, downsample
from sessions_app import outages, selectors, services
from sessions_app.data_files import log_path
from sessions_app.models import Run, Session, Status, Trade
from sessions_app.outages import DATABASE_DOWN
from sessions_app.runner.worker import shutdown_requested
from sessions_app.selectors import equity_key, progress_key
from sessions_app.services.trades import TRADE_AMOUNT_LIMIT, trade_amounts_refuse, trade_values_check

log = logging.getLogger(__name__)
cache_log = logging.getLogger("sessions_app.cache")  # throttled: once a minute (settings)

HEARTBEAT_SECONDS = 3  # well inside STALE_AFTER_SECONDS (30 by default)
CACHE_SECONDS = 1.0  # live progress to the cache at most this often
METRIC_EVENT_SECONDS = 60  # a metric_update event at most this often
EQUITY_POINTS = 4000  # a live curve kept chart-sized, extremes kept


def cache_best_effort(call, *args, **kwargs):
    """A cache write must never fail a session: its error is logged, once a minute."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        cache_log.warning("Cache write failed (%s): %s", type(exc).__name__, exc)
        return None


def progress_forget(session: Session) -> None:
    """The session has ended: its live progress and curve leave the cache (the rows have them)."""
    cache_best_effort(cache.delete_many, [progress_key(session.pk), equity_key(session.pk)])


class SessionSink(ABC):
    """The engine's reports for one session in this process: log lines to its file, progress
    and metrics to the cache, trades to the subclass's `_trades_record`."""

    def __init__(self, session: Session, *, worker: str):
        self.session = session
        # Who computes the runs this sink records: a sweep's chunks run in other processes
        # than the one that claimed the session.
        self.worker = worker
        self.pid = os.getpid()
        self.run: Run | None = None
        self.stop_event = threading.Event()
        self.handback = False  # the worker shuts down: hand the session back, do not end it
        self.disowned = False  # another worker runs it now: write nothing more
        self.done = 0
        self.total: int | None = None
        self.trade_count = 0
        self.trades: list[tuple] = []  # rows as recorded, for the trades file
        self.metrics: dict[str, Any] = {}
        self.equity: list[list[float]] = []
        self.down_since: float | None = None  # when the current database outage began
        self.outages = 0  # database outages seen so far
        self._lock = threading.Lock()
        self._last_cache = 0.0
        self._last_beat = self._last_event = 0.0
        self.log_path = log_path(session.pk)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8", buffering=1)
        services.session_files_set(session=session, logs_file=str(self.log_path))

    # --- what each kind does its own way -----------------------------------------------------

    @abstractmethod
    def _trades_record(self, rows: list[tuple], trades) -> None:
        """Checked rows of newly reported trades (`trades` as the engine gave them), to write."""

    @abstractmethod
    def event(self, event_type: str, data: dict) -> None:
        """An event of the session's story."""

    @abstractmethod
    def heartbeat(self) -> None:
        """The runner is alive: stamp it, save progress, read the flags. Raises DATABASE_DOWN."""

    # --- the engine's Sink protocol ----------------------------------------------------------

    def should_stop(self) -> bool:
        if self.disowned:
            return True
        if shutdown_requested.is_set() and not self.stop_event.is_set():
            # From here on the engine's wind-down (closing the position at the last close) is
            # not recorded: the session goes on elsewhere from its last checkpoint.
            self.handback = True
            return True
        return self.stop_event.is_set()

    @property
    def frozen(self) -> bool:
        return self.handback or self.disowned

    def on_progress(self, done: int, total: int | None) -> None:
        if self.frozen:
            return
        with self._lock:
            self.done, self.total = done, total
        self._publish()

    def on_trades(self, trades) -> None:
        if not trades or self.run is None or self.frozen:
            return
        rows = self._trade_rows(trades)
        self._trades_record(rows, trades)
        self.trades.extend(rows)
        self.trade_count += len(rows)

    def on_equity(self, points: list) -> None:
        if self.frozen:
            return
        with self._lock:
            self.equity.extend([int(t), float(v)] for t, v in points)
            if len(self.equity) > EQUITY_POINTS:
                curve = np.asarray(self.equity)
                self.equity = [
                    [t, v]
                    for t, v in downsample(curve[:, 0].astype(np.int64), curve[:, 1], bucket_size(len(curve)))
                ]

    def on_log(self, line: str) -> None:
        self.log(line)

    def on_event(self, event_type: str, data: dict) -> None:
        """The engine's account events (liquidated; info: an order reduced or not placed, out
        of money) in the session's story, naming the run."""
        if self.frozen:
            return
        self.event(event_type, {**data, "run": self.run.config_hash if self.run is not None else None})

    def on_metrics(self, metrics: dict) -> None:
        if self.frozen:
            return
        with self._lock:
            self.metrics = dict(metrics)
        self._publish()

    # --- the monitor's call ------------------------------------------------------------------

    def tick(self) -> None:
        """Every second: the stop flag, so a stop is seen within a second. Every
        HEARTBEAT_SECONDS (every second while the database is down) the heartbeat instead,
        after a metric_update event at most every METRIC_EVENT_SECONDS. A database outage is
        noted, never raised."""
        now = time.monotonic()
        try:
            if self.down_since is None and now - self._last_beat < HEARTBEAT_SECONDS:
                self._flags_apply(selectors.session_flags(self.session.pk))
                return
            self._last_beat = now
            if self.metrics and now - self._last_event >= METRIC_EVENT_SECONDS:
                self._last_event = now
                self.event("metric_update", self.final_event_data())
            self.heartbeat()
        except DATABASE_DOWN as exc:
            self._database_down(exc)

    def _flags_apply(self, flags: tuple[str, bool] | None) -> None:
        """What a heartbeat answered: None when the session is no longer this worker's."""
        if flags is None:
            self.disowned = True
            self.stop_event.set()
            return
        status, stop = flags
        if stop or status != Status.RUNNING:
            self.stop_event.set()

    def _database_down(self, exc: Exception) -> None:
        outages.database_down_noted()
        outages.connection_reset()
        if self.down_since is None:
            self.outages += 1
            self.down_since = time.monotonic()
            self.log(f"Database unreachable ({type(exc).__name__}: {exc}); trades and events wait in memory")
            log.warning("Session %s: database unreachable, buffering (%s)", self.session.pk, exc)

    def _database_back(self, trades: int, events: int) -> None:
        if self.down_since is not None:
            seconds = time.monotonic() - self.down_since
            self.down_since = None
            self.log(
                f"Database back after {seconds:.1f} s: wrote {trades} trades and {events} events kept meanwhile"
            )
            log.warning("Session %s: database back after %.1f s", self.session.pk, seconds)

    # --- a run's story -----------------------------------------------------------------------

    def resumed_event(self) -> None:
        """Told once, when a worker takes up a session that ran before (handed back or lost)."""
        services.event_record(
            session=self.session, event_type="resumed", data={"worker": self.worker, "pid": self.pid}
        )
        self.log(f"Resumed on {self.worker}")

    def end_run(self, result, status: str) -> None:
        """The run's final results (everything up to a stop included) on its row and the session."""
        outages.until_database(
            lambda: services.session_results_save(
                session=self.session,
                run=self.run,
                metrics=result.metrics,
                equity=[[int(t), float(v)] for t, v in result.equity],
                status=status,
            ),
            what="the run's results",
        )
        self.metrics = result.metrics
        self.log(
            f"Run {self.run.config_hash} {status}: {result.metrics.get('trade_count', 0)} trades, "
            f"pnl {result.metrics.get('total_pnl', 0):.8g} {result.metrics.get('currency', '')}"
        )

    def final_event_data(self) -> dict[str, Any]:
        return {
            "trade_count": self.trade_count,
            "progress_done": self.done,
            "metrics": {k: v for k, v in self.metrics.items() if not isinstance(v, (list, dict))},
        }

    # --- plumbing ----------------------------------------------------------------------------

    def _trade_rows(self, trades) -> list[tuple]:
        """The trades as the table's rows, refused (TradeValueError) when an amount is one the
        table cannot keep."""
        if hasattr(trades, "columns"):  # the engine's TradeLog: rows from its columns, no records
            trade_amounts_refuse(trades.first_out_of_bounds(TRADE_AMOUNT_LIMIT))
            columns = trades.columns()
            fields = [columns[f] for f in Trade.VALUE_FIELDS]
            return list(zip(repeat(self.run.pk, len(trades)), *fields, strict=True))
        rows = [
            (
                self.run.pk,
                t.market,
                t.side,
                int(t.entry_time),
                float(t.entry_price),
                float(t.entry_size),
                int(t.exit_time) if t.exit_time is not None else None,
                _float(t.exit_price),
                _float(t.exit_size),
                float(t.realized_pnl),
                float(t.fee),
                t.exit_reason,
                float(t.funding),
            )
            for t in trades
        ]
        trade_amounts_refuse(trade_values_check(rows))
        return rows

    def progress(self) -> dict[str, Any]:
        with self._lock:
            done, total, metrics = self.done, self.total, dict(self.metrics)
        return {
            "done": done,
            "total": total,
            "percent": round(100 * done / total, 1) if total else None,
            "trade_count": metrics.get("trade_count", self.trade_count),
            "total_pnl": metrics.get("total_pnl", 0.0),
            "win_rate": metrics.get("win_rate", 0.0),
            "currency": metrics.get("currency"),
            "metrics": metrics,
            "updated_at": time.time(),
        }

    def _publish(self) -> None:
        now = time.monotonic()
        if now - self._last_cache < CACHE_SECONDS:
            return
        self._last_cache = now
        with self._lock:
            equity = list(self.equity)
        cache_best_effort(
            cache.set_many,
            {progress_key(self.session.pk): self.progress(), equity_key(self.session.pk): equity},
            timeout=settings.STALE_AFTER_SECONDS * 4,
        )

    def log(self, line: str) -> None:
        stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self._log.write(f"{stamp} {line}\n")

    def close(self) -> None:
        self._log.close()


def _float(value) -> float | None:
    return float(value) if value is not None else None
