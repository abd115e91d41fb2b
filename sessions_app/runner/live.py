"""Live sessions (test: paper trading; scraper: recording the feed) on a worker.

A live session's trades, events, heartbeat and checkpoint are written together
(services.session_progress_write); while the database is down they wait in memory and go
out, in order and once, when it is back. On the worker's warm shutdown the session is handed
back (event `suspended`) and any worker resumes it, a test session from its checkpoint,
replaying the candles it missed. See docs/operations.md.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from bots import runner as engine
from bots.candles import timeframe_seconds
from bots.strategies.registry import get_strategy
from sessions_app import selectors, services
from sessions_app.models import Run, Session, Status
from sessions_app.outages import DATABASE_DOWN, connection_reset, until_database
from sessions_app.runner.inputs import market_specs, run_config
from sessions_app.runner.monitor import Monitor
from sessions_app.runner.sink import HEARTBEAT_SECONDS, SessionSink, progress_forget
from sessions_app.runner.worker import DISOWNED, SUSPENDED
from sessions_app.services.trades import trades_file_write
from strategies_app.market_data import exchange_get


class LiveSink(SessionSink):
    """A live session's reports. Its trades, events, checkpoint and heartbeat wait in memory
    and go to the database together (`flush`), after each trade and every heartbeat; a write
    the database refuses stays queued, in order, for the next try."""

    def __init__(self, session: Session, *, worker: str):
        super().__init__(session, worker=worker)
        # Rows and events not yet in the database, the newest checkpoint and how many of the
        # rows and events it counts (a flush writes no trade without it).
        self._write_lock = threading.Lock()
        self._pending_trades: list[tuple] = []
        self._pending_events: list[tuple[str, dict, Any]] = []
        self._checkpoint: dict | None = None
        self._mark = (0, 0)
        self._last_write = time.monotonic()
        self._thread_seen = threading.local()  # the outages each writing thread has reset after

    def _trades_record(self, rows: list[tuple], trades) -> None:
        now = timezone.now()
        with self._lock:
            self._pending_trades.extend(rows)
            # A live session's story tells each trade (the engine logs each one).
            self._pending_events.extend(("trade", _trade_dict(trade), now) for trade in trades)

    def on_checkpoint(self, state: dict[str, Any]) -> None:
        """The live runner's state after a report: written with the trades it counts, at once
        after a trade, else at least every heartbeat."""
        if self.frozen:
            return
        with self._lock:
            self._checkpoint = state
            self._mark = (len(self._pending_trades), len(self._pending_events))
            due = bool(self._pending_trades) or time.monotonic() - self._last_write >= HEARTBEAT_SECONDS
        if due and self.down_since is None:
            self.flush()

    def event(self, event_type: str, data: dict) -> None:
        """Queued with the trades, in order, for the next flush."""
        with self._lock:
            self._pending_events.append((event_type, data, timezone.now()))

    def heartbeat(self) -> None:
        self.flush()

    def flush(self, *, final: bool = False) -> bool:
        """Write what waits (up to the newest checkpoint; everything when `final`) in one
        transaction. False while the database is down: it all stays queued. Raises the
        database's error only when `final` (the caller waits it out)."""
        if self.disowned or self.run is None:
            return True
        with self._write_lock:
            # The engine's thread and the monitor's both write, each on its own connection:
            # after an outage one thread saw, the other's connection is as dead (a first write
            # failing on it would count as an outage of its own), so it is dropped first.
            if getattr(self._thread_seen, "outages", 0) != self.outages:
                connection_reset()
                self._thread_seen.outages = self.outages
            with self._lock:
                n_trades, n_events = (
                    (len(self._pending_trades), len(self._pending_events)) if final else self._mark
                )
                if not final:  # events queued after the checkpoint (metric updates) go too
                    n_events = (
                        len(self._pending_events) if n_trades == len(self._pending_trades) else n_events
                    )
                trades = self._pending_trades[:n_trades]
                events = self._pending_events[:n_events]
                checkpoint = self._checkpoint
                metrics = dict(self.metrics) or None
                done, total = self.done, self.total
            try:
                flags = services.session_progress_write(
                    session=self.session,
                    run=self.run,
                    worker=self.worker,
                    trades=trades,
                    events=events,
                    checkpoint=checkpoint,
                    metrics=metrics,
                    progress_done=done,
                    progress_total=total,
                )
            except DATABASE_DOWN as exc:
                self._database_down(exc)
                if final:
                    raise
                return False
            with self._lock:
                del self._pending_trades[:n_trades]
                del self._pending_events[:n_events]
                self._mark = (self._mark[0] - n_trades, max(0, self._mark[1] - n_events))
                if self._checkpoint is checkpoint:
                    self._checkpoint = None
                self._last_write = time.monotonic()
            self._database_back(len(trades), len(events))
            self._flags_apply(flags)
            return True

    def begin_run(self, run: Run, *, resumed: bool) -> None:
        until_database(
            lambda: services.run_begin(run=run, worker=self.worker, pid=self.pid, resumed=resumed),
            what="the run's start",
        )
        self.run = run
        if not resumed:
            self.equity, self.metrics = [], {}

    def resume_from(self, rows: list[tuple], checkpoint: dict) -> None:
        """A live run going on from `checkpoint`: its trades so far and its curve."""
        self.trades = list(rows)
        self.trade_count = len(rows)
        self.equity = [list(point) for point in checkpoint.get("equity", [])]
        self.done = int(checkpoint.get("candles", 0))

    def write_trades_file(self) -> None:
        """`trades_<id>.json`, written once at the end from what was recorded (no second read
        of the table)."""
        until_database(
            lambda: trades_file_write(session=self.session, rows=self.trades), what="the trades file"
        )


class LiveRunner(ABC):
    """Runs a claimed live session until it stops. A kind says how the engine runs
    (`_engine`) and, when it can, how it goes on from where it was (`_resume`)."""

    def __init__(self, session: Session, *, worker: str):
        self.session, self.worker = session, worker

    def execute(self) -> str | None:
        """The final status, or SUSPENDED (handed back on this worker's shutdown), or None
        (taken over by another worker meanwhile)."""
        session, worker = self.session, self.worker
        self.sink = sink = LiveSink(session, worker=worker)
        monitor = Monitor(sink)
        monitor.start()
        error, data = None, None
        try:
            sink.log(
                f"Started {session.type} {session.strategy} on {session.exchange}:{session.market} "
                f"({session.timeframe}) on {worker}"
            )
            status = self._run()
        except Exception as exc:  # the strategy's or the data's fault: the session fails, the worker lives
            status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"
            summary = traceback.format_exc(limit=8)
            sink.log(f"ERROR {error}\n{summary}")
            data = {"traceback": summary[-4000:]}
        finally:
            monitor.stop()
        if sink.disowned:
            status = DISOWNED
        if status == DISOWNED:
            sink.log("Taken over by another worker: this one stops, writing nothing more.")
        elif status == SUSPENDED:
            # Everything up to the last checkpoint, then the hand-back: any worker resumes it.
            until_database(lambda: sink.flush(final=True), what="the last checkpoint")
            until_database(
                lambda: services.session_suspend(session=session, worker=worker), what="the hand-back"
            )
            sink.log(f"Suspended on {worker}'s shutdown; any worker resumes it from its checkpoint.")
        else:
            self._finish(status, error, data)
        sink.close()
        if status not in (SUSPENDED, DISOWNED):
            progress_forget(session)
        close_old_connections()
        return None if status == DISOWNED else status

    def _run(self) -> str:
        """The session's run with the engine until it stops: Status.STOPPED (a live run has
        no natural end, reaching range_end included), or SUSPENDED, or DISOWNED."""
        session, sink = self.session, self.sink
        markets = market_specs(session)
        runs = list(session.runs.order_by("id"))
        resumed = any(run.worker for run in runs)  # it ran before: handed back or its worker lost
        if resumed:
            sink.resumed_event()
        run = runs[0]
        feed_start = self._resume(run, markets)
        config = run_config(session, run, markets)
        if feed_start is None:
            feed_start = self._fresh_start(config)
        sink.begin_run(run, resumed=resumed)
        feed = exchange_get(session.exchange).live(
            [m.symbol for m in markets], session.timeframe, start=feed_start
        )
        result = self._engine(config, feed)
        if sink.handback or sink.disowned:
            return DISOWNED if sink.disowned else SUSPENDED
        sink.end_run(result, Status.STOPPED)
        sink.write_trades_file()
        return Status.STOPPED

    def _resume(self, run: Run, markets: list) -> int | None:
        """Before the run starts again: the time the feed starts from (None: not resumed)."""
        return None

    def _fresh_start(self, config: engine.RunConfig) -> int | None:
        """A run that does not resume: the time the feed starts from (None: from now)."""
        return None

    @abstractmethod
    def _engine(self, config: engine.RunConfig, feed) -> engine.Result:
        """The engine's run of `config` on the live feed, reporting to self.sink."""

    def _finish(self, status: str, error: str | None, data: dict | None) -> None:
        """The final writes, each waiting out a database outage: what the runner still holds,
        the final progress, then the final status (a short run may end before any heartbeat)."""
        session, sink = self.session, self.sink
        until_database(lambda: sink.flush(final=True), what="the last trades")
        until_database(
            lambda: services.session_heartbeat(
                session_id=session.pk, progress_done=sink.done, progress_total=sink.total, worker=self.worker
            ),
            what="the final progress",
        )
        until_database(
            lambda: services.session_finish(
                session=session,
                status=status,
                error=error,
                data=data if status == Status.FAILED else sink.final_event_data(),
                worker=self.worker,
            ),
            what="the final status",
        )


class PaperRunner(LiveRunner):
    """A test session: the strategy paper-trades the live feed. Resumed from its checkpoint,
    it replays the candles it missed and makes the trades it would have made."""

    resume: dict | None = None
    resume_trades: list | None = None
    trade_from: int | None = None  # the first live candle's open; the feed's earlier ones warm up

    def _resume(self, run: Run, markets: list) -> int | None:
        if not run.checkpoint:
            return None
        self.resume = run.checkpoint
        services.run_resume(run=run, checkpoint=self.resume)
        rows = selectors.run_trade_rows(run=run)
        self.resume_trades = selectors.engine_trades(rows)
        self.sink.resume_from(rows, self.resume)
        # The feed catches up from the candle after the checkpoint: the missed ones replay.
        return self.resume["last_time"] + timeframe_seconds(self.session.timeframe)

    def _fresh_start(self, config: engine.RunConfig) -> int:
        """The strategy's startup_candles before the first live candle: the feed catches up on
        them at once, the engine fills the strategy's window with them (no trade), and the
        strategy can trade on its first closed live candle."""
        tf = timeframe_seconds(config.timeframe)
        first = math.ceil(time.time() / tf) * tf  # the next candle to open
        if config.range_start is not None:
            first = max(first, -(-int(config.range_start) // tf) * tf)
        warmup = int(get_strategy(config.strategy, config.strategy_packages)(config.params).startup_candles())
        self.trade_from = first
        if warmup:
            self.sink.log(
                f"Warm-up: the {warmup} {config.timeframe} candles before the first live candle "
                f"({_iso(first)}) are fetched first; trading starts with it."
            )
        return first - warmup * tf

    def _engine(self, config: engine.RunConfig, feed) -> engine.Result:
        return engine.run_live(
            config,
            feed,
            self.sink,
            resume=self.resume,
            resume_trades=self.resume_trades,
            trade_from=self.trade_from,
            # The exchange's rates, asked at each funding time (sim's are computed by the engine).
            funding=None if config.exchange == "sim" else exchange_get(config.exchange),
        )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def _trade_dict(trade) -> dict[str, Any]:
    return {
        "market": trade.market,
        "side": trade.side,
        "entry_time": int(trade.entry_time),
        "entry_price": float(trade.entry_price),
        "exit_time": trade.exit_time,
        "exit_price": float(trade.exit_price) if trade.exit_price is not None else None,
        "realized_pnl": float(trade.realized_pnl),
    }
